"""The HTTP API (/api/v1): evidence and moves from dashboards, experiment platforms and CI,
through the same use cases as the slash command. `application(ctx, settings)` is mounted
beside /slack/events by server/http.py."""

from api.routes import PREFIX, application

__all__ = ["PREFIX", "application"]
