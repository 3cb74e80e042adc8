"""Supports / Refutes on a nudge: open the evidence form with that verdict already chosen."""

from __future__ import annotations

from collections.abc import Awaitable, Callable
from typing import Any

from slack_bolt.context.ack.async_ack import AsyncAck
from slack_bolt.context.respond.async_respond import AsyncRespond
from slack_sdk.web.async_client import AsyncWebClient

from bot.blocks import ids, modals
from bot.listeners.actions.common import actor_of, row_id
from bot.runtime import Runtime
from storage import bets as store

VERDICTS = {ids.NUDGE_SUPPORTS: "supports", ids.NUDGE_REFUTES: "refutes"}


def nudge_button(runtime: Runtime) -> Callable[..., Awaitable[None]]:
    async def handle(
        ack: AsyncAck,
        body: dict[str, Any],
        action: dict[str, Any],
        client: AsyncWebClient,
        respond: AsyncRespond,
    ) -> None:
        await ack()
        actor = actor_of(body)
        bet_id = row_id(action)
        bet = await store.bet_by_id(actor.team_id, bet_id) if bet_id else None
        if bet is None:
            await respond(
                text="That bet doesn't exist in this workspace.",
                response_type="ephemeral",
                replace_original=False,
            )
            return
        view = modals.evidence_modal(bet, verdict=VERDICTS[action["action_id"]])
        await client.views_open(trigger_id=body["trigger_id"], view=view)

    return handle
