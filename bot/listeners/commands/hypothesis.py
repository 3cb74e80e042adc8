"""`/hypothesis …`: parse, run one service function, answer within Slack's 3 seconds."""

from __future__ import annotations

from collections.abc import Awaitable, Callable
from typing import Any

from slack_bolt.context.ack.async_ack import AsyncAck
from slack_sdk.web.async_client import AsyncWebClient

from bot import grammar
from bot.blocks import modals
from bot.blocks.text import escape
from bot.listeners.safety import failure_text
from bot.runtime import Runtime
from bot.service import Actor


def hypothesis_command(runtime: Runtime) -> Callable[..., Awaitable[None]]:
    async def handle(ack: AsyncAck, command: dict[str, Any], client: AsyncWebClient) -> None:
        actor = Actor(command["team_id"], command["user_id"], command.get("channel_id"))
        parsed = grammar.parse(command.get("text") or "")
        if isinstance(parsed, grammar.Usage):
            await ack(text=escape(parsed.message))  # it quotes what the user typed
            return
        if isinstance(parsed, grammar.OpenModal):
            # Ack first: views.open may be slow, and the trigger stays valid for 3 seconds.
            await ack()
            view = modals.new_bet_modal(channel_id=actor.channel_id or "", owner_id=actor.user_id)
            await client.views_open(trigger_id=command["trigger_id"], view=view)
            return
        try:
            reply = await runtime.service.run(actor, parsed)
        except Exception as error:
            await ack(text=failure_text(error, where="command"))
            return
        await ack(text=reply.text, blocks=reply.blocks)
        runtime.courier.kick()

    return handle
