"""Slack requests this process has received and not yet acknowledged.

Slack gives each request 3 seconds to be acknowledged, and a slash command's answer can
follow through its response_url for 30 minutes. So when a burst arrives, a command that
finds other requests waiting acknowledges at once and does its work after theirs: acks
first, answers right after, instead of every request waiting behind every command's
database work.
"""

from __future__ import annotations

import asyncio
import contextlib
import time
from collections.abc import AsyncIterator

MOST_DEFER_S = 1.0  # under sustained load, work waits no longer than this for a lull
AT_ONCE = 2  # deferred commands working at a time (each start waits for a lull)
QUIET_S = 0.02  # a lull: no request waiting for its ack, and none arrived for this long


class Backlog:
    def __init__(self) -> None:
        self.unacked = 0
        self._lull = asyncio.Event()
        self._lull.set()
        self._working = asyncio.Semaphore(AT_ONCE)
        self._last_arrival = 0.0

    def arrived(self) -> None:
        self.unacked += 1
        self._last_arrival = time.monotonic()
        self._lull.clear()

    def answered(self) -> None:
        self.unacked -= 1
        if self.unacked <= 0:
            self.unacked = 0
            self._lull.set()

    def others_waiting(self) -> bool:
        """Requests besides the caller's own are waiting for their ack."""
        return self.unacked > 1

    @contextlib.asynccontextmanager
    async def after_acks(self, most_s: float = MOST_DEFER_S) -> AsyncIterator[None]:
        """Hold deferred work until no request is waiting for its ack, a few at a time, so
        that work released by a lull does not all compete with the next arrivals' acks.
        Under sustained load a command waits for a lull no longer than `most_s`."""
        deadline = time.monotonic() + most_s
        async with self._working:
            while (left := deadline - time.monotonic()) > 0:
                with contextlib.suppress(TimeoutError):
                    await asyncio.wait_for(self._lull.wait(), left)
                quiet_for = time.monotonic() - self._last_arrival
                if self._lull.is_set() and quiet_for >= QUIET_S:
                    break
                await asyncio.sleep(max(0.0, min(QUIET_S - quiet_for, left)))
            yield
