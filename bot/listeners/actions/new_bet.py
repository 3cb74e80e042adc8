"""The New bet button (App Home): open the same modal as a bare `/hypothesis`."""

from __future__ import annotations

from collections.abc import Awaitable, Callable
from typing import Any

from slack_bolt.context.ack.async_ack import AsyncAck
from slack_sdk.web.async_client import AsyncWebClient

from bot.blocks import modals
from bot.runtime import Runtime


def new_bet_button(runtime: Runtime) -> Callable[..., Awaitable[None]]:
    async def handle(ack: AsyncAck, body: dict[str, Any], client: AsyncWebClient) -> None:
        await ack()
        channel = (body.get("channel") or {}).get("id") or ""
        view = modals.new_bet_modal(channel_id=channel, owner_id=body["user"]["id"])
        await client.views_open(trigger_id=body["trigger_id"], view=view)

    return handle
