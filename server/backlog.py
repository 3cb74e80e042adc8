"""Slack requests this process has received and not yet acknowledged, and the answers it
owes after acknowledging.

Slack gives each request 3 seconds to be acknowledged, and a slash command's answer can
follow through its response_url for 30 minutes. So when a burst arrives, a command that
finds other requests waiting acknowledges at once and does its work once their acks are
out: acks first, answers right after, instead of every request waiting behind every
command's database work. Held commands then go WORKING_AT_ONCE at a time (the database
queues them anyway: SQLite writes one transaction at a time, PostgreSQL's pool lends 10
connections), each taking its turn only while no request waits for its ack: a request
that arrives while answers are being worked out waits behind at most that many, not
behind the whole burst's. What can wait longer than an answer (the outbox's cards) waits
until the answers are out.
"""

from __future__ import annotations

import asyncio
import contextlib
import time
from collections.abc import AsyncIterator, Callable
from contextvars import ContextVar

MOST_DEFER_S = 1.0  # under sustained load, work waits no longer than this for the acks
QUIET_S = 0.02  # the acks are out: none is waiting, and no request arrived for this long
WORKING_AT_ONCE = 20  # held commands worked on at a time


class Ticket:
    """One Slack request waiting for its ack."""

    __slots__ = ("acked",)

    def __init__(self) -> None:
        self.acked = False


# The request being handled, for its listener (Bolt runs it in a task that copies the
# context of the request's handler).
_TICKET: ContextVar[Ticket | None] = ContextVar("hypobot_backlog_ticket", default=None)


class Backlog:
    def __init__(self) -> None:
        self.unacked = 0  # requests holding back held work (see `acked`)
        self.in_flight = 0  # requests whose response has not gone yet
        self.owed = 0  # commands acked whose answer is still being worked out
        self._acked = asyncio.Event()
        self._acked.set()
        # Open while no request waits for its ack and none has arrived for QUIET_S: one
        # keeper watches for that (`_keep_gate`), and held work waits on the gate alone, so
        # a burst's arrivals wake one task, not every held command.
        self._gate = asyncio.Event()
        self._gate.set()
        self._keeper: asyncio.Task[None] | None = None
        self._last_arrival = 0.0
        self._turns = asyncio.Semaphore(WORKING_AT_ONCE)
        self._when_idle: list[Callable[[], None]] = []

    def arrived(self) -> Ticket:
        """A request came in (and is handled in the caller's context)."""
        ticket = Ticket()
        _TICKET.set(ticket)
        self.in_flight += 1
        self.unacked += 1
        self._last_arrival = time.monotonic()
        self._acked.clear()
        self._gate.clear()
        if self._keeper is None or self._keeper.done():
            self._keeper = asyncio.get_running_loop().create_task(self._keep_gate())
        return ticket

    async def _keep_gate(self) -> None:
        """Open the gate once the acks are out and no request has arrived for QUIET_S."""
        while True:
            await self._acked.wait()
            quiet_for = time.monotonic() - self._last_arrival
            if quiet_for >= QUIET_S and self._acked.is_set():
                self._gate.set()
                return
            await asyncio.sleep(QUIET_S - quiet_for)  # acked, not yet quiet for long enough

    def acked(self, ticket: Ticket | None = None) -> None:
        """The request no longer holds back held work: its listener has acked (the response
        is written a little later, after Bolt's next look at it), or is working out the
        answer it will give in the ack; and, for every request, its response has gone.
        Counted once."""
        ticket = ticket or _TICKET.get()
        if ticket is None or ticket.acked:
            return
        ticket.acked = True
        self.unacked -= 1
        if self.unacked <= 0:
            self.unacked = 0
            self._acked.set()
            self._maybe_idle()

    def idle(self) -> bool:
        """No request waits for its ack, and no acked command for its answer."""
        return self.unacked == 0 and self.owed == 0

    def when_idle(self, then: Callable[[], None]) -> None:
        """Call `then` now if idle, else once the acks and the answers owed are out, or
        MOST_DEFER_S after the first such wish under sustained load (once, however often
        it is asked for meanwhile): work that can wait for them, such as starting the
        outbox's senders for the cards a burst queued."""
        if self.idle():
            then()
            return
        if not self._when_idle:  # under sustained load, no later than MOST_DEFER_S
            asyncio.get_running_loop().call_later(MOST_DEFER_S, self._run_waiting)
        if then not in self._when_idle:
            self._when_idle.append(then)

    def _maybe_idle(self) -> None:
        if self._when_idle and self.idle():
            self._run_waiting()

    def _run_waiting(self) -> None:
        waiting, self._when_idle = self._when_idle, []
        for then in waiting:
            then()

    def responded(self, ticket: Ticket) -> None:
        """The request's response has gone."""
        self.in_flight = max(0, self.in_flight - 1)
        self.acked(ticket)

    def others_waiting(self) -> bool:
        """Requests besides the caller's own are waiting for their response."""
        return self.in_flight > 1

    @contextlib.asynccontextmanager
    async def owing(self) -> AsyncIterator[None]:
        """An acked command's answer is owed until the block ends (what waits for
        `when_idle` waits for it too)."""
        self.owed += 1
        try:
            yield
        finally:
            self.owed -= 1
            self._maybe_idle()

    @contextlib.asynccontextmanager
    async def turn(self, most_s: float = MOST_DEFER_S) -> AsyncIterator[None]:
        """Hold an acked command's work until one of WORKING_AT_ONCE turns is free and then
        the acks are out (`acks_out`); the turn is given back when the block ends."""
        async with self._turns:
            # The turn is taken; the acks that came meanwhile still go first.
            await self.acks_out(most_s)
            yield

    async def acks_out(self, most_s: float = MOST_DEFER_S) -> None:
        """Return once no request waits for its ack and none has arrived for QUIET_S, or
        after `most_s` under sustained load."""
        if self._gate.is_set():
            return
        with contextlib.suppress(TimeoutError):
            async with asyncio.timeout(most_s):
                await self._gate.wait()
