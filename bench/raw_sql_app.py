"""The baseline for answer latency: a Bolt AsyncApp that does Hypobot's durable work for
`/hypothesis new …` and `/hypothesis show H-n` in hand-written SQL and answers in the ack,
served on the same aiohttp stack as `hypobot serve` (AppRunner, no access log, /healthz).

    python -m bench.raw_sql_app PORT API_URL DATABASE_URL

`new`: one transaction takes the workspace's next key under its row lock (an upsert on the
workspace counter, RETURNING the number), inserts the bet, its `created` event and an outbox
row for its card; the ack says "Created H-n · title". `show`: reads the bet and its events;
the ack lists them. Nothing sends the outbox rows: this app measures the command's path only.
Its own schema, in its own database: PostgreSQL through asyncpg (a pool of 10, as Hypobot's),
SQLite through aiosqlite (one connection, WAL, transactions BEGIN IMMEDIATE, as Hypobot's).
"""

from __future__ import annotations

import asyncio
import json
import re
import sys
from datetime import UTC, datetime
from typing import Any, Protocol

from slack_bolt.async_app import AsyncAck

from bench import common

SCHEMA = [
    """CREATE TABLE IF NOT EXISTS raw_workspaces (
        team_id TEXT PRIMARY KEY, last_bet_number INTEGER NOT NULL)""",
    """CREATE TABLE IF NOT EXISTS raw_bets (
        id {serial} PRIMARY KEY, team_id TEXT NOT NULL, number INTEGER NOT NULL,
        channel_id TEXT NOT NULL, title TEXT NOT NULL, hypothesis TEXT NOT NULL,
        signal TEXT NOT NULL, owner_id TEXT NOT NULL, creator_id TEXT NOT NULL,
        state TEXT NOT NULL, created_at {ts} NOT NULL, updated_at {ts} NOT NULL,
        UNIQUE (team_id, number))""",
    """CREATE TABLE IF NOT EXISTS raw_events (
        id {serial} PRIMARY KEY, team_id TEXT NOT NULL, bet_id INTEGER NOT NULL,
        actor_id TEXT NOT NULL, at {ts} NOT NULL, kind TEXT NOT NULL, to_state TEXT,
        data TEXT NOT NULL)""",
    "CREATE INDEX IF NOT EXISTS raw_events_bet ON raw_events (team_id, bet_id)",
    """CREATE TABLE IF NOT EXISTS raw_outbox (
        id {serial} PRIMARY KEY, team_id TEXT NOT NULL, channel_id TEXT NOT NULL,
        kind TEXT NOT NULL, bet_id INTEGER, payload TEXT NOT NULL,
        status TEXT NOT NULL DEFAULT 'pending', next_attempt_at {ts} NOT NULL,
        created_at {ts} NOT NULL)""",
]
NEXT_KEY = """INSERT INTO raw_workspaces (team_id, last_bet_number) VALUES (?, 1)
    ON CONFLICT (team_id) DO UPDATE SET last_bet_number = raw_workspaces.last_bet_number + 1
    RETURNING last_bet_number"""
INSERT_BET = """INSERT INTO raw_bets (team_id, number, channel_id, title, hypothesis, signal,
    owner_id, creator_id, state, created_at, updated_at)
    VALUES (?, ?, ?, ?, ?, ?, ?, ?, 'proposed', ?, ?) RETURNING id"""


def _bet_row(
    team: str, number: int, channel: str, user: str, draft: dict[str, str], now: Any
) -> tuple[Any, ...]:
    """INSERT_BET's values: the creator owns the bet."""
    return (
        team,
        number,
        channel,
        draft["title"],
        draft["hypothesis"],
        draft["signal"],
        user,
        user,
        now,
        now,
    )


INSERT_EVENT = """INSERT INTO raw_events (team_id, bet_id, actor_id, at, kind, to_state, data)
    VALUES (?, ?, ?, ?, 'created', 'proposed', ?)"""
INSERT_OUTBOX = """INSERT INTO raw_outbox (team_id, channel_id, kind, bet_id, payload,
    next_attempt_at, created_at) VALUES (?, ?, 'card', ?, '{}', ?, ?)"""
SELECT_BET = """SELECT id, number, title, hypothesis, signal, state, owner_id, created_at
    FROM raw_bets WHERE team_id = ? AND number = ?"""
SELECT_EVENTS = """SELECT kind, actor_id, at, to_state FROM raw_events
    WHERE team_id = ? AND bet_id = ? ORDER BY at, id"""
KEY = re.compile(r"^\s*h?-?(\d+)\s*$", re.IGNORECASE)


class Store(Protocol):
    async def create(self, team: str, channel: str, user: str, draft: dict[str, str]) -> int: ...

    async def show(self, team: str, number: int) -> tuple[Any, list[Any]] | None: ...

    async def close(self) -> None: ...


def _numbered(sql: str) -> str:
    parts = sql.split("?")
    return "".join(f"{part}${n}" for n, part in enumerate(parts[:-1], 1)) + parts[-1]


