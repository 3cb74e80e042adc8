"""Buttons on a bet's card or nudge: moves that need nothing more happen at once, the rest
open a modal that asks for evidence, a reason or what we learned."""

from __future__ import annotations

from collections.abc import Awaitable, Callable
from typing import Any

from slack_bolt.context.ack.async_ack import AsyncAck
from slack_bolt.context.respond.async_respond import AsyncRespond
from slack_sdk.web.async_client import AsyncWebClient

from bets.evidence import Verdict
from bets.lifecycle import Move, MoveRequest, allowed_moves
from bets.metrics import BetFacts
from bot.answers import SNOOZE_BUTTON, Reply, refusal_text, refused
from bot.blocks import ids, modals
from bot.listeners.actions.common import actor_of, row_id
from bot.listeners.safety import failure_text, respond_safely
from bot.runtime import Runtime
from usecases.results import Refused, Why

_EVIDENCE_BUTTONS = {
    ids.ADD_EVIDENCE: None,
    ids.NUDGE_SUPPORTS: Verdict.SUPPORTS,
    ids.NUDGE_REFUTES: Verdict.REFUTES,
}
_MODAL_MOVES = {ids.VALIDATE: Move.VALIDATE, ids.INVALIDATE: Move.INVALIDATE, ids.KILL: Move.KILL}


def bet_button(runtime: Runtime) -> Callable[..., Awaitable[None]]:
    answers = runtime.answers

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
            bet = await answers.bet(actor, bet_id or 0)
            reply: Reply | None = None
            if isinstance(bet, Reply):
                reply = bet
            elif (stale := _stale(action["action_id"], bet)) is not None:
                reply = stale  # T12: an old button says what the bet is now, no form
            elif action["action_id"] in _EVIDENCE_BUTTONS:
                # "Add evidence" on a card; "Supports"/"Refutes" on a nudge preselect the verdict.
                verdict = _EVIDENCE_BUTTONS[action["action_id"]]
                view = modals.evidence_modal(bet, verdict=verdict)
                await client.views_open(trigger_id=body["trigger_id"], view=view)
                reply = None
            elif action["action_id"] in _MODAL_MOVES:
                move = _MODAL_MOVES[action["action_id"]]
                if not await answers.may_close(actor, bet):
                    reply = await answers.move(
                        actor, MoveRequest(move), source="button", bet_id=bet.id
                    )
                else:
                    view = modals.close_modal(bet, move)
                    await client.views_open(trigger_id=body["trigger_id"], view=view)
                    reply = None
            elif action["action_id"] == ids.SNOOZE:
                reply = await answers.snooze(actor, SNOOZE_BUTTON, bet_id=bet.id)
            else:
                move = Move.START if action["action_id"] == ids.START else Move.SHIP
                reply = await answers.move(actor, MoveRequest(move), source="button", bet_id=bet.id)
        except Exception as error:
            reply = refused(failure_text(error, where=action["action_id"]))
        if reply is not None:
            await respond_safely(
                respond, text=reply.text, response_type="ephemeral", replace_original=False
            )

    return handle


def _stale(action_id: str, bet: BetFacts) -> Reply | None:
    """A form button the bet's state no longer allows (the card or nudge is older than the
    bet's last move): say plainly where the bet stands instead of opening a form (T12)."""
    legal = allowed_moves(bet.state)
    move = _MODAL_MOVES.get(action_id)
    if move is not None and move not in legal:
        why = Why.ILLEGAL_MOVE
    elif action_id in _EVIDENCE_BUTTONS and bet.state.is_final:
        why = Why.CLOSED
    else:
        return None
    refusal = Refused(why, number=bet.number, state=bet.state, move=move, allowed=legal)
    return refused(refusal_text(refusal))
