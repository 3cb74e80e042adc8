"""Message shortcut "Record as evidence": pick a bet and a verdict for any message; the
message's permalink becomes the evidence's link and its text the evidence's words.

(channel, message ts) is the evidence's dedupe key, so the same message is recorded once.
"""

from __future__ import annotations

import logging
from collections.abc import Awaitable, Callable
from typing import Any

from slack_bolt.context.ack.async_ack import AsyncAck
from slack_sdk.errors import SlackApiError
from slack_sdk.web.async_client import AsyncWebClient

from bets.evidence import Verdict
from bot import grammar
from bot.answers import posted_at
from bot.blocks import ids
from bot.blocks import shortcut as shortcut_blocks
from bot.blocks.modals import VERDICTS
from bot.listeners.actions.common import row_id
from bot.listeners.safety import failure_text
from bot.listeners.views.common import (
    actor_of,
    fields_of,
    metadata_of,
    show_errors,
    typed_text,
)
from bot.runtime import Runtime
from usecases.bets import NewEvidence

log = logging.getLogger("hypobot.shortcuts")


def record_evidence(runtime: Runtime) -> Callable[..., Awaitable[None]]:
    async def handle(ack: AsyncAck, body: dict[str, Any], client: AsyncWebClient) -> None:
        await ack()
        message = body.get("message") or {}
        channel_id = (body.get("channel") or {}).get("id")
        message_ts = message.get("ts") or body.get("message_ts")
        if not channel_id or not message_ts:
            return  # a global shortcut with our callback_id: there is no message to record
        try:
            permalink = None
            try:
                found = await client.chat_getPermalink(channel=channel_id, message_ts=message_ts)
                permalink = found.get("permalink")
            except SlackApiError:
                pass  # e.g. a DM Hypobot can't see: the words are still evidence
            view = shortcut_blocks.record_modal(
                channel_id=channel_id,
                message_ts=str(message_ts),
                text=grammar.clean_text(message.get("text") or ""),
                author_id=message.get("user"),
                permalink=permalink,
            )
            await client.views_open(trigger_id=body["trigger_id"], view=view)
        except Exception as error:
            failure_text(error, where="record_evidence")

    return handle


def _picked_bet(view: dict[str, Any]) -> int | None:
    """The bet id the external_select carries (read_values knows no external selects)."""
    state = view.get("state", {}).get("values", {}).get(ids.F_BET, {}).get(ids.F_BET, {})
    return row_id(state.get("selected_option") or {})


def record_evidence_submission(runtime: Runtime) -> Callable[..., Awaitable[None]]:
    answers = runtime.answers

    async def handle(ack: AsyncAck, body: dict[str, Any], view: dict[str, Any]) -> None:
        values = fields_of(view)
        meta = metadata_of(view)
        verdict = values.get(ids.F_VERDICT)
        bet_id = _picked_bet(view)
        if bet_id is None:
            await show_errors(ack, {ids.F_BET: "Pick the bet this message is evidence on."})
            return
        if verdict not in VERDICTS:
            await show_errors(ack, {ids.F_VERDICT: "Pick supports, refutes or inconclusive."})
            return
        channel_id, message_ts = meta.get("channel_id"), meta.get("message_ts")
        if not isinstance(channel_id, str) or not isinstance(message_ts, str):
            await show_errors(
                ack, {ids.F_BET: "This form lost its message; run the shortcut again."}
            )
            return
        permalink = meta.get("permalink") if isinstance(meta.get("permalink"), str) else None
        text = shortcut_blocks.evidence_text(
            str(meta.get("text") or ""), typed_text(values.get(ids.F_NOTE))
        )
        if not text and not permalink:
            await show_errors(
                ack, {ids.F_NOTE: "The message has no text Hypobot can keep: say what it shows."}
            )
            return
        actor = actor_of(body, channel_id)
        try:
            new = NewEvidence(
                Verdict(verdict),
                text,
                source="shortcut",
                link=permalink,
                permalink=permalink,
                channel_id=channel_id,
                message_ts=message_ts,
                posted_at=posted_at(message_ts, answers.clock()),  # the message's own time (T5)
            )
            reply = await answers.add_evidence(actor, new, bet_id=bet_id)
        except Exception as error:
            await show_errors(ack, {ids.F_BET: failure_text(error, where="record_evidence_view")})
            return
        if not reply.ok:
            await show_errors(ack, {ids.F_BET: reply.text.replace("*", "")})
            return
        assert reply.bet is not None
        view = shortcut_blocks.recorded_view(reply.bet, verdict)
        await ack(response_action="update", view=view)
        log.info("evidence.shortcut", extra={"team_id": actor.team_id, "bet_id": reply.bet.id})

    return handle
