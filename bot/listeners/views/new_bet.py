"""The New bet modal: check every field, show errors in place, or create the bet. Its fields
are read as `/hypothesis new` reads its line (`bets.hypothesis.read_bet`), so "within 4
days" in the signal field is when the signal should show, as it is in a one-liner."""

from __future__ import annotations

from collections.abc import Awaitable, Callable
from typing import Any

from slack_bolt.context.ack.async_ack import AsyncAck
from slack_sdk.web.async_client import AsyncWebClient

from bets.durations import WHEN_HELP
from bets.hypothesis import MAX_TEXT, MAX_TITLE, missing_parts, read_bet
from bets.timing import read_expectation
from bot.answers import BetDraft, draft_title, missing_text
from bot.blocks import ids
from bot.blocks.card import UTC_ZONE
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


def _field_errors(values: dict[str, str | None], now: Any) -> dict[str, str]:
    errors: dict[str, str] = {}
    hypothesis = (values.get(ids.F_HYPOTHESIS) or "").strip()
    if not hypothesis:
        errors[ids.F_HYPOTHESIS] = "Say what you believe: “We believe <change> for <whom> will …”."
    elif len(hypothesis) > MAX_TEXT:
        errors[ids.F_HYPOTHESIS] = f"Keep it under {MAX_TEXT:,} characters."
    elif missing := missing_parts(hypothesis):
        errors[ids.F_HYPOTHESIS] = (
            f"{missing_text(missing)} “We believe <change> for <whom> will <outcome>”."
        )
    if len((values.get(ids.F_TITLE) or "").strip()) > MAX_TITLE:
        errors[ids.F_TITLE] = f"Keep the title under {MAX_TITLE} characters."
    if len((values.get(ids.F_SIGNAL) or "").strip()) > MAX_TEXT:
        errors[ids.F_SIGNAL] = f"Keep it under {MAX_TEXT:,} characters."
    if problem := link_error(values.get(ids.F_LINK)):
        errors[ids.F_LINK] = problem
    expect = (values.get(ids.F_EXPECT) or "").strip()
    if expect and read_expectation(expect, shipped_at=None, now=now, tz=UTC_ZONE) is None:
        errors[ids.F_EXPECT] = f"Use {WHEN_HELP} in the future."
    if not values.get(ids.F_CHANNEL):
        errors[ids.F_CHANNEL] = "Pick the channel whose team owns this bet."
    return errors


def new_bet_submission(runtime: Runtime) -> Callable[..., Awaitable[None]]:
    answers = runtime.answers

    async def handle(
        ack: AsyncAck, body: dict[str, Any], view: dict[str, Any], client: AsyncWebClient
    ) -> None:
        values = fields_of(view)
        if not values.get(ids.F_CHANNEL):
            values[ids.F_CHANNEL] = metadata_of(view).get("channel_id")
        errors = _field_errors(values, answers.clock())
        if errors:
            await show_errors(ack, errors)
            return
        channel_id = str(values[ids.F_CHANNEL])
        actor = actor_of(body, channel_id)
        typed = read_bet(
            typed_text(values.get(ids.F_HYPOTHESIS)), typed_text(values.get(ids.F_SIGNAL))
        )
        draft = BetDraft(
            channel_id=channel_id,
            title=draft_title(typed_text(values.get(ids.F_TITLE)), typed.hypothesis),
            hypothesis=typed.hypothesis,
            signal=typed.signal,
            owner_id=values.get(ids.F_OWNER) or actor.user_id,
            link=(values.get(ids.F_LINK) or "").strip() or None,
            expect=(values.get(ids.F_EXPECT) or "").strip() or None,
            expect_within=typed.expect_within,
        )
        try:
            reply = await answers.create(actor, draft)
        except Exception as error:
            await show_errors(ack, {ids.F_HYPOTHESIS: failure_text(error, where="new_bet_view")})
            return
        if not reply.ok:
            await show_errors(ack, {ids.F_EXPECT: reply.text})
            return
        await ack()
        await client.chat_postEphemeral(channel=channel_id, user=actor.user_id, text=reply.text)

    return handle
