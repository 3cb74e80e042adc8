"""The backlog: what can wait for the people typing (a burst's cards) waits until their
acks and answers are out, or MOST_DEFER_S under sustained load; a request counts once
however many times its ack is reported."""

from __future__ import annotations

import asyncio
import contextvars

import pytest

from server import backlog as backlog_module
from server.backlog import Backlog


async def test_a_request_counts_once_however_its_ack_is_reported() -> None:
    backlog = Backlog()
    ticket = backlog.arrived()
    assert backlog.unacked == 1
    backlog.acked()  # the listener, in the request's context
    backlog.acked()
    assert backlog.unacked == 0
    backlog.responded(ticket)  # the middleware, once the response has gone
    assert backlog.unacked == 0 and backlog.idle()


async def test_deferred_work_waits_for_every_ack_and_every_answer_owed() -> None:
    backlog = Backlog()
    ran: list[str] = []
    contexts = [contextvars.copy_context() for _ in range(2)]
    waiting = contexts[0].run(backlog.arrived)
    contexts[1].run(backlog.arrived)
    contexts[1].run(backlog.acked)  # a command taking up its answer …
    async with backlog.owing():  # … which it owes until it is out
        backlog.when_idle(lambda: ran.append("cards"))
        backlog.responded(waiting)  # the other request's ack has gone
        assert ran == []
    assert ran == ["cards"]


async def test_under_sustained_load_deferred_work_goes_after_most_s(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    monkeypatch.setattr(backlog_module, "MOST_DEFER_S", 0.05)
    backlog = Backlog()
    contextvars.copy_context().run(backlog.arrived)  # an ack that never comes
    went = asyncio.Event()
    backlog.when_idle(went.set)
    backlog.when_idle(went.set)  # asked twice: runs once
    await asyncio.wait_for(went.wait(), 1)
