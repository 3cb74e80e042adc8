"""Replies in a bet's thread end to end: a human reply becomes evidence once, Hypobot answers
in the thread, and the buttons under its answer settle the verdict or close the bet."""

from __future__ import annotations

import asyncio
import json
from typing import Any

import pytest

from bot.blocks import ids
from console.fakeslack import PERMALINK_ROOT
from console.signing import BOT_ID, message_event
from storage.models import Bet, Event, Evidence
from tests.conftest import Hypobot
from tests.flows import action_ids, posted_bet, row_counts, settle

REPLY_TS = "1793613660.000200"  # 2026-11-02 10:01 UTC: just after the bets ship
REPLY_TEXT = "12 admins exported this week &amp; tickets fell &lt;3"


def reply_to(bet: Bet, text: str = REPLY_TEXT, **kw: Any) -> dict[str, Any]:
    """A message event for a reply in `bet`'s thread (override any field with `kw`)."""
    fields: dict[str, Any] = {"ts": REPLY_TS, "thread_ts": bet.card_ts, "user": "U3"}
    return message_event(text, **(fields | kw))


async def deliver_event(
    hypobot: Hypobot, event: dict[str, Any], *, team_id: str = "T1", **kw: Any
) -> None:
    # Slack sends a channel's messages only to members: Hypobot must have joined the channel.
    assert hypobot.fake.would_deliver(event), f"Hypobot is not in {event.get('channel')}"
    status, _ = await hypobot.slack.event(event, team_id=team_id, **kw)
    assert status == 200
    await settle(hypobot)


def prompts(hypobot: Hypobot) -> list[Any]:
    """Hypobot's posts in a thread: its answers to replies."""
    return [call for call in hypobot.fake.calls_to("chat.postMessage") if call.thread_ts]


async def recorded_reply(hypobot: Hypobot, state: str = "shipped") -> tuple[Bet, Evidence]:
    """A bet in `state` with one reply recorded in its thread and Hypobot's answer posted."""
    bet = await posted_bet(hypobot, state)
    await deliver_event(hypobot, reply_to(bet))
    evidence = await Evidence.get(bet_id=bet.id)
    hypobot.fake.reset()
    return bet, evidence


async def click_under_prompt(
    hypobot: Hypobot, action_id: str, evidence: Evidence, **kw: Any
) -> None:
    fields: dict[str, Any] = {"channel_id": "C1", "message_ts": "1793000000.000300"}
    status, _ = await hypobot.action(action_id, str(evidence.id), **(fields | kw))
    assert status == 200
    await settle(hypobot)


# --- a reply becomes evidence ----------------------------------------------------------------


async def test_human_reply_in_a_card_thread_becomes_evidence_of_unknown_verdict(
    hypobot: Hypobot,
) -> None:
    bet = await posted_bet(hypobot, "shipped")
    await deliver_event(hypobot, reply_to(bet))
    [evidence] = await Evidence.filter(bet_id=bet.id)
    assert (evidence.verdict, evidence.source, evidence.author_id) == ("unknown", "thread", "U3")
    assert evidence.text == "12 admins exported this week & tickets fell <3"
    assert (evidence.channel_id, evidence.message_ts) == ("C1", REPLY_TS)
    assert evidence.permalink == f"{PERMALINK_ROOT}/archives/C1/p{REPLY_TS.replace('.', '')}"
    assert (await Bet.get(id=bet.id)).evidence_count == 1


async def test_hypobot_answers_a_reply_in_the_thread_with_verdict_buttons(
    hypobot: Hypobot,
) -> None:
    bet = await posted_bet(hypobot, "shipped")
    await deliver_event(hypobot, reply_to(bet))
    evidence = await Evidence.get(bet_id=bet.id)
    [prompt] = prompts(hypobot)
    assert (prompt.channel, prompt.thread_ts) == ("C1", bet.card_ts)
    assert action_ids(prompt.blocks) == [
        ids.VERDICT_SUPPORTS,
        ids.VERDICT_REFUTES,
        ids.VERDICT_NOTE,
        ids.REPLY_VALIDATE,
        ids.REPLY_INVALIDATE,
    ]
    values = {e["value"] for b in prompt.blocks if b["type"] == "actions" for e in b["elements"]}
    assert values == {str(evidence.id)}
    assert not hypobot.fake.block_errors


