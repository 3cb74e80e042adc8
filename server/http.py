"""The HTTP side: Bolt's /slack/events with the API, health and metrics routes beside it,
every request observed (request id, access log, metrics) and bodies Slack would never send
refused before Bolt chokes on them."""

from __future__ import annotations

import logging
import time
import uuid
from collections.abc import Awaitable, Callable
from typing import Any
from urllib.parse import unquote_plus

from aiohttp import web
from slack_bolt.async_app import AsyncApp
from slack_bolt.request.internals import parse_body

from api import PREFIX as API_PREFIX
from ops import logs, metrics
from outbox import rows as outbox_store
from server.backlog import Backlog
from storage import db

log = logging.getLogger("hypobot.server")
access_log = logging.getLogger("hypobot.access")

SLACK_PATH = "/slack/events"
MAX_BODY = 1024 * 1024
# Probes and scrapes that succeed are logged at DEBUG, so they do not drown the rest.
QUIET_PATHS = frozenset({"/healthz", "/readyz", "/metrics"})
# On the request: what Slack sent (command, action, view, event, other), once read.
KIND: web.RequestKey[str] = web.RequestKey("slack_kind", str)


async def healthz(_: web.Request) -> web.Response:
    return web.json_response({"ok": True})


async def readyz(_: web.Request) -> web.Response:
    if await db.ping():
        return web.json_response({"ok": True, "database": "reachable"})
    return web.json_response({"ok": False, "database": "unreachable"}, status=503)


async def metrics_page(_: web.Request) -> web.Response:
    """Prometheus text format. No Slack signature and no token: serve it on a private network
    only (the compose file's proxy refuses /metrics from outside)."""
    await metrics.refresh(outbox_store.counts_by_status)
    return web.Response(body=metrics.exposition(), headers={"Content-Type": metrics.CONTENT_TYPE})


def _retry_num(request: web.Request) -> dict[str, str]:
    """Slack's X-Slack-Retry-Num (1–3), when it is one: a retried delivery is worth seeing."""
    retry = request.headers.get("X-Slack-Retry-Num", "")
    return {"slack_retry_num": retry} if retry.isdigit() and len(retry) <= 3 else {}


@web.middleware
async def observe(
    request: web.Request, handler: Callable[[web.Request], Awaitable[web.StreamResponse]]
) -> web.StreamResponse:
    """A request id on every log line written while handling the request (and by the work it
    starts after the ack), one access-log line, and the request and ack-latency metrics.
    Outermost, so refusals by the middlewares inside are observed too."""
    started = time.perf_counter()
    request_id = uuid.uuid4().hex
    status = 500
    with logs.bound(request_id=request_id, **_retry_num(request)):
        try:
            response = await handler(request)
            status = response.status
            response.headers["X-Request-Id"] = request_id
            return response
        except web.HTTPException as error:
            status = error.status
            raise
        finally:
            seconds = time.perf_counter() - started
            kind = request.get(KIND, "other")  # set by refuse_garbage, which reads it
            if request.path == SLACK_PATH:
                metrics.slack_request(kind, status, seconds)
            quiet = request.path in QUIET_PATHS and status < 400
            access_log.log(
                logging.DEBUG if quiet else logging.INFO,
                "http.request",
                extra={
                    "method": request.method,
                    "path": request.path,  # never the query string: OAuth codes travel there
                    "status": status,
                    "duration_ms": round(seconds * 1000, 1),
                    "kind": kind,
                },
            )


def _counted(backlog: Backlog) -> Callable[..., Awaitable[web.StreamResponse]]:
    @web.middleware
    async def count(
        request: web.Request, handler: Callable[[web.Request], Awaitable[web.StreamResponse]]
    ) -> web.StreamResponse:
        if request.path != SLACK_PATH:
            return await handler(request)
        ticket = backlog.arrived()
        try:
            return await handler(request)  # returns once the listener has acked
        finally:
            backlog.responded(ticket)

    return count


