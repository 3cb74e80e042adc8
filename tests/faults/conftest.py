"""What the fault suite shares: row counts, `hypobot` processes to start and kill, the test
database's PostgreSQL backends, and the fake Slack's record read as "posted exactly once"."""

from __future__ import annotations

import asyncio
import inspect
import os
import socket
import sys
from collections import Counter
from collections.abc import AsyncIterator, Callable
from contextlib import asynccontextmanager
from datetime import datetime
from typing import Any
from urllib.parse import urlsplit

import asyncpg
import pytest

from bets.metrics import BetFacts
from console.fakeslack import FakeSlack
from storage.models import Bet, Channel, Claim, Event, Evidence, Outbox, Person, Workspace
from testkit.signing import SIGNING_SECRET
from tests import stored
from tests.conftest import Hypobot

# For tests only PostgreSQL can run: override the `database` fixture's parameters.
POSTGRES_ONLY = pytest.mark.parametrize("database", ["postgres"], indirect=True)
SQLITE_ONLY = pytest.mark.parametrize("database", ["sqlite"], indirect=True)

TABLES = (Workspace, Channel, Bet, Evidence, Event, Person, Outbox, Claim)


async def footprint() -> dict[str, int]:
    """How many rows each table holds."""
    return {model.__name__: await model.all().count() for model in TABLES}


async def snapshot(team_id: str) -> dict[str, list[dict[str, Any]]]:
    """Every row of one workspace, in full: to prove another workspace changed none of them."""
    return {
        model.__name__: await model.filter(team_id=team_id).order_by("id").values()
        for model in TABLES
    }


# --- Slack's record --------------------------------------------------------------------------


def outbox_id_of(message: dict[str, Any]) -> int | None:
    """The outbox row a message Hypobot posted came from (it rides in the metadata)."""
    payload = (message.get("metadata") or {}).get("event_payload") or {}
    value = payload.get("outbox_id")
    return int(value) if value is not None else None


def posted_per_row(fake: FakeSlack) -> Counter[int]:
    """How many messages in Slack each outbox row produced."""
    return Counter(
        row_id
        for history in fake.messages.values()
        for message in history
        if (row_id := outbox_id_of(message)) is not None
    )


async def assert_each_row_posted_once(fake: FakeSlack) -> None:
    """Every sent row is in Slack exactly once; no row is in Slack twice; nothing is unsent."""
    posted = posted_per_row(fake)
    doubled = {row_id: n for row_id, n in posted.items() if n > 1}
    assert not doubled, f"posted more than once: {doubled}"
    rows = await Outbox.all().order_by("id")
    unsent = [
        (row.id, row.kind, row.status, row.last_error)
        for row in rows
        if row.status not in ("sent", "failed")
    ]
    assert not unsent, f"never settled: {unsent}"
    for row in rows:
        updates_a_card = row.kind == "card" and row.id not in posted
        if row.status == "sent" and not updates_a_card:
            assert posted[row.id] == 1, (row.id, row.kind, posted[row.id])
    bets = await Bet.filter(card_ts__isnull=False)
    for bet in bets:
        cards = [
            m
            for m in fake.messages.get(bet.channel_id, [])
            if outbox_id_of(m) is not None and m.get("ts") == bet.card_ts
        ]
        assert len(cards) == 1, (bet.team_id, bet.number, bet.card_ts)


# --- hypobot processes ---------------------------------------------------------------------


def process_env(hypobot: Hypobot, **extra: str) -> dict[str, str]:
    return {
        **os.environ,
        "DATABASE_URL": hypobot.database,
        "SLACK_API_URL": hypobot.fake.base_url,
        "SLACK_BOT_TOKEN": "xoxb-test-token",
        "SLACK_SIGNING_SECRET": SIGNING_SECRET,
        "LOG_LEVEL": "WARNING",
        **extra,
    }


# `hypobot <args>` exactly as the console script runs it (console.cli:main), except that it
# imports first and waits for a line on stdin: a test spawns it early, so the seconds of
# importing overlap with the test's own set-up, and then starts it at the moment it needs.
_LAUNCH = (
    "import sys, bot.app, console.cli, server.http, jobs.runner; "
    "sys.stdin.readline(); sys.exit(console.cli.main(sys.argv[1:]))"
)


