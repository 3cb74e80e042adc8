"""The bet picker's type-ahead: open bets of the clicker's workspace matching what they typed."""

from __future__ import annotations

from collections.abc import Awaitable, Callable
from typing import Any

from slack_bolt.context.ack.async_ack import AsyncAck

from bot.blocks import shortcut as shortcut_blocks
from bot.listeners.safety import failure_text
from bot.listeners.views.common import actor_of
from bot.runtime import Runtime

MAX_QUERY = 100  # nobody types more into a picker; longer input is cut, not searched


def bet_picker(runtime: Runtime) -> Callable[..., Awaitable[None]]:
    async def handle(ack: AsyncAck, body: dict[str, Any]) -> None:
        query = str(body.get("value") or "")[:MAX_QUERY]
        try:
            actor = actor_of(body)
            found = await runtime.answers.search(
                actor.team_id, query, limit=shortcut_blocks.MAX_OPTIONS
            )
        except Exception as error:
            failure_text(error, where="bet_picker")
            found = []
        await ack(options=shortcut_blocks.bet_options(found))

    return handle
