"""@Hypobot in a channel: a short pointer to the slash command, in the thread."""

from __future__ import annotations

from collections.abc import Awaitable, Callable
from typing import Any

from slack_bolt.context.say.async_say import AsyncSay

from bot.runtime import Runtime

HINT = (
    "Hi! I keep this team's bets. `/hypothesis` opens the New bet form, "
    "`/hypothesis list` shows what is open, and `/hypothesis help` shows everything."
)


def app_mention(runtime: Runtime) -> Callable[..., Awaitable[None]]:
    async def handle(event: dict[str, Any], say: AsyncSay) -> None:
        if event.get("bot_id"):
            return
        await say(text=HINT, thread_ts=event.get("thread_ts") or event.get("ts"))

    return handle