async def spawn_hypobot(hypobot: Hypobot, *args: str, **env: str) -> asyncio.subprocess.Process:
    """A `hypobot <args>` process against the test's database and fake Slack, waiting for go()."""
    return await asyncio.create_subprocess_exec(
        sys.executable,
        "-c",
        _LAUNCH,
        *args,
        env=process_env(hypobot, **env),
        stdin=asyncio.subprocess.PIPE,
        stdout=asyncio.subprocess.PIPE,
        stderr=asyncio.subprocess.PIPE,
    )


async def go(process: asyncio.subprocess.Process) -> asyncio.subprocess.Process:
    """Let a spawned process start its command now."""
    assert process.stdin is not None
    process.stdin.write(b"go\n")
    await process.stdin.drain()
    return process


@asynccontextmanager
async def hypobot_process(
    hypobot: Hypobot, *args: str, **env: str
) -> AsyncIterator[asyncio.subprocess.Process]:
    """A spawned `hypobot <args>` (see spawn_hypobot), SIGKILLed on the way out if still alive."""
    process = await spawn_hypobot(hypobot, *args, **env)
    try:
        yield process
    finally:
        if process.returncode is None:
            await kill(process)


async def finish(process: asyncio.subprocess.Process, timeout: float = 30) -> bytes:
    out, err = await asyncio.wait_for(process.communicate(), timeout=timeout)
    assert process.returncode == 0, err.decode()[-3000:]
    return out


async def kill(process: asyncio.subprocess.Process) -> None:
    """SIGKILL: no handler runs, nothing is flushed, open transactions are left to the server."""
    if process.returncode is None:
        process.kill()
    await asyncio.wait_for(process.communicate(), timeout=10)


def free_port() -> int:
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        return int(probe.getsockname()[1])


async def until(check: Callable[[], Any], *, timeout: float, every: float = 0.005) -> None:
    """Poll `check()` (plain or async) until it is truthy, or fail after `timeout` seconds."""

    async def holds() -> bool:
        result = check()
        return bool(await result if inspect.isawaitable(result) else result)

    try:
        async with asyncio.timeout(timeout):
            while not await holds():
                await asyncio.sleep(every)
    except TimeoutError:
        raise AssertionError(f"still false after {timeout}s: {check}") from None


# --- the test database on the PostgreSQL server ----------------------------------------------


def database_name(url: str) -> str:
    return urlsplit(url).path.lstrip("/")


async def own_connection(url: str) -> asyncpg.Connection:
    """A connection of the test's own to the test database, outside the app's pool."""
    return await asyncpg.connect(url.replace("postgres://", "postgresql://", 1))


async def backends_waiting_on_a_lock(watcher: asyncpg.Connection, url: str) -> list[int]:
    """Server processes of the test database waiting for a lock (read it outside a
    transaction: inside one, pg_stat_activity is a snapshot frozen at its first read)."""
    rows = await watcher.fetch(
        "SELECT pid FROM pg_stat_activity WHERE datname = $1 AND wait_event_type = 'Lock'",
        database_name(url),
    )
    return [row["pid"] for row in rows]


async def backend_gone(watcher: asyncpg.Connection, pid: int) -> bool:
    query = "SELECT count(*) FROM pg_stat_activity WHERE pid = $1"
    return not await watcher.fetchval(query, pid)


async def terminate_backends(
    killer: asyncpg.Connection, url: str, *, spare: tuple[asyncpg.Connection, ...] = ()
) -> int:
    """Cut every connection to the test database but the killer's own and `spare`'s (never
    the whole server, which other tests share)."""
    rows = await killer.fetch(
        "SELECT pg_terminate_backend(pid) FROM pg_stat_activity "
        "WHERE datname = $1 AND pid <> pg_backend_pid() AND pid <> ALL($2::int[])",
        database_name(url),
        [connection.get_server_pid() for connection in spare],
    )
    return len(rows)


async def stored_bet(channel: str, n: int, now: datetime) -> BetFacts:
    """Bet n of workspace T1 in `channel`, created through the use case (its card queued)."""
    return await stored.stored_bet(
        "T1",
        now=now,
        channel=channel,
        title=f"Bet {n} in {channel}",
        hypothesis=f"We believe change {n} for admins will cut tickets",
        signal="tickets drop",
    )