async def test_answer_to_a_reply_on_a_proposed_bet_offers_no_outcome_buttons(
    hypobot: Hypobot,
) -> None:
    bet = await posted_bet(hypobot, "proposed")
    await deliver_event(hypobot, reply_to(bet))
    [prompt] = prompts(hypobot)
    assert action_ids(prompt.blocks) == [
        ids.VERDICT_SUPPORTS,
        ids.VERDICT_REFUTES,
        ids.VERDICT_NOTE,
    ]


async def test_retried_deliveries_of_a_reply_record_it_once(hypobot: Hypobot) -> None:
    bet = await posted_bet(hypobot, "shipped")
    event = reply_to(bet)
    await deliver_event(hypobot, event, event_id="Ev1")
    for retry in (1, 2, 3):
        await deliver_event(hypobot, event, event_id="Ev1", retry_num=retry)
    assert await Evidence.filter(bet_id=bet.id).count() == 1
    assert len(prompts(hypobot)) == 1


async def test_concurrent_deliveries_of_a_reply_record_it_once(hypobot: Hypobot) -> None:
    bet = await posted_bet(hypobot, "shipped")
    event = reply_to(bet)
    await asyncio.gather(
        hypobot.slack.event(event, event_id="Ev1"),
        *(hypobot.slack.event(event, event_id="Ev1", retry_num=n) for n in (1, 2, 3)),
    )
    await settle(hypobot)
    assert await Evidence.filter(bet_id=bet.id).count() == 1
    assert await Event.filter(bet_id=bet.id, kind="evidence").count() == 1
    assert len(prompts(hypobot)) == 1
    assert (await Bet.get(id=bet.id)).evidence_count == 1


async def test_reply_by_someone_from_another_organisation_in_a_shared_channel_counts(
    hypobot: Hypobot,
) -> None:
    # In a Slack Connect channel the author's own team rides on the event; the reply still
    # belongs to the workspace the event was delivered to.
    bet = await posted_bet(hypobot, "shipped")
    await deliver_event(hypobot, reply_to(bet, team="TPARTNER", user="UPARTNER"))
    [evidence] = await Evidence.filter(bet_id=bet.id)
    assert evidence.author_id == "UPARTNER"


# --- what is not a reply to learn from --------------------------------------------------------


@pytest.mark.parametrize(
    "changes",
    [
        {"bot_id": BOT_ID, "user": "UBOT"},
        {"bot_id": "BOTHER", "user": "UOTHERBOT"},
        {"subtype": "message_changed"},
        {"subtype": "message_deleted"},
        {"subtype": "channel_join"},
        {"thread_ts": None},
    ],
    ids=["hypobot", "other-bot", "edited", "deleted", "join", "top-level"],
)
async def test_messages_that_are_not_human_replies_record_nothing(
    hypobot: Hypobot, changes: dict[str, Any]
) -> None:
    bet = await posted_bet(hypobot, "shipped")
    before = await row_counts()
    event = {key: value for key, value in (reply_to(bet) | changes).items() if value is not None}
    await deliver_event(hypobot, event)
    assert await row_counts() == before
    assert not prompts(hypobot)


async def test_reply_in_a_thread_that_is_no_bets_records_nothing(hypobot: Hypobot) -> None:
    bet = await posted_bet(hypobot, "shipped")
    before = await row_counts()
    await deliver_event(hypobot, reply_to(bet, thread_ts="1790000000.000001"))
    assert await row_counts() == before
    assert not prompts(hypobot)


async def test_reply_in_the_same_thread_of_another_workspace_records_nothing(
    hypobot: Hypobot,
) -> None:
    bet = await posted_bet(hypobot, "shipped", team_id="TA")
    before = await row_counts()
    await deliver_event(hypobot, reply_to(bet, team="TB"), team_id="TB")
    assert await row_counts() == before
    assert not prompts(hypobot)


