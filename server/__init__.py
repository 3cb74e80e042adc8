"""The running process: HTTP (Slack's endpoint, the API, health and metrics), the backlog of
requests not yet acked, start-up and graceful shutdown."""
