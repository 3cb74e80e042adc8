"""Working on many channels at once: a few at a time on PostgreSQL, whose round trips then
overlap, and one at a time on SQLite, which writes one transaction at a time."""

from __future__ import annotations

import asyncio
from collections.abc import Awaitable, Callable, Sequence
from typing import TypeVar

from storage import db

_T = TypeVar("_T")
CHANNELS_AT_ONCE = 4  # channels a pass works on at a time (PostgreSQL; the pool holds 10)


async def for_each(
    items: Sequence[_T], work: Callable[[_T], Awaitable[None]], *, at_once: int | None = None
) -> None:
    """`work` on every item, `at_once` at a time (by default: as the database allows)."""
    if at_once is None:
        at_once = CHANNELS_AT_ONCE if db.is_postgres_connection() else 1
    queue = iter(items)

    async def worker() -> None:
        for item in queue:
            await work(item)

    await asyncio.gather(*(worker() for _ in range(min(at_once, len(items)))))