async def test_reply_delivered_to_another_workspace_records_nothing_whoever_wrote_it(
    hypobot: Hypobot,
) -> None:
    bet = await posted_bet(hypobot, "shipped", team_id="TA")
    before = await row_counts()
    await deliver_event(hypobot, reply_to(bet, team="TA"), team_id="TB")
    assert await row_counts() == before


async def test_reply_in_a_closed_bets_thread_records_nothing(hypobot: Hypobot) -> None:
    bet = await posted_bet(hypobot, "validated")
    await deliver_event(hypobot, reply_to(bet))
    assert await Evidence.filter(bet_id=bet.id).count() == 1  # the validating evidence only
    assert not prompts(hypobot)


# --- the buttons under Hypobot's answer --------------------------------------------------------


async def test_supports_sets_the_verdict_and_replaces_the_prompt(hypobot: Hypobot) -> None:
    _bet, evidence = await recorded_reply(hypobot)
    await click_under_prompt(hypobot, ids.VERDICT_SUPPORTS, evidence)
    assert (await Evidence.get(id=evidence.id)).verdict == "supports"
    [answer] = hypobot.fake.calls_to("response_url")
    assert answer.params["replace_original"] is True
    assert "<@U3>'s reply is evidence on *H-1*: supports" in str(answer.blocks)
    assert action_ids(answer.blocks) == []
    assert not hypobot.fake.block_errors


async def test_t5_supports_labelled_later_counts_from_when_the_reply_was_posted(
    hypobot: Hypobot,
) -> None:
    bet, evidence = await recorded_reply(hypobot, "shipped")
    posted = evidence.at
    hypobot.clock.advance(days=3)
    await click_under_prompt(hypobot, ids.VERDICT_SUPPORTS, evidence)
    assert (await Bet.get(id=bet.id)).first_feedback_at == posted


async def test_supports_before_shipping_does_not_start_time_to_feedback(hypobot: Hypobot) -> None:
    bet, evidence = await recorded_reply(hypobot, "building")
    await click_under_prompt(hypobot, ids.VERDICT_SUPPORTS, evidence)
    assert (await Evidence.get(id=evidence.id)).verdict == "supports"
    assert (await Bet.get(id=bet.id)).first_feedback_at is None


async def test_just_a_note_keeps_first_feedback_unset(hypobot: Hypobot) -> None:
    bet, evidence = await recorded_reply(hypobot, "shipped")
    await click_under_prompt(hypobot, ids.VERDICT_NOTE, evidence)
    assert (await Evidence.get(id=evidence.id)).verdict == "inconclusive"
    assert (await Bet.get(id=bet.id)).first_feedback_at is None


async def test_verdict_under_the_prompt_of_a_closed_bet_is_refused(hypobot: Hypobot) -> None:
    bet, evidence = await recorded_reply(hypobot, "shipped")
    await hypobot.command("kill H-1 superseded by the API")
    await click_under_prompt(hypobot, ids.VERDICT_SUPPORTS, evidence)
    [answer] = hypobot.fake.calls_to("response_url")
    assert answer.params["replace_original"] is False
    assert "killed" in str(answer.text)
    assert (await Evidence.get(id=evidence.id)).verdict == "unknown"
    assert (await Bet.get(id=bet.id)).first_feedback_at is None


async def test_verdict_updates_the_card(hypobot: Hypobot) -> None:
    bet, evidence = await recorded_reply(hypobot)
    await click_under_prompt(hypobot, ids.VERDICT_REFUTES, evidence)
    [update] = hypobot.fake.calls_to("chat.update")
    assert update.params["ts"] == bet.card_ts


