"""The backlog: held answers wait for every ack, go a bounded number at a time, and a
request counts once however many times its ack is reported."""

from __future__ import annotations

import asyncio
import contextvars

import pytest

from server import backlog as backlog_module
from server.backlog import Backlog


async def test_a_request_counts_once_however_its_ack_is_reported() -> None:
    backlog = Backlog()
    ticket = backlog.arrived()
    assert backlog.unacked == 1 and backlog.in_flight == 1
    backlog.acked()  # the listener, in the request's context
    backlog.acked()
    assert backlog.unacked == 0 and backlog.in_flight == 1
    backlog.responded(ticket)  # the middleware, once the response has gone
    assert backlog.unacked == 0 and backlog.in_flight == 0


async def test_others_waiting_counts_requests_still_in_flight() -> None:
    backlog = Backlog()
    contexts = [contextvars.copy_context() for _ in range(2)]
    first = contexts[0].run(backlog.arrived)
    assert not backlog.others_waiting()
    contexts[0].run(backlog.acked)  # answering in its ack: it holds nothing back …
    contexts[1].run(backlog.arrived)
    assert backlog.others_waiting()  # … but its response has not gone yet
    backlog.responded(first)
    assert not backlog.others_waiting()


async def test_held_work_waits_for_every_ack(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setattr(backlog_module, "QUIET_S", 0.0)
    backlog = Backlog()
    started: list[int] = []

    async def held(n: int) -> None:
        async with backlog.owing(), backlog.turn():
            started.append(n)

    waiting = contextvars.copy_context().run(backlog.arrived)
    task = asyncio.create_task(held(1))
    await asyncio.sleep(0.05)
    assert started == [] and not backlog.idle()
    backlog.responded(waiting)
    await asyncio.wait_for(task, 1)
    assert started == [1] and backlog.idle()


async def test_at_most_so_many_held_commands_work_at_once(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    monkeypatch.setattr(backlog_module, "WORKING_AT_ONCE", 3)
    monkeypatch.setattr(backlog_module, "QUIET_S", 0.0)
    backlog = Backlog()
    working = most = 0
    release = asyncio.Event()

    async def held() -> None:
        nonlocal working, most
        async with backlog.turn():
            working += 1
            most = max(most, working)
            await release.wait()
            working -= 1

    tasks = [asyncio.create_task(held()) for _ in range(10)]
    await asyncio.sleep(0.05)
    assert working == 3
    release.set()
    await asyncio.gather(*tasks)
    assert most == 3


async def test_under_sustained_load_held_work_goes_after_most_s() -> None:
    backlog = Backlog()
    contextvars.copy_context().run(backlog.arrived)  # an ack that never comes
    async with asyncio.timeout(1):
        async with backlog.turn(most_s=0.05):
            pass
