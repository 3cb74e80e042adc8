"""The HTTP side: Bolt's /slack/events with our health routes beside it, run until a signal."""

from __future__ import annotations

import asyncio
import contextlib
import logging
import signal
from collections.abc import Awaitable, Callable

from aiohttp import web
from slack_bolt.async_app import AsyncApp

from bot.runtime import Runtime
from jobs.scheduler import Jobs, replica_id
from jobs.scheduler import start as start_scheduler
from storage import db

log = logging.getLogger("hypobot.server")

SHUTDOWN_GRACE_S = 10.0
MAX_BODY = 1024 * 1024


async def healthz(_: web.Request) -> web.Response:
    return web.json_response({"ok": True})


async def readyz(_: web.Request) -> web.Response:
    if await db.ping():
        return web.json_response({"ok": True, "database": "reachable"})
    return web.json_response({"ok": False, "database": "unreachable"}, status=503)


@web.middleware
async def refuse_garbage(
    request: web.Request, handler: Callable[[web.Request], Awaitable[web.StreamResponse]]
) -> web.StreamResponse:
    """Bodies Slack would never send get a 4xx, not a 500 from deep inside Bolt."""
    if request.method == "POST":
        if request.content_length and request.content_length > MAX_BODY:
            return web.json_response({"error": "body too large"}, status=413)
        try:
            (await request.read()).decode("utf-8")
        except UnicodeDecodeError:
            return web.json_response({"error": "body is not UTF-8"}, status=400)
    return await handler(request)


def web_app(app: AsyncApp) -> web.Application:
    """Bolt's aiohttp application (POST /slack/events) plus /healthz and /readyz."""
    application = app.web_app(path="/slack/events")
    application.middlewares.append(refuse_garbage)
    application.router.add_get("/healthz", healthz)
    application.router.add_get("/readyz", readyz)
    return application


async def serve(
    app: AsyncApp, runtime: Runtime, *, host: str, port: int, ready: asyncio.Event | None = None
) -> None:
    """Serve HTTP (and Socket Mode when an app token is set) until SIGTERM or SIGINT."""
    settings = runtime.settings
    await runtime.warm_up()
    runner = web.AppRunner(web_app(app), shutdown_timeout=SHUTDOWN_GRACE_S, access_log=None)
    await runner.setup()
    site = web.TCPSite(runner, host, port)
    await site.start()
    socket_mode = None
    if settings.slack_app_token is not None:
        from slack_bolt.adapter.socket_mode.async_handler import AsyncSocketModeHandler

        socket_mode = AsyncSocketModeHandler(app, settings.slack_app_token.get_secret_value())
        await socket_mode.connect_async()
    stop = asyncio.Event()
    loop = asyncio.get_running_loop()
    for signum in (signal.SIGTERM, signal.SIGINT):
        with contextlib.suppress(NotImplementedError):
            loop.add_signal_handler(signum, stop.set)
    scheduler = None
    if settings.hypobot_scheduler == "on":
        jobs = Jobs(runtime.courier, clock=runtime.service.clock, owner=replica_id())
        scheduler = start_scheduler(jobs)
    log.info(
        "server.started",
        extra={"host": host, "port": port, "socket_mode": socket_mode is not None},
    )
    if ready is not None:
        ready.set()
    await stop.wait()
    log.info("server.stopping")
    if scheduler is not None:
        scheduler.shutdown(wait=False)
    if socket_mode is not None:
        await socket_mode.close_async()
    # aiohttp stops accepting, then waits up to shutdown_timeout for in-flight requests.
    await runner.cleanup()
    await runtime.courier.drain()
    log.info("server.stopped")