async def test_validate_under_the_prompt_validates_with_that_reply_as_evidence(
    hypobot: Hypobot,
) -> None:
    bet, evidence = await recorded_reply(hypobot)
    await click_under_prompt(hypobot, ids.REPLY_VALIDATE, evidence)
    validated = await Bet.get(id=bet.id)
    assert validated.state == "validated"
    assert validated.first_feedback_at == evidence.at
    assert [(e.id, e.verdict) for e in await Evidence.filter(bet_id=bet.id)] == [
        (evidence.id, "supports")
    ]
    event = await Event.get(bet_id=bet.id, kind="validate")
    assert (event.data["evidence_id"], event.data["source"]) == (evidence.id, "thread")


async def test_validate_under_the_prompt_replaces_the_prompt(hypobot: Hypobot) -> None:
    _bet, evidence = await recorded_reply(hypobot)
    await click_under_prompt(hypobot, ids.REPLY_VALIDATE, evidence)
    [answer] = hypobot.fake.calls_to("response_url")
    assert answer.params["replace_original"] is True
    assert "validated the bet" in str(answer.blocks)


async def test_validate_under_the_prompt_by_someone_else_is_refused(hypobot: Hypobot) -> None:
    bet, evidence = await recorded_reply(hypobot)
    await click_under_prompt(hypobot, ids.REPLY_VALIDATE, evidence, user_id="U3")
    [answer] = hypobot.fake.calls_to("response_url")
    assert answer.params["replace_original"] is False
    assert "Only H-1's owner" in str(answer.text)
    assert (await Bet.get(id=bet.id)).state == "shipped"
    assert (await Evidence.get(id=evidence.id)).verdict == "unknown"


async def test_invalidate_under_the_prompt_asks_what_we_learned_about_that_reply(
    hypobot: Hypobot,
) -> None:
    bet, evidence = await recorded_reply(hypobot)
    await click_under_prompt(hypobot, ids.REPLY_INVALIDATE, evidence)
    [opened] = hypobot.fake.calls_to("views.open")
    assert opened.view["callback_id"] == ids.CLOSE_VIEW
    assert json.loads(opened.view["private_metadata"]) == {
        "bet_id": bet.id,
        "move": "invalidate",
        "evidence_id": evidence.id,
    }
    assert (await Bet.get(id=bet.id)).state == "shipped"


async def test_invalidate_modal_from_the_prompt_refutes_with_that_reply(hypobot: Hypobot) -> None:
    bet, evidence = await recorded_reply(hypobot)
    await click_under_prompt(hypobot, ids.REPLY_INVALIDATE, evidence)
    [opened] = hypobot.fake.calls_to("views.open")
    values = {
        ids.F_TEXT: {ids.F_TEXT: {"type": "plain_text_input", "value": None}},
        ids.F_LINK: {ids.F_LINK: {"type": "url_text_input", "value": None}},
        ids.F_LEARNED: {ids.F_LEARNED: {"type": "plain_text_input", "value": "admins use the API"}},
    }
    status, body = await hypobot.slack.submit_view(
        ids.CLOSE_VIEW, values, private_metadata=opened.view["private_metadata"]
    )
    assert (status, body) == (200, "")
    closed = await Bet.get(id=bet.id)
    assert (closed.state, closed.learned) == ("invalidated", "admins use the API")
    assert [(e.id, e.verdict) for e in await Evidence.filter(bet_id=bet.id)] == [
        (evidence.id, "refutes")
    ]


@pytest.mark.parametrize("action_id", [ids.VERDICT_SUPPORTS, ids.REPLY_VALIDATE])
async def test_prompt_button_naming_another_workspaces_evidence_is_refused(
    hypobot: Hypobot, action_id: str
) -> None:
    bet = await posted_bet(hypobot, "shipped", team_id="TA")
    await deliver_event(hypobot, reply_to(bet, team="TA"), team_id="TA")
    evidence = await Evidence.get(bet_id=bet.id)
    hypobot.fake.reset()
    await click_under_prompt(hypobot, action_id, evidence, team_id="TB", user_id="UB")
    [answer] = hypobot.fake.calls_to("response_url")
    assert "doesn't exist in this workspace" in str(answer.text)
    assert (await Evidence.get(id=evidence.id)).verdict == "unknown"
    assert (await Bet.get(id=bet.id)).state == "shipped"
