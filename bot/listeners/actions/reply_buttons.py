"""Buttons under Hypobot's answer to a thread reply: settle the reply's verdict, or close the
bet with it (invalidate asks what we learned first)."""

from __future__ import annotations

import json
from collections.abc import Awaitable, Callable
from typing import Any

from slack_bolt.context.ack.async_ack import AsyncAck
from slack_bolt.context.respond.async_respond import AsyncRespond
from slack_sdk.web.async_client import AsyncWebClient

from bets.evidence import Verdict
from bets.lifecycle import Move, MoveRequest, allowed_moves
from bot.answers import Reply, refused
from bot.blocks import ids, modals, replies
from bot.listeners.actions.common import actor_of, row_id
from bot.listeners.safety import failure_text, respond_safely
from bot.runtime import Runtime

_VERDICTS = {
    ids.VERDICT_SUPPORTS: Verdict.SUPPORTS,
    ids.VERDICT_REFUTES: Verdict.REFUTES,
    ids.VERDICT_NOTE: Verdict.INCONCLUSIVE,
}


def reply_button(runtime: Runtime) -> Callable[..., Awaitable[None]]:
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
        evidence_id = row_id(action)
        replace = False
        try:
            found = await answers.evidence(actor, evidence_id or 0)
            reply: Reply | None = None
            if isinstance(found, Reply):
                reply = found
            elif action["action_id"] in _VERDICTS:
                bet, evidence = found
                reply = await answers.settle_verdict(
                    actor, evidence.id, _VERDICTS[action["action_id"]]
                )
                replace = reply.ok
            elif action["action_id"] == ids.REPLY_VALIDATE:
                bet, evidence = found
                reply = await answers.move(
                    actor,
                    MoveRequest(Move.VALIDATE),
                    source="thread",
                    bet_id=bet.id,
                    evidence_id=evidence.id,
                )
                if reply.ok:
                    reply = Reply(
                        reply.text,
                        blocks=replies.reply_answered(bet, evidence, "validated the bet"),
                    )
                    replace = True
            elif Move.INVALIDATE not in allowed_moves((bet := found[0]).state):
                reply = await answers.move(  # T12: says plainly where the bet stands
                    actor, MoveRequest(Move.INVALIDATE), source="thread", bet_id=bet.id
                )
            elif not await answers.may_close(actor, bet):
                reply = await answers.move(
                    actor, MoveRequest(Move.INVALIDATE), source="thread", bet_id=bet.id
                )
            else:
                view = modals.close_modal(bet, Move.INVALIDATE)
                meta = json.loads(view.get("private_metadata") or "{}")
                view["private_metadata"] = json.dumps({**meta, "evidence_id": found[1].id})
                await client.views_open(trigger_id=body["trigger_id"], view=view)
                reply = None
        except Exception as error:
            reply = refused(failure_text(error, where=action["action_id"]))
        if reply is not None:
            if replace:
                await respond_safely(
                    respond, text=reply.text, blocks=reply.blocks, replace_original=True
                )
            else:
                await respond_safely(
                    respond, text=reply.text, response_type="ephemeral", replace_original=False
                )

    return handle
