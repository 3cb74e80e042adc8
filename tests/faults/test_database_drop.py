"""PostgreSQL cutting Hypobot's connections while `/hypothesis new` commands arrive: each
command does everything it says or nothing, says which, and the server recovers by itself.

Only this test database's backends are terminated (pg_terminate_backend); the server stays
up for the other tests that share it.
"""

from __future__ import annotations

import asyncio
import random
from typing import Any

import asyncpg
import pytest

from bot.listeners.commands.hypothesis import WORKING
from bot.listeners.safety import OUR_FAULT, TRY_AGAIN
from storage.models import Bet, Event, Outbox
from tests.conftest import Hypobot
from tests.faults.conftest import (
    POSTGRES_ONLY,
    backend_gone,
    backends_waiting_on_a_lock,
    footprint,
    own_connection,
    terminate_backends,
    until,
)
from tests.flows import settle

WAVES = 5
AT_ONCE = 8
# Both say nothing was changed and to try again; only TRY_AGAIN says the database is why.
NOTHING_CHANGED = (TRY_AGAIN, OUR_FAULT)


def one_liner(marker: str) -> str:
    return f"new We believe {marker} for admins will cut tickets. We'll know when tickets drop"


def marker_of(bet: Bet) -> str:
    return bet.hypothesis.split()[2]


def created_key(text: str) -> int | None:
    """The number in "Created *H-<n>* · …", or None for any other answer."""
    if not text.startswith("Created *H-"):
        return None
    return int(text.removeprefix("Created *H-").split("*", 1)[0])


async def create(hypobot: Hypobot, marker: str) -> tuple[int, str]:
    """`/hypothesis new …` with `marker` in it: the HTTP status and the answer the person got,
    in the ack or, when the ack was empty (a burst) or only said it is working on it,
    through the response_url."""
    status, body = await hypobot.command(
        one_liner(marker), response_url=hypobot.fake.response_url(marker)
    )
    text = str(body.get("text", ""))
    if text in (WORKING, ""):

        def answered() -> list[Any]:
            calls = hypobot.fake.calls_to("response_url")
            return [call for call in calls if call.params.get("_key") == marker]

        await until(answered, timeout=10)
        text = str(answered()[0].text)
    return status, text


async def warm_up(hypobot: Hypobot) -> None:
    """H-1: the workspace and channel rows exist (they are made outside a bet's transaction)."""
    status, text = await create(hypobot, "marker-warm")
    assert (status, created_key(text)) == (200, 1), text
    await settle(hypobot)


async def assert_no_half_written_bet() -> list[Bet]:
    bets = await Bet.filter(team_id="T1").order_by("number")
    # Keys are gap-free: a rolled-back create gave its number back.
    assert [bet.number for bet in bets] == list(range(1, len(bets) + 1))
    for bet in bets:
        assert await Event.filter(bet_id=bet.id, kind="created").count() == 1, bet.number
        assert await Outbox.filter(bet_id=bet.id, kind="card").count() == 1, bet.number
    assert await Event.filter(kind="created").count() == len(bets)
    assert await Outbox.filter(kind="card").count() == len(bets)
    return bets


@POSTGRES_ONLY
async def test_commands_while_connections_drop_do_all_or_nothing_and_the_server_recovers(
    hypobot: Hypobot,
) -> None:
    await warm_up(hypobot)
    killer = await own_connection(hypobot.database)
    watcher = await own_connection(hypobot.database)
    chance = random.Random(2026)
    answers: dict[str, tuple[int, str]] = {}
    cuts = 0

    async def send(marker: str, after: float) -> None:
        await asyncio.sleep(after)
        answers[marker] = await create(hypobot, marker)

    async def cut(after: float, *, once_one_waits: bool) -> None:
        nonlocal cuts
        await asyncio.sleep(after)
        if once_one_waits:  # at least one command is mid-transaction, queued on the lock
            await until(lambda: backends_waiting_on_a_lock(watcher, hypobot.database), timeout=5)
        cuts += await terminate_backends(killer, hypobot.database, spare=(watcher,))

    try:
        async with asyncio.timeout(25):
            # Each wave: commands arriving over 0.3 s, every connection cut once among them.
            # In every other wave the killer holds the workspace row meanwhile, so creates
            # queue mid-transaction and the cut certainly lands in some.
            for wave in range(WAVES):
                locked = wave % 2 == 0
                async with killer.transaction():
                    if locked:
                        await killer.execute(
                            "SELECT 1 FROM workspaces WHERE team_id = 'T1' FOR UPDATE"
                        )
                    commands = [
                        asyncio.create_task(send(f"marker-{wave}-{n}", chance.uniform(0, 0.3)))
                        for n in range(AT_ONCE)
                    ]
                    await cut(chance.uniform(0.05, 0.25), once_one_waits=locked)
                await asyncio.gather(*commands)
    finally:
        await killer.close()
        await watcher.close()

    # Every command was answered: what it created, or that nothing was changed.
    assert len(answers) == WAVES * AT_ONCE
    unclear = {
        marker: answer
        for marker, answer in answers.items()
        if answer[0] != 200 or (created_key(answer[1]) is None and answer[1] not in NOTHING_CHANGED)
    }
    assert not unclear, unclear
    created = {m: created_key(text) for m, (_, text) in answers.items() if created_key(text)}
    failed = [m for m, (_, text) in answers.items() if text in NOTHING_CHANGED]
    assert cuts and created and failed, (cuts, len(created), len(failed))  # both happened

    # The server recovers without a restart: the next command succeeds.
    status, text = await create(hypobot, "marker-after")
    assert status == 200 and created_key(text) is not None, text
    await settle(hypobot)

    bets = {marker_of(bet): bet for bet in await assert_no_half_written_bet()}
    for marker, number in created.items():
        assert bets[marker].number == number  # the key it announced is the key it got
    # A connection lost right after COMMIT is the case pinned down below: the pool once ran a
    # reset query on release that raised there, and a bet that existed was reported "nothing
    # was changed" (storage/db.py now skips that reset).