@web.middleware
async def refuse_garbage(
    request: web.Request, handler: Callable[[web.Request], Awaitable[web.StreamResponse]]
) -> web.StreamResponse:
    """Bodies Slack would never send get a 4xx, not a 500 from deep inside Bolt. (The HTTP
    API under /api/ checks its own bodies, and answers in its own shape.)"""
    if request.method == "POST" and not request.path.startswith(API_PREFIX + "/"):
        if request.content_length and request.content_length > MAX_BODY:
            return web.json_response({"error": "body too large"}, status=413)
        try:
            body = (await request.read()).decode("utf-8")
        except UnicodeDecodeError:
            return web.json_response({"error": "body is not UTF-8"}, status=400)
        if request.path == SLACK_PATH:
            kind = _slack_kind(body, request.content_type)
            if kind is None:
                return web.json_response({"error": "body is not a Slack payload"}, status=400)
            request[KIND] = kind
        try:
            return await handler(request)
        except (ValueError, TypeError, AttributeError, KeyError) as error:
            # Bolt's parsing and routing (before any listener) choke on shapes Slack never
            # sends; listeners' own errors never get here (Bolt catches those).
            log.warning("request.unparseable", extra={"error_type": type(error).__name__})
            return web.json_response({"error": "body is not a Slack payload"}, status=400)
    return await handler(request)


def _slack_kind(body: str, content_type: str) -> str | None:
    """What Slack sent (command, action, view, event, other), or None for a body Bolt would
    choke on. A plain form (a slash command) is checked by its field names alone: Bolt
    reads every field of one as a string, so only `event`, `view` or `actions` fields
    could misshape it, and its text need not be decoded twice."""
    if content_type != "application/json" and not body.startswith("{") and "payload" not in body:
        names = {_field_name(field) for field in body.split("&")}
        if names & {"event", "view", "actions"}:
            return None
        return "command" if "command" in names else "other"
    parsed = _parses_like_slack(body, content_type)
    return None if parsed is None else metrics.parsed_kind(parsed, content_type)


def _field_name(field: str) -> str:
    name = field.split("=", 1)[0]
    return unquote_plus(name) if "%" in name or "+" in name else name


def _parses_like_slack(body: str, content_type: str) -> dict[str, Any] | None:
    """Bolt's own body parser must give an object shaped as Slack sends them: `type` a
    string, `event` and `view` objects with a string `type`, `actions` a non-empty list of
    objects. Bolt's routing assumes these shapes and answers 500 when they are otherwise.
    The parsed body when it does, else None."""
    try:
        parsed = parse_body(body, content_type)
    except (ValueError, RecursionError):
        return None
    if not isinstance(parsed, dict) or not isinstance(parsed.get("type", ""), str):
        return None
    for key in ("event", "view"):
        part = parsed.get(key, {"type": ""})
        if not isinstance(part, dict) or not isinstance(part.get("type"), str):
            return None
    if not isinstance(parsed.get("view", {}).get("callback_id", ""), str):
        return None
    actions = parsed.get("actions", [{}])
    if not (isinstance(actions, list) and actions and all(isinstance(a, dict) for a in actions)):
        return None
    return parsed


def web_app(app: AsyncApp, backlog: Backlog, api: web.Application | None = None) -> web.Application:
    """Bolt's aiohttp application (POST /slack/events) plus /healthz, /readyz and /metrics;
    `backlog` counts the Slack requests waiting for their ack. `api` (api's application)
    is mounted at /api/v1: bearer tokens there, Slack signatures only on /slack/*."""
    application = app.web_app(path=SLACK_PATH)
    application.middlewares.insert(0, observe)
    application.middlewares.insert(1, _counted(backlog))
    application.middlewares.append(refuse_garbage)
    application.router.add_get("/healthz", healthz)
    application.router.add_get("/readyz", readyz)
    application.router.add_get("/metrics", metrics_page)
    if api is not None:
        application.add_subapp(API_PREFIX, api)
    return application
