"""The Add evidence modal: a verdict plus words and/or a link."""

from __future__ import annotations

from collections.abc import Awaitable, Callable
from typing import Any

from slack_bolt.context.ack.async_ack import AsyncAck
from slack_sdk.web.async_client import AsyncWebClient

from bets.evidence import Verdict
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
from usecases.bets import NewEvidence

VERDICTS = {str(v): v for v in (Verdict.SUPPORTS, Verdict.REFUTES, Verdict.INCONCLUSIVE)}


def evidence_submission(runtime: Runtime) -> Callable[..., Awaitable[None]]:
    answers = runtime.answers

    async def handle(
        ack: AsyncAck, body: dict[str, Any], view: dict[str, Any], client: AsyncWebClient
    ) -> None:
        values = fields_of(view)
        text = typed_text(values.get(ids.F_TEXT))
        link = (values.get(ids.F_LINK) or "").strip() or None
        verdict = values.get(ids.F_VERDICT) or Verdict.INCONCLUSIVE
        if not text and not link:
            await show_errors(ack, {ids.F_TEXT: "Say what you saw, or add a link."})
            return
        if problem := link_error(link):
            await show_errors(ack, {ids.F_LINK: problem})
            return
        if verdict not in VERDICTS:
            await show_errors(ack, {ids.F_VERDICT: "Pick supports, refutes or inconclusive."})
            return
        actor = actor_of(body)
        bet_id = metadata_of(view).get("bet_id")
        try:
            new = NewEvidence(VERDICTS[verdict], text, source="modal", link=link)
            reply = await answers.add_evidence(actor, new, bet_id=int(bet_id or 0))
        except Exception as error:
            await show_errors(ack, {ids.F_TEXT: failure_text(error, where="evidence_view")})
            return
        if not reply.ok:
            await show_errors(ack, {ids.F_TEXT: reply.text})
            return
        await ack()

    return handle
