"""`/hypothesis …`: parse, run one service function, answer within Slack's 3 seconds."""

from __future__ import annotations

import logging
from collections.abc import Awaitable, Callable
from typing import Any

from slack_bolt.context.ack.async_ack import AsyncAck
from slack_sdk.errors import SlackApiError
from slack_sdk.web.async_client import AsyncWebClient

from bot import grammar
from bot.blocks import modals
from bot.blocks.text import escape
from bot.listeners.safety import failure_text
from bot.runtime import Runtime
from bot.service import Actor
from storage import outbox as outbox_store

log = logging.getLogger("hypobot.commands")


async def post_with_chart(
    runtime: Runtime,
    client: AsyncWebClient,
    team_id: str,
    outbox_id: int,
    chart: bytes | None,
) -> None:
    """Send a queued message now and put its chart in the message's thread."""
    await runtime.courier.deliver(ids=[outbox_id])
    row = await outbox_store.row(team_id, outbox_id)
    if chart is None or row is None or row.message_ts is None:
        return  # not sent yet: the outbox retries the message; the chart is best effort
    try:
        await client.files_upload_v2(
            channel=row.channel_id,
            thread_ts=row.message_ts,
            content=chart,
            filename="time-to-feedback.png",
            title="Time to feedback",
        )
    except (SlackApiError, OSError) as error:
        log.warning("report.chart_failed", extra={"error_type": type(error).__name__})


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
        if reply.outbox_id is not None:
            await post_with_chart(runtime, client, actor.team_id, reply.outbox_id, reply.chart)
        runtime.courier.kick()

    return handle