# --- one connection cut at a chosen moment -----------------------------------------------------


async def _cut_while_waiting_on_a_lock(hypobot: Hypobot) -> str:
    """A create whose transaction waits on a lock when the connection under it is cut."""
    await warm_up(hypobot)
    before = await footprint()
    holder = await own_connection(hypobot.database)
    watcher = await own_connection(hypobot.database)
    try:
        async with holder.transaction():
            await holder.execute("SELECT 1 FROM workspaces WHERE team_id = 'T1' FOR UPDATE")
            command = asyncio.create_task(create(hypobot, "marker-cut"))
            await until(lambda: backends_waiting_on_a_lock(watcher, hypobot.database), timeout=10)
            await terminate_backends(holder, hypobot.database, spare=(watcher,))
        status, text = await asyncio.wait_for(command, timeout=10)
    finally:
        await holder.close()
        await watcher.close()
    assert status == 200
    await settle(hypobot)
    assert await footprint() == before  # nothing written
    return text


@POSTGRES_ONLY
async def test_a_create_cut_mid_transaction_writes_nothing_and_the_next_one_works(
    hypobot: Hypobot,
) -> None:
    assert await _cut_while_waiting_on_a_lock(hypobot) in NOTHING_CHANGED
    status, text = await create(hypobot, "marker-after")
    assert (status, created_key(text)) == (200, 2), text


@POSTGRES_ONLY
async def test_a_create_cut_mid_transaction_asks_to_try_again(hypobot: Hypobot) -> None:
    assert await _cut_while_waiting_on_a_lock(hypobot) == TRY_AGAIN


async def _cut_right_after_commit(hypobot: Hypobot, monkeypatch: pytest.MonkeyPatch) -> str:
    """A create whose connection is cut (for real, pg_terminate_backend) the moment the
    server has acknowledged its COMMIT, before the connection goes back to the pool."""
    await warm_up(hypobot)
    killer = await own_connection(hypobot.database)
    execute = asyncpg.connection.Connection.execute
    cut: list[int] = []

    async def execute_then_cut(self: Any, query: str, *args: Any, **kw: Any) -> Any:
        result = await execute(self, query, *args, **kw)
        if not cut and query.strip().upper().startswith("COMMIT"):
            cut.append(self.get_server_pid())
            # Hold back what the server says next until this task carries on, so the
            # client learns of the cut as it would had it happened a moment later.
            self._transport.pause_reading()
            await killer.execute("SELECT pg_terminate_backend($1)", cut[0])
            await until(lambda: backend_gone(killer, cut[0]), timeout=5)
            self._transport.resume_reading()
        return result

    try:
        with monkeypatch.context() as patched:
            patched.setattr(asyncpg.connection.Connection, "execute", execute_then_cut)
            status, text = await create(hypobot, "marker-committed")
    finally:
        await killer.close()
    assert status == 200 and cut
    await settle(hypobot)
    [bet] = await Bet.filter(team_id="T1", number=2)  # the COMMIT went through
    assert marker_of(bet) == "marker-committed"
    await assert_no_half_written_bet()
    return text


@POSTGRES_ONLY
async def test_a_create_cut_right_after_commit_is_whole_and_the_next_one_works(
    hypobot: Hypobot, monkeypatch: pytest.MonkeyPatch
) -> None:
    await _cut_right_after_commit(hypobot, monkeypatch)
    status, text = await create(hypobot, "marker-after")
    assert (status, created_key(text)) == (200, 3), text


@POSTGRES_ONLY
async def test_a_create_cut_right_after_commit_says_it_was_created(
    hypobot: Hypobot, monkeypatch: pytest.MonkeyPatch
) -> None:
    assert created_key(await _cut_right_after_commit(hypobot, monkeypatch)) == 2
