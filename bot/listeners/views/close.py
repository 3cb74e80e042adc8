"""The close modal: validate or invalidate with evidence, or kill with a reason; invalidate
and kill also ask what we learned."""

from __future__ import annotations

from collections.abc import Awaitable, Callable
from typing import Any

from slack_bolt.context.ack.async_ack import AsyncAck

from bets.lifecycle import Move, MoveRequest
from bot.blocks import ids
from bot.listeners.safety import failure_text
from bot.listeners.views.common import (
    actor_of,
    fields_of,
    link_error,
    metadata_of,
    show_errors,
    typed_text,
)
from bot.runtime import Runtime

CLOSING = {"validate": Move.VALIDATE, "invalidate": Move.INVALIDATE, "kill": Move.KILL}


def close_submission(runtime: Runtime) -> Callable[..., Awaitable[None]]:
    answers = runtime.answers

    async def handle(ack: AsyncAck, body: dict[str, Any], view: dict[str, Any]) -> None:
        values = fields_of(view)
        meta = metadata_of(view)
        move = CLOSING.get(str(meta.get("move")))
        text = typed_text(values.get(ids.F_TEXT))
        link = (values.get(ids.F_LINK) or "").strip() or None
        learned = typed_text(values.get(ids.F_LEARNED))
        if move is None:
            await show_errors(
                ack, {ids.F_TEXT: "This form is out of date; close it and try again."}
            )
            return
        if problem := link_error(link):
            await show_errors(ack, {ids.F_LINK: problem})
            return
        if move is Move.KILL and not text:
            await show_errors(ack, {ids.F_TEXT: "Say why the bet stops."})
            return
        if move in (Move.INVALIDATE, Move.KILL) and not learned and ids.F_LEARNED in values:
            await show_errors(ack, {ids.F_LEARNED: "What did we learn? One line is plenty."})
            return
        actor = actor_of(body)
        evidence_id = meta.get("evidence_id")
        try:
            reply = await answers.move(
                actor,
                MoveRequest(move, text, link, learned),
                source="modal",
                bet_id=int(meta.get("bet_id") or 0),
                evidence_id=int(evidence_id) if evidence_id else None,
            )
        except Exception as error:
            await show_errors(ack, {ids.F_TEXT: failure_text(error, where="close_view")})
            return
        if not reply.ok:
            await show_errors(ack, {ids.F_TEXT: reply.text})
            return
        await ack()

    return handle
