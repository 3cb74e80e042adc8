"""When jobs run. APScheduler only decides *when* to run a pass; what is due, and who runs
it, is decided in the database (claims), so replicas never need to share a job store."""

from __future__ import annotations

import logging
import os
import socket
import time
import uuid
from collections.abc import Awaitable, Callable
from datetime import UTC, datetime
from typing import Any

from apscheduler.schedulers.asyncio import AsyncIOScheduler

from jobs import digests, nudges
from ops import metrics
from outbox.sender import DeliveryReport, Sender

log = logging.getLogger("hypobot.scheduler")

# name -> seconds between passes
INTERVALS = {"nudges": 300, "digests": 60, "outbox": 2}


def replica_id() -> str:
    """Who holds a claim: host, process, and a nonce for restarts reusing a pid."""
    return f"{socket.gethostname()}:{os.getpid()}:{uuid.uuid4().hex[:6]}"


class Jobs:
    """The passes a replica runs. A pass starts delivering each channel's messages as soon
    as they are queued, and returns once everything it queued has been delivered (or put
    back for a later try)."""

    def __init__(self, sender: Sender, *, clock: Callable[[], datetime], owner: str) -> None:
        self.sender = sender
        self.clock = clock
        self.owner = owner

    async def nudges(self, now: datetime) -> dict[str, Any]:
        before = self.sender.background.copy()
        report = await nudges.run(now, owner=self.owner)
        return {**vars(report), "outbox": await self._delivered(now, before)}

    async def digests(self, now: datetime) -> dict[str, Any]:
        before = self.sender.background.copy()
        report = await digests.run(now, owner=self.owner)
        return {**vars(report), "outbox": await self._delivered(now, before)}

    async def _delivered(self, now: datetime, before: DeliveryReport) -> dict[str, Any]:
        """What went out while the pass ran and after (background deliveries from commands
        at the same time included), once it has all been delivered."""
        await self.sender.drain()
        rest = await self.sender.deliver(now=now)  # anything the doorbell did not ring for
        return vars(self.sender.background.since(before).plus(rest))

    async def outbox(self, now: datetime) -> dict[str, Any]:
        return vars(await self.sender.deliver(now=now))

    def by_name(self) -> dict[str, Callable[[datetime], Awaitable[dict[str, Any]]]]:
        return {"nudges": self.nudges, "digests": self.digests, "outbox": self.outbox}

    async def run(self, name: str, now: datetime | None = None) -> dict[str, Any]:
        return await self.by_name()[name](now or self.clock())


def start(jobs: Jobs) -> AsyncIOScheduler:
    """Run every pass on its interval in this process (one at a time per job)."""
    scheduler = AsyncIOScheduler(
        timezone=UTC,
        job_defaults={"coalesce": True, "max_instances": 1, "misfire_grace_time": 30},
    )
    for name, seconds in INTERVALS.items():
        scheduler.add_job(
            _logged(jobs, name),
            "interval",
            seconds=seconds,
            id=name,
            name=name,
            next_run_time=datetime.now(UTC),
        )
    scheduler.start()
    log.info("scheduler.started", extra={"jobs": ",".join(INTERVALS)})
    return scheduler


def _logged(jobs: Jobs, name: str) -> Callable[[], Awaitable[None]]:
    async def run() -> None:
        started = time.monotonic()
        try:
            summary = await jobs.run(name)
        except Exception as error:
            metrics.job_ran(name, "error", time.monotonic() - started)
            log.error(
                "job.failed",
                extra={"job": name, "error_type": type(error).__name__},
                exc_info=error,
            )
            return
        metrics.job_ran(name, "ok", time.monotonic() - started)
        if name != "outbox" or summary.get("sent") or summary.get("failed"):
            log.info("job.ran", extra={"job": name, "summary": summary})

    return run
