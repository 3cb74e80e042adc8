"""Reads asked for while one of their kind is under way, made together in one statement.

A burst of `/hypothesis show` commands asks for many bets at nearly the same moment; read
one by one, each pays a round trip to the database (PostgreSQL) or a hop to its thread
(SQLite), and each waits for a free connection and a turn of the event loop. Here a read
goes at once (after the current turn of the event loop, so that the reads asked for in
that turn join it) while fewer than IN_FLIGHT reads of its workspace are under way, and
the reads asked for meanwhile wait for one of those to end and then go together, as the
next one: one read for the lot, however many there are (up to MOST_AT_ONCE). Unhurried, a
read is as quick as it was alone.

Only for reads outside a transaction: inside one, a read must see the transaction's own
writes, on its connection.
"""

from __future__ import annotations

import asyncio
import weakref
from collections.abc import Awaitable, Callable
from typing import Generic, TypeVar

from tortoise.backends.base.client import TransactionalDBClient
from tortoise.models import Model

K = TypeVar("K")
V = TypeVar("V")

MOST_AT_ONCE = 200  # keys in one statement (SQLite allows 32,766 parameters)
IN_FLIGHT = 3  # reads of one workspace under way at a time (each on its own connection)


class ReadTogether(Generic[K, V]):
    """`read(team_id, key)`, with the reads of a workspace made together by
    `read_many(team_id, keys) -> {key: value}` (a key it leaves out reads as None)."""

    def __init__(
        self, model: type[Model], read_many: Callable[[str, list[K]], Awaitable[dict[K, V]]]
    ) -> None:
        self._model = model
        self._read_many = read_many
        # Per event loop (futures belong to one): {team_id: {key: [futures]}} queued, and
        # how many reads of each workspace are under way.
        self._queued: weakref.WeakKeyDictionary[
            asyncio.AbstractEventLoop, dict[str, dict[K, list[asyncio.Future[V | None]]]]
        ] = weakref.WeakKeyDictionary()
        self._running: weakref.WeakKeyDictionary[asyncio.AbstractEventLoop, dict[str, int]] = (
            weakref.WeakKeyDictionary()
        )
        self._tasks: set[asyncio.Task[None]] = set()  # held until done (the loop keeps weak ones)

    async def read(self, team_id: str, key: K) -> V | None:
        if isinstance(self._model._meta.db, TransactionalDBClient):
            return (await self._read_many(team_id, [key])).get(key)
        loop = asyncio.get_running_loop()
        queued = self._queued.setdefault(loop, {})
        running = self._running.setdefault(loop, {})
        future: asyncio.Future[V | None] = loop.create_future()
        queued.setdefault(team_id, {}).setdefault(key, []).append(future)
        if running.get(team_id, 0) < IN_FLIGHT:
            running[team_id] = running.get(team_id, 0) + 1
            task = loop.create_task(self._drain(team_id, queued, running))
            self._tasks.add(task)
            task.add_done_callback(self._tasks.discard)
        return await future

    async def _drain(
        self,
        team_id: str,
        queued: dict[str, dict[K, list[asyncio.Future[V | None]]]],
        running: dict[str, int],
    ) -> None:
        batch: dict[K, list[asyncio.Future[V | None]]] = {}
        try:
            await asyncio.sleep(0)  # the reads asked for in this turn of the loop join
            while waiting := queued.get(team_id):
                keys = list(waiting)[:MOST_AT_ONCE]
                batch = {key: waiting.pop(key) for key in keys}
                if not waiting:
                    del queued[team_id]
                try:
                    found = await self._read_many(team_id, keys)
                except Exception as error:
                    _settle(batch, error=error)
                    continue
                _settle(batch, found=found)
        finally:
            running[team_id] -= 1
            if not running[team_id]:
                del running[team_id]
            # Stopped (the loop shutting down): nobody is left waiting for good.
            _settle(batch, error=asyncio.CancelledError())
            _settle(queued.pop(team_id, {}), error=asyncio.CancelledError())


def _settle(
    batch: dict[K, list[asyncio.Future[V | None]]],
    *,
    found: dict[K, V] | None = None,
    error: BaseException | None = None,
) -> None:
    """Each waiting read gets its value (None for a key not found), or the error."""
    for key, futures in batch.items():
        for future in futures:
            if future.done():
                continue
            if isinstance(error, asyncio.CancelledError):
                future.cancel()
            elif error is not None:
                future.set_exception(error)
            else:
                future.set_result((found or {}).get(key))
