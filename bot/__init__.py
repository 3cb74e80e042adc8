"""The Slack edge: app factory, settings, listeners, Block Kit, the `/hypothesis` grammar, CLI."""
