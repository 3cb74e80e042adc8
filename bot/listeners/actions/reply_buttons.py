"""Buttons under Hypobot's answer to a thread reply: settle the reply's verdict, or close the
bet with it (invalidate asks what we learned first)."""

from __future__ import annotations

import json
from collections.abc import Awaitable, Callable
from typing import Any

from slack_bolt.context.ack.async_ack import AsyncAck
from slack_bolt.context.respond.async_respond import AsyncRespond
from slack_sdk.web.async_client import AsyncWebClient

from bets.lifecycle import Move, MoveRequest
from bot.blocks import ids, modals, replies
from bot.listeners.actions.common import actor_of, row_id
from bot.listeners.safety import failure_text, respond_safely
from bot.runtime import Runtime
from bot.service import Reply, refused
from storage import bets as store

_VERDICTS = {
    ids.VERDICT_SUPPORTS: "supports",
    ids.VERDICT_REFUTES: "refutes",
    ids.VERDICT_NOTE: "inconclusive",
}


def reply_button(runtime: Runtime) -> Callable[..., Awaitable[None]]:
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
        evidence_id = row_id(action)
        replace = False
        try:
            evidence = (
                await store.evidence_by_id(actor.team_id, evidence_id) if evidence_id else None
            )
            bet = await store.bet_by_id(actor.team_id, evidence.bet_id) if evidence else None
            if evidence is None or bet is None:
                reply: Reply | None = refused("That evidence doesn't exist in this workspace.")
            elif action["action_id"] in _VERDICTS:
                reply = await service.settle_verdict(
                    actor, evidence.id, _VERDICTS[action["action_id"]]
                )
                replace = reply.ok
            elif action["action_id"] == ids.REPLY_VALIDATE:
                reply = await service.move(
                    actor, bet, MoveRequest(Move.VALIDATE), source="thread", evidence_id=evidence.id
                )
                if reply.ok:
                    reply = Reply(
                        reply.text,
                        blocks=replies.reply_answered(bet, evidence, "validated the bet"),
                    )
                    replace = True
            elif not await service.may_close(actor, bet):
                reply = await service.move(
                    actor, bet, MoveRequest(Move.INVALIDATE), source="thread"
                )
            else:
                view = modals.close_modal(bet, Move.INVALIDATE)
                meta = json.loads(view.get("private_metadata") or "{}")
                view["private_metadata"] = json.dumps({**meta, "evidence_id": evidence.id})
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
        runtime.courier.kick()

    return handle
