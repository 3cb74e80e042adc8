"""Buttons on a bet's card or nudge: moves that need nothing more happen at once, the rest
open a modal that asks for evidence, a reason or what we learned."""

from __future__ import annotations

from collections.abc import Awaitable, Callable
from typing import Any

from slack_bolt.context.ack.async_ack import AsyncAck
from slack_bolt.context.respond.async_respond import AsyncRespond
from slack_sdk.web.async_client import AsyncWebClient

from bets.lifecycle import Move, MoveRequest
from bot.blocks import ids, modals
from bot.listeners.actions.common import actor_of, row_id
from bot.listeners.safety import failure_text, respond_safely
from bot.runtime import Runtime
from bot.service import SNOOZE_BUTTON, Reply, refused
from storage import bets as store

_EVIDENCE_BUTTONS = {
    ids.ADD_EVIDENCE: None,
    ids.NUDGE_SUPPORTS: "supports",
    ids.NUDGE_REFUTES: "refutes",
}
_MODAL_MOVES = {ids.VALIDATE: Move.VALIDATE, ids.INVALIDATE: Move.INVALIDATE, ids.KILL: Move.KILL}


def bet_button(runtime: Runtime) -> Callable[..., Awaitable[None]]:
    service = runtime.service

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
        try:
            bet = await store.bet_by_id(actor.team_id, bet_id) if bet_id else None
            if bet is None:
                reply: Reply | None = refused("That bet doesn't exist in this workspace.")
            elif action["action_id"] in _EVIDENCE_BUTTONS:
                # "Add evidence" on a card; "Supports"/"Refutes" on a nudge preselect the verdict.
                verdict = _EVIDENCE_BUTTONS[action["action_id"]]
                view = modals.evidence_modal(bet, verdict=verdict)
                await client.views_open(trigger_id=body["trigger_id"], view=view)
                reply = None
            elif action["action_id"] in _MODAL_MOVES:
                move = _MODAL_MOVES[action["action_id"]]
                if not await service.may_close(actor, bet):
                    reply = await service.move(actor, bet, MoveRequest(move), source="button")
                else:
                    view = modals.close_modal(bet, move)
                    await client.views_open(trigger_id=body["trigger_id"], view=view)
                    reply = None
            elif action["action_id"] == ids.SNOOZE:
                reply = await service.snooze(actor, bet, SNOOZE_BUTTON)
            else:
                move = Move.START if action["action_id"] == ids.START else Move.SHIP
                reply = await service.move(actor, bet, MoveRequest(move), source="button")
        except Exception as error:
            reply = refused(failure_text(error, where=action["action_id"]))
        if reply is not None:
            await respond_safely(
                respond, text=reply.text, response_type="ephemeral", replace_original=False
            )
        runtime.courier.kick()

    return handle
