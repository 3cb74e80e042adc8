"""`show`'s read: a bet with its zone, pivot and history in one statement; a burst of
reads made together gives each caller its own bet, on both databases."""

from __future__ import annotations

import asyncio
from datetime import UTC, datetime

from bets.lifecycle import Move, MoveRequest
from storage import bets as store
from storage import db, together
from storage.models import Bet, Event
from usecases import bets as usecase
from usecases.bets import BetDraft, Created, Shown
from usecases.context import Actor, Context
from usecases.results import Refused

NOW = datetime(2026, 11, 2, 10, 0, tzinfo=UTC)


def context() -> Context:
    return Context(clock=lambda: NOW)


async def create(team: str, title: str) -> int:
    made = await usecase.create(
        context(),
        Actor(team, "U1", "C1"),
        BetDraft(channel_id="C1", title=title, hypothesis="We believe x will y", signal="y"),
    )
    assert isinstance(made, Created)
    return made.bet.number


async def test_a_burst_of_reads_gives_each_caller_its_own_bet(database: str) -> None:
    numbers = [await create("T1", f"Bet {n}") for n in range(1, 31)]
    await create("T2", "Another workspace's bet 1")
    moved = await usecase.move(
        context(),
        Actor("T1", "U1", "C1"),
        MoveRequest(Move.SHIP, link="https://x.test/pr/3"),
        source="command",
        number=3,
    )
    assert not isinstance(moved, Refused)
    asked = [*numbers, *numbers[:10], 999]
    pages = await asyncio.gather(*(store.bet_page("T1", n) for n in asked))
    for number, page in zip(asked, pages, strict=True):
        if number == 999:
            assert page is None
            continue
        assert page is not None
        assert (page.bet.number, page.bet.title, page.bet.team_id) == (
            number,
            f"Bet {number}",
            "T1",
        )
        kinds = [event.kind for event in page.history]
        assert kinds[0] == "created" and (len(kinds) > 1) == (number == 3), kinds
    other = await asyncio.gather(store.bet_page("T2", 1), store.bet_page("T1", 1))
    assert [page.bet.title for page in other if page] == ["Another workspace's bet 1", "Bet 1"]


async def test_reads_are_made_together(database: str, monkeypatch) -> None:
    for n in range(1, 21):
        await create("T1", f"Bet {n}")
    statements: list[int] = []
    real = store.bet_pages

    async def counted(team_id: str, numbers: list[int]) -> dict[int, store.BetPage]:
        statements.append(len(numbers))
        return await real(team_id, numbers)

    monkeypatch.setattr(store._PAGES, "_read_many", counted)
    pages = await asyncio.gather(*(store.bet_page("T1", n) for n in range(1, 21)))
    assert all(page is not None for page in pages)
    assert statements == [20]  # asked for in one turn of the loop: one statement


async def test_a_failed_read_reaches_every_caller_and_the_next_read_works(
    database: str, monkeypatch
) -> None:
    await create("T1", "Bet 1")
    real = store.bet_pages
    failing = True

    async def flaky(team_id: str, numbers: list[int]) -> dict[int, store.BetPage]:
        if failing:
            raise RuntimeError("the database went away")
        return await real(team_id, numbers)

    monkeypatch.setattr(store._PAGES, "_read_many", flaky)
    results = await asyncio.gather(
        *(store.bet_page("T1", 1) for _ in range(3)), return_exceptions=True
    )
    assert all(isinstance(result, RuntimeError) for result in results)
    failing = False
    page = await store.bet_page("T1", 1)
    assert page is not None and page.bet.title == "Bet 1"


async def test_a_read_inside_a_transaction_sees_its_writes(database: str) -> None:
    number = await create("T1", "Before")
    async with db.unit_of_work():
        await Bet.filter(team_id="T1", number=number).update(title="Inside")
        page = await store.bet_page("T1", number)
        assert page is not None and page.bet.title == "Inside"
    assert await Event.filter(team_id="T1").count() == 1


async def test_show_reads_the_page_with_its_history(database: str) -> None:
    number = await create("T1", "Shown")
    shown = await usecase.show(context(), Actor("T1", "U1", "C1"), number)
    assert isinstance(shown, Shown)
    assert [h.kind for h in shown.history] == ["created"]
    assert together.MOST_AT_ONCE >= 1
