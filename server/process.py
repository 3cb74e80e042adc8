"""One Hypobot process: the sender, the Slack edge (Bolt app and listeners), the HTTP API and
the backlog of requests not yet acked, wired once (as `hypobot serve`, the console and the
tests run them); serving it until a signal, and shutting it down gracefully."""

from __future__ import annotations

import asyncio
import contextlib
import gc
import logging
import signal
import time
from collections.abc import Callable
from dataclasses import dataclass
from datetime import UTC, datetime

from aiohttp import web
from apscheduler.schedulers.asyncio import AsyncIOScheduler
from slack_bolt.async_app import AsyncApp

from api import application as api_application
from bot.app import build
from bot.renderers import ON_FAILED, RENDERERS
from bot.runtime import Runtime
from ops.settings import Settings
from outbox.clients import SlackClients
from outbox.queue import DOORBELL
from outbox.sender import from_settings
from server.backlog import Backlog
from server.http import web_app
from storage import db

log = logging.getLogger("hypobot.server")

# On SIGTERM: in-flight requests get this long (Slack wants an answer within 3 s anyway) …
REQUEST_GRACE_S = 5.0
# … then the work they started after their ack, and a running scheduled pass, get this long.
# At worst (aiohttp waits twice for a stuck handler) that is 2×5 + 15 = 25 s: inside the 30 s
# stop timeout docker-compose.yml sets.
WORK_GRACE_S = 15.0
GC_YOUNG_THRESHOLD = 50_000  # allocations between young collections (Python's default: 700)


def _now() -> datetime:
    return datetime.now(UTC)


@dataclass
class Process:
    app: AsyncApp  # Bolt: /slack/events
    runtime: Runtime  # what the listeners share; `runtime.sender` delivers the outbox
    backlog: Backlog

    def web_app(self) -> web.Application:
        """Slack's endpoint with /healthz, /readyz, /metrics and the API beside it."""
        api = api_application(self.runtime.answers.context, self.runtime.settings)
        return web_app(self.app, self.backlog, api)


def assemble(
    settings: Settings,
    *,
    clock: Callable[[], datetime] = _now,
    clients: SlackClients | None = None,
) -> Process:
    """The process's parts, wired: rows queued in any unit of work ring the sender once
    committed, and it starts when the acks and answers people wait for are out."""
    backlog = Backlog()
    sender = from_settings(
        settings, renderers=RENDERERS, on_failed=ON_FAILED, clock=clock, clients=clients
    )
    sender.hear(DOORBELL, when=backlog.when_idle)
    app, runtime = build(settings, sender=sender, backlog=backlog, clock=clock)
    return Process(app, runtime, backlog)


def _freeze_start_up_objects() -> None:
    """Start-up made hundreds of thousands of objects that live as long as the process
    (modules, models, Bolt's listeners). Move them out of the garbage collector's sight:
    otherwise a full collection during a burst of requests scans them all, for tens of
    milliseconds, while every request waits for its ack (bench/README.md). And collect the
    young generation less often: a request's short-lived objects mostly die before then."""
    gc.collect()
    gc.freeze()
    gc.set_threshold(GC_YOUNG_THRESHOLD, 20, 10)


async def serve(
    process: Process,
    *,
    host: str,
    port: int,
    ready: asyncio.Event | None = None,
    start_jobs: Callable[[], AsyncIOScheduler] | None = None,
    replica: str = "",
) -> None:
    """Serve HTTP (and Socket Mode when an app token is set) until SIGTERM or SIGINT, then
    shut down gracefully (see `shut_down`). `start_jobs` starts the scheduler (the caller
    decides whether this process runs it); the scheduler is paused and stopped first."""
    app, runtime = process.app, process.runtime
    settings = runtime.settings
    await runtime.warm_up()
    _freeze_start_up_objects()
    runner = web.AppRunner(
        process.web_app(),
        shutdown_timeout=REQUEST_GRACE_S,
        access_log=None,
    )
    await runner.setup()
    site = web.TCPSite(runner, host, port)
    await site.start()
    socket_mode = None
    if settings.slack_app_token is not None:
        from slack_bolt.adapter.socket_mode.async_handler import AsyncSocketModeHandler

        socket_mode = AsyncSocketModeHandler(app, settings.slack_app_token.get_secret_value())
        await socket_mode.connect_async()
    received: list[str] = []
    stop = asyncio.Event()
    loop = asyncio.get_running_loop()
    for signum in (signal.SIGTERM, signal.SIGINT):
        with contextlib.suppress(NotImplementedError):
            loop.add_signal_handler(signum, _on_signal, signum, received, stop)
    scheduler = start_jobs() if start_jobs is not None else None
    log.info(
        "server.started",
        extra={
            "host": host,
            "port": port,
            "socket_mode": socket_mode is not None,
            "scheduler": scheduler is not None,
            "replica": replica,
        },
    )
    if ready is not None:
        ready.set()
    await stop.wait()
    await shut_down(
        runner,
        runtime,
        scheduler=scheduler,
        socket_mode=socket_mode,
        signal_name=received[0] if received else "",
    )


def _on_signal(signum: int, received: list[str], stop: asyncio.Event) -> None:
    received.append(signal.Signals(signum).name)
    stop.set()


async def shut_down(
    runner: web.AppRunner,
    runtime: Runtime,
    *,
    scheduler: AsyncIOScheduler | None,
    socket_mode: object | None,
    signal_name: str = "",
) -> None:
    """Stop taking work, finish what is under way (bounded), put back what was not sent,
    close the database. Each step is logged. (A scheduled run cut short leaves nothing:
    its claim commits with its messages, so another replica simply does it.)"""
    began = time.perf_counter()
    log.info("shutdown.started", extra={"signal": signal_name})
    if scheduler is not None:
        scheduler.pause()  # no new passes; a running one goes on
    if socket_mode is not None:
        await socket_mode.close_async()  # type: ignore[attr-defined]
        log.info("shutdown.socket_mode_closed")
    # aiohttp closes the listening socket, then gives in-flight requests REQUEST_GRACE_S.
    await runner.cleanup()
    log.info("shutdown.http_stopped", extra={"elapsed_s": _since(began)})
    unfinished = await _finish_background_work(WORK_GRACE_S)
    log.info("shutdown.work_finished", extra={"unfinished": unfinished, "elapsed_s": _since(began)})
    if scheduler is not None:
        scheduler.shutdown(wait=False)  # cancels a pass still running after the grace
        await asyncio.sleep(0)
        log.info("shutdown.scheduler_stopped")
    await runtime.close()  # what the grace did not see out goes back to the outbox
    log.info("shutdown.sender_stopped")
    await db.disconnect()
    log.info("shutdown.database_closed")
    log.info("server.stopped", extra={"elapsed_s": _since(began)})


async def _finish_background_work(timeout: float) -> int:
    """Wait, up to `timeout`, for every other task of this loop: what listeners do after their
    ack (Bolt runs it as a task), deliveries they kicked off, a running scheduled pass.
    Returns how many were still running when the time was up."""
    loop = asyncio.get_running_loop()
    deadline = loop.time() + timeout
    current = asyncio.current_task()
    while True:
        pending = {task for task in asyncio.all_tasks() if task is not current}
        remaining = deadline - loop.time()
        if not pending or remaining <= 0:
            return len(pending)
        await asyncio.wait(pending, timeout=remaining)


def _since(began: float) -> float:
    return round(time.perf_counter() - began, 3)