class Postgres:
    def __init__(self, pool: Any) -> None:
        self.pool = pool

    @classmethod
    async def open(cls, url: str) -> Postgres:
        import asyncpg

        pool = await asyncpg.create_pool(url, min_size=1, max_size=10)
        async with pool.acquire() as connection:
            for statement in SCHEMA:
                await connection.execute(statement.format(serial="SERIAL", ts="TIMESTAMPTZ"))
        return cls(pool)

    async def create(self, team: str, channel: str, user: str, draft: dict[str, str]) -> int:
        now = datetime.now(UTC)
        async with self.pool.acquire() as connection, connection.transaction():
            number = await connection.fetchval(_numbered(NEXT_KEY), team)
            bet_id = await connection.fetchval(
                _numbered(INSERT_BET), *_bet_row(team, number, channel, user, draft, now)
            )
            data = json.dumps({"title": draft["title"]})
            await connection.execute(_numbered(INSERT_EVENT), team, bet_id, user, now, data)
            await connection.execute(_numbered(INSERT_OUTBOX), team, channel, bet_id, now, now)
        return int(number)

    async def show(self, team: str, number: int) -> tuple[Any, list[Any]] | None:
        async with self.pool.acquire() as connection:
            bet = await connection.fetchrow(_numbered(SELECT_BET), team, number)
            if bet is None:
                return None
            events = await connection.fetch(_numbered(SELECT_EVENTS), team, bet["id"])
        return bet, list(events)

    async def close(self) -> None:
        await self.pool.close()


class Sqlite:
    def __init__(self, connection: Any) -> None:
        self.connection = connection
        self.lock = asyncio.Lock()  # one connection: one transaction at a time

    @classmethod
    async def open(cls, path: str) -> Sqlite:
        import aiosqlite

        connection = await aiosqlite.connect(path, isolation_level=None)
        connection.row_factory = aiosqlite.Row
        for pragma in ("journal_mode=WAL", "synchronous=NORMAL", "busy_timeout=10000"):
            await connection.execute(f"PRAGMA {pragma}")
        for statement in SCHEMA:  # INTEGER PRIMARY KEY: SQLite's rowid, numbered by itself
            await connection.execute(statement.format(serial="INTEGER", ts="TEXT"))
        return cls(connection)

    async def _one(self, sql: str, *values: Any) -> Any:
        async with self.connection.execute(sql, values) as cursor:
            return await cursor.fetchone()

    async def create(self, team: str, channel: str, user: str, draft: dict[str, str]) -> int:
        now = datetime.now(UTC).isoformat()
        async with self.lock:
            await self.connection.execute("BEGIN IMMEDIATE")
            try:
                (number,) = await self._one(NEXT_KEY, team)
                (bet_id,) = await self._one(
                    INSERT_BET, *_bet_row(team, number, channel, user, draft, now)
                )
                data = json.dumps({"title": draft["title"]})
                await self.connection.execute(INSERT_EVENT, (team, bet_id, user, now, data))
                await self.connection.execute(INSERT_OUTBOX, (team, channel, bet_id, now, now))
            except BaseException:
                await self.connection.execute("ROLLBACK")
                raise
            await self.connection.execute("COMMIT")
        return int(number)

    async def show(self, team: str, number: int) -> tuple[Any, list[Any]] | None:
        async with self.lock:
            bet = await self._one(SELECT_BET, team, number)
            if bet is None:
                return None
            async with self.connection.execute(SELECT_EVENTS, (team, bet["id"])) as cursor:
                events = await cursor.fetchall()
        return bet, list(events)

    async def close(self) -> None:
        await self.connection.close()


async def open_store(url: str) -> Store:
    if url.startswith("sqlite://"):
        return await Sqlite.open(url[len("sqlite://") :])
    return await Postgres.open(url)


def draft_of(text: str) -> dict[str, str] | None:
    """`We believe … . We'll know when …`: the hypothesis, its signal and a short title."""
    text = text.strip()
    if not text:
        return None
    hypothesis, _, signal = text.partition("We'll know when")
    hypothesis = hypothesis.strip().rstrip(".")
    words = re.sub(r"^We believe\s+", "", hypothesis).split(" for ")[0]
    title = (words[:1].upper() + words[1:])[:150]
    return {"title": title, "hypothesis": hypothesis, "signal": signal.strip()}


def escape(text: str) -> str:
    return text.replace("&", "&amp;").replace("<", "&lt;").replace(">", "&gt;")


async def main(port: int, api_url: str, database_url: str) -> None:
    store = await open_store(database_url)
    app = common.baseline_app(api_url)

    @app.command("/hypothesis")
    async def hypothesis(ack: AsyncAck, command: dict[str, Any]) -> None:
        verb, _, rest = (command.get("text") or "").strip().partition(" ")
        team, user = command["team_id"], command["user_id"]
        if verb == "new" and (draft := draft_of(rest)) is not None:
            number = await store.create(team, command["channel_id"], user, draft)
            title, channel = escape(draft["title"]), command["channel_id"]
            await ack(text=f"Created *H-{number}* · {title}. Its card is in <#{channel}>.")
        elif verb == "show" and (key := KEY.match(rest)) is not None:
            found = await store.show(team, int(key.group(1)))
            if found is None:
                await ack(text=f"There is no H-{key.group(1)} in this workspace.")
                return
            bet, events = found
            lines = [f"*H-{bet['number']}* · {escape(bet['title'])} · {bet['state']}"]
            lines.append(escape(bet["hypothesis"]))
            lines += [f"• {e['at']} {e['kind']} by <@{e['actor_id']}>" for e in events]
            await ack(text="\n".join(lines))
        else:
            await ack(text="Try `/hypothesis new We believe …` or `/hypothesis show H-1`.")

    await common.serve_bolt(app, port)
    await store.close()


if __name__ == "__main__":
    asyncio.run(main(int(sys.argv[1]), sys.argv[2], sys.argv[3]))
