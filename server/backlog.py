"""Slack requests this process has received and not yet acknowledged, and the answers it
owes them.

A command answers in its ack when the answer is ready within its budget, as a hand-written
bot does (bot/listeners/commands/hypothesis.py); what can wait longer than an answer (the
outbox's cards for a burst of new bets) waits until the burst's acks and answers are out,
or MOST_DEFER_S under sustained load, so that the people typing are answered first.

(Until December 2026 a command that found other requests waiting acked at once and
answered through its response_url once their acks were out: the acks were faster, the
answers a second trip slower. Measured side by side in bench/README.md.)
"""

from __future__ import annotations

import asyncio
import contextlib
from collections.abc import AsyncIterator, Callable
from contextvars import ContextVar

MOST_DEFER_S = 1.0  # under sustained load, work waits no longer than this for the answers


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
        self.unacked = 0  # requests whose listener has not acked or taken up its answer
        self.owed = 0  # commands working out the answer their ack (or response_url) gives
        self._when_idle: list[Callable[[], None]] = []

    def arrived(self) -> Ticket:
        """A request came in (and is handled in the caller's context)."""
        ticket = Ticket()
        _TICKET.set(ticket)
        self.unacked += 1
        return ticket

    def acked(self, ticket: Ticket | None = None) -> None:
        """The request's listener has acked, or taken up the answer it owes (`owing`); and,
        for every request, its response has gone. Counted once."""
        ticket = ticket or _TICKET.get()
        if ticket is None or ticket.acked:
            return
        ticket.acked = True
        self.unacked = max(0, self.unacked - 1)
        self._maybe_idle()

    def responded(self, ticket: Ticket) -> None:
        """The request's response has gone."""
        self.acked(ticket)

    def idle(self) -> bool:
        """No request waits for its ack, and no command for its answer."""
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

    @contextlib.asynccontextmanager
    async def owing(self) -> AsyncIterator[None]:
        """A command's answer is owed until the block ends (what waits for `when_idle`
        waits for it too)."""
        self.owed += 1
        try:
            yield
        finally:
            self.owed -= 1
            self._maybe_idle()
