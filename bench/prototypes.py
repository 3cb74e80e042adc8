"""Prototypes of changes proposed for storage/db.py and jobs/, applied in this process only
(by patching), so a benchmark can measure them next to the code as it is.

- `keep_session`: asyncpg resets every connection it takes back into the pool
  (`SELECT pg_advisory_unlock_all(); CLOSE ALL; UNLISTEN *; RESET ALL`), one more round
  trip for every query Tortoise runs outside a transaction. Hypobot sets no session state,
  so the pool can skip it: `reset=` a coroutine that does nothing (asyncpg still rolls
  back a transaction left open and drops listeners before calling it).
- `ack_first`: `/hypothesis` acks at once with an empty body and sends its reply through
  the response_url (ephemeral) when the service has answered, instead of holding the ack
  until the database work is done.
- `after_ack_gate` (with `ack_first`): at most 8 commands do their work after the ack at
  once; the others wait on a semaphore, so the event loop is free to verify and ack new
  requests instead of interleaving them with 200 commands' database work.
- `wait_retry_after`: when Slack answers 429 for a channel, the outbox puts that channel's
  rows back and they wait for the next outbox pass (every 5 s in `hypobot serve`); this
  lets the channel's task sleep out Retry-After and go on with the same rows, for up to
  30 s a pass, and sends through the same 32-wide gate without holding it while asleep.
- `parallel_channels`: the digest and nudge passes go through channels one at a time, each
  query waiting for the last; this runs the unchanged passes over interleaved slices of
  the channels in `workers` tasks (per-channel work and its claims stay as they are).
"""

from __future__ import annotations

import asyncio
import contextvars
import inspect
from collections.abc import Callable, Iterator
from contextlib import ExitStack, contextmanager
from dataclasses import fields
from datetime import datetime
from typing import Any

from jobs import digests, nudges
from storage import channels as channel_store
from storage import db

PROTOTYPES = (
    "keep_session",
    "parallel_channels",
    "ack_first",
    "after_ack_gate",
    "wait_retry_after",
)
AFTER_ACK_AT_ONCE = 8  # commands doing their work after the ack at a time
MOST_WAIT_S = 30.0  # half the outbox lease: a channel's claimed rows stay ours meanwhile
WORKERS = 8  # below the PostgreSQL pool's 10 connections, leaving room for the courier


async def _keep_session(connection: Any) -> None:
    """Nothing to reset: Hypobot uses no SET, LISTEN, advisory locks or open cursors."""


@contextmanager
def keep_session() -> Iterator[None]:
    original = db.tortoise_config

    def config(url: str | None) -> dict[str, Any]:
        made = original(url)
        for connection in made["connections"].values():
            if "sqlite" not in connection["engine"]:
                connection["credentials"]["reset"] = _keep_session
        return made

    db.tortoise_config = config
    try:
        yield
    finally:
        db.tortoise_config = original


_slice: contextvars.ContextVar[list[Any] | None] = contextvars.ContextVar("slice", default=None)


def _merge(reports: list[Any]) -> Any:
    merged = reports[0]
    for report in reports[1:]:
        for item in fields(report):
            mine, theirs = getattr(merged, item.name), getattr(report, item.name)
            setattr(merged, item.name, mine + theirs)
    return merged


def _parallel(run: Callable[..., Any], workers: int) -> Callable[..., Any]:
    async def parallel_run(now: datetime, *, owner: str) -> Any:
        every = await _tracked_original()
        slices = [every[index::workers] for index in range(workers)]

        async def worker(part: list[Any]) -> Any:
            _slice.set(part)
            return await run(now, owner=owner)

        return _merge(list(await asyncio.gather(*(worker(part) for part in slices))))

    return parallel_run


_tracked_original = channel_store.tracked_channels


async def _tracked(*, digest_only: bool = False) -> list[Any]:
    part = _slice.get()
    every = part if part is not None else await _tracked_original()
    return [channel for channel in every if channel.digest_enabled or not digest_only]


@contextmanager
def parallel_channels(workers: int = WORKERS) -> Iterator[None]:
    originals = (digests.run, nudges.run)
    channel_store.tracked_channels = _tracked
    digests.run = _parallel(originals[0], workers)
    nudges.run = _parallel(originals[1], workers)
    try:
        yield
    finally:
        channel_store.tracked_channels = _tracked_original
        digests.run, nudges.run = originals


class _NoGate:
    async def __aenter__(self) -> None:
        return None

    async def __aexit__(self, *_: object) -> None:
        return None


def _ack_first(factory: Callable[[Any], Any], gated: bool) -> Callable[[Any], Any]:
    def hypothesis_command(runtime: Any) -> Callable[..., Any]:
        inner = factory(runtime)
        wanted = set(inspect.signature(inner).parameters)
        gate: Any = asyncio.Semaphore(AFTER_ACK_AT_ONCE) if gated else _NoGate()

        async def handle(ack: Any, command: Any, client: Any, respond: Any) -> None:
            await ack()

            async def reply(**message: Any) -> None:
                if message:
                    await respond(response_type="ephemeral", **message)

            given = {"ack": reply, "command": command, "client": client, "respond": respond}
            async with gate:
                await inner(**{name: value for name, value in given.items() if name in wanted})

        return handle

    return hypothesis_command


@contextmanager
def ack_first(gated: bool = False) -> Iterator[None]:
    from bot.listeners import commands

    original = commands.hypothesis_command
    commands.hypothesis_command = _ack_first(original, gated)
    try:
        yield
    finally:
        commands.hypothesis_command = original


async def _deliver_channel_waiting(
    self: Any, rows: list[Any], now: datetime, report: Any, gate: asyncio.Semaphore
) -> None:
    from jobs import outbox as courier_module
    from storage import outbox as store

    waited = 0.0
    for index, row in enumerate(rows):
        async with gate:
            limited_until = await self._deliver_one(row, now, report)
        while limited_until is not None:
            wait = max(0.0, (limited_until - self.clock()).total_seconds())
            if waited + wait > MOST_WAIT_S:
                break
            await asyncio.sleep(wait)
            waited += wait
            now = self.clock()
            again = await store.claim_due(now=now, lease=courier_module.LEASE, ids=[row.id])
            if not again:
                limited_until = None  # another sender has it now
                break
            row = again[0]
            async with gate:
                limited_until = await self._deliver_one(row, now, report)
        if limited_until is not None:
            for later in rows[index + 1 :]:
                await store.mark_retry(
                    later, at=limited_until, error="ratelimited", count_attempt=False
                )
                report.retried += 1
            return


@contextmanager
def wait_retry_after() -> Iterator[None]:
    from jobs.outbox import Courier

    original = Courier._deliver_channel
    Courier._deliver_channel = _deliver_channel_waiting  # type: ignore[method-assign]
    try:
        yield
    finally:
        Courier._deliver_channel = original  # type: ignore[method-assign]


@contextmanager
def applied(names: list[str]) -> Iterator[None]:
    """Apply the named prototypes for the duration of the block."""
    unknown = set(names) - set(PROTOTYPES)
    if unknown:
        raise SystemExit(f"unknown prototype(s) {sorted(unknown)}; known: {PROTOTYPES}")
    with ExitStack() as stack:
        if "keep_session" in names:
            stack.enter_context(keep_session())
        if "parallel_channels" in names:
            stack.enter_context(parallel_channels())
        if "ack_first" in names:
            stack.enter_context(ack_first(gated="after_ack_gate" in names))
        if "wait_retry_after" in names:
            stack.enter_context(wait_retry_after())
        yield
