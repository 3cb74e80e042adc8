"""Prototypes of changes proposed for storage/db.py and jobs/, applied in this process only
(by patching), so a benchmark can measure them next to the code as it is.

- `ack_first`: `/hypothesis` acks at once with an empty body and sends its reply through
  the response_url (ephemeral) when the service has answered, instead of holding the ack
  until the database work is done.
- `after_ack_gate` (with `ack_first`): at most 8 commands do their work after the ack at
  once; the others wait on a semaphore, so the event loop is free to verify and ack new
  requests instead of interleaving them with 200 commands' database work.

(`keep_session`, `parallel_channels` and `wait_retry_after`, measured here before, are
now how storage/ and jobs/ work.)
"""

from __future__ import annotations

import asyncio
import inspect
from collections.abc import Callable, Iterator
from contextlib import ExitStack, contextmanager
from typing import Any

PROTOTYPES = (
    "ack_first",
    "after_ack_gate",
)
AFTER_ACK_AT_ONCE = 8  # commands doing their work after the ack at a time


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


@contextmanager
def applied(names: list[str]) -> Iterator[None]:
    """Apply the named prototypes for the duration of the block."""
    unknown = set(names) - set(PROTOTYPES)
    if unknown:
        raise SystemExit(f"unknown prototype(s) {sorted(unknown)}; known: {PROTOTYPES}")
    with ExitStack() as stack:
        if "ack_first" in names:
            stack.enter_context(ack_first(gated="after_ack_gate" in names))
        yield
