"""Hypobot was invited to a channel (`/invite @Hypobot`): what waited for it goes out now.

Slack sends member_joined_channel for every member who joins a channel Hypobot is in; only
Hypobot's own joins matter here (Bolt keeps these events even though they are the app's own).
"""

from __future__ import annotations

from collections.abc import Awaitable, Callable
from typing import Any

from slack_bolt.context.async_context import AsyncBoltContext

from bot.listeners.safety import failure_text
from bot.runtime import Runtime


def member_joined(runtime: Runtime) -> Callable[..., Awaitable[None]]:
    async def handle(event: dict[str, Any], context: AsyncBoltContext) -> None:
        if not context.bot_user_id or event.get("user") != context.bot_user_id:
            return
        try:
            await runtime.sender.invited(str(context.team_id), str(event["channel"]))
        except Exception as error:  # the rows stay held; the next recheck finds them
            failure_text(error, where="member_joined")

    return handle
