"""The time rules of DESIGN.md (T5, T7, T9–T12, T14) end to end: signed slash commands,
button clicks and thread replies to Hypobot served on loopback, answered through the fake
Slack Web API; asserted on what the person or the channel sees, and on the stored rows."""

from __future__ import annotations

import html
import re
from datetime import UTC, datetime, timedelta
from typing import Any

from bot.blocks import ids
from console.signing import message_event
from storage.models import Bet, Evidence
from tests.conftest import Hypobot
from tests.flows import ONE_LINER, action_ids, digest_of, posted_bet, said, settle, texts
from tests.jobs_support import run_job
from tests.slack.test_threads import click_under_prompt, deliver_event

MONDAY = datetime(2026, 11, 2, 10, 0, tzinfo=UTC)  # the fixture clock's start
PLACEHOLDER = re.compile(r"H-<n>|H-\{|\{number\}|\{key\}|&lt;n&gt;")


# --- helpers --------------------------------------------------------------------------------


def answer_of(body: dict[str, Any]) -> str:
    """An ephemeral answer to a command: its text and its blocks' text."""
    return f"{body.get('text') or ''}\n{texts(body.get('blocks'))}"


def channel_messages(hypobot: Hypobot, channel: str = "C1") -> list[Any]:
    """What Hypobot posted or re-rendered in `channel` (cards, prompts, reports, digests)."""
    return [
        call
        for method in ("chat.postMessage", "chat.update")
        for call in hypobot.fake.calls_to(method)
        if call.channel == channel
    ]


def card_updates(hypobot: Hypobot, bet: Bet) -> list[str]:
    return [
        said(call)
        for call in hypobot.fake.calls_to("chat.update")
        if call.params.get("ts") == bet.card_ts
    ]


async def command(hypobot: Hypobot, text: str, **kw: Any) -> str:
    status, body = await hypobot.command(text, **kw)
    assert status == 200, body
    await settle(hypobot)
    return answer_of(body)


async def posted_report(hypobot: Hypobot, window: str) -> str:
    """`/hypothesis report <window>` as the channel sees it: the posted report's text."""
    hypobot.fake.reset()
    status, body = await hypobot.command(f"report {window}")
    assert status == 200, body
    await settle(hypobot)
    reports = [
        call
        for call in hypobot.fake.calls_to("chat.postMessage")
        if str(call.params.get("text", "")).startswith("Flow report")
    ]
    assert len(reports) == 1, answer_of(body)
    return said(reports[0])


def field(report: str, label: str) -> str:
    """The value of a report field (`*label*\\nvalue`)."""
    match = re.search(rf"\*{re.escape(label)}\*\n(.*)", report)
    assert match, f"no field {label!r} in {report}"
    return match.group(1)


async def learned_bet(hypobot: Hypobot, *, shipped: datetime, ttf: timedelta) -> int:
    """A bet shipped at `shipped` and validated `ttf` later; returns its number."""
    hypobot.clock.now = shipped
    _, body = await hypobot.command(f"new {ONE_LINER}")
    number = int(body["text"].split("*H-")[1].split("*")[0])
    await hypobot.command(f"ship H-{number}")
    hypobot.clock.now = shipped + ttf
    _, body = await hypobot.command(f"validate H-{number} tickets fell 35%")
    assert "validated" in body["text"], body
    return number


# --- T5 --------------------------------------------------------------------------------------


async def test_t5_reply_labelled_supports_days_later_counts_one_day_to_feedback_in_the_report(
    hypobot: Hypobot,
) -> None:
    bet = await posted_bet(hypobot, "shipped")  # shipped Monday 10:00
    day_one = MONDAY + timedelta(days=1)
    hypobot.clock.now = day_one + timedelta(minutes=5)
    reply_ts = f"{day_one.timestamp():.0f}.000100"
    await deliver_event(
        hypobot, message_event("12 admins exported", ts=reply_ts, thread_ts=bet.card_ts, user="U3")
    )
    evidence = await Evidence.get(bet_id=bet.id)
    posted = day_one + timedelta(microseconds=100)  # the reply's own ts, to the microsecond
    assert evidence.at == posted

    hypobot.clock.now = MONDAY + timedelta(days=4)
    await click_under_prompt(hypobot, ids.VERDICT_SUPPORTS, evidence)
    assert (await Bet.get(id=bet.id)).first_feedback_at == posted

    report = await posted_report(hypobot, "30d")
    assert field(report, "Bets shipped") == "1 · 1 heard · 0 not yet"
    assert field(report, "Heard bets") == "1: median 24h · p85 24h · p95 24h"
    assert "median 24h of the 1 bet heard" in report
    assert "4d" not in field(report, "Heard bets")


# --- T7 --------------------------------------------------------------------------------------


async def test_t7_dates_in_a_berlin_channel_read_in_berlin_on_the_reply_and_the_card(
    hypobot: Hypobot,
) -> None:
    await command(hypobot, "settings digest 09:30 Europe/Berlin mon-fri")
    bet = await posted_bet(hypobot, "shipped")

    answer = await command(hypobot, "expect H-1 2026-11-20")
    assert "Fri 20 Nov" in answer, answer
    assert "Thu 19 Nov" not in answer
    stored = await Bet.get(id=bet.id)
    assert stored.expected_at == datetime(2026, 11, 19, 23, 0, tzinfo=UTC)  # Berlin midnight
    await hypobot.deliver()
    [card] = card_updates(hypobot, bet)
    assert "signal expected Fri 20 Nov" in card, card
    assert "Thu 19 Nov" not in card

    hypobot.fake.reset()
    answer = await command(hypobot, "snooze H-1 52w")
    assert "Mon 1 Nov 2027" in answer, answer
    assert re.search(r"\b11:00 CET\b", answer), answer
    assert "UTC" not in answer
    await hypobot.deliver()
    [card] = card_updates(hypobot, bet)
    assert "snoozed until Mon 1 Nov 2027" in card, card


# --- T9 --------------------------------------------------------------------------------------


async def test_t9_a_kill_that_records_what_was_learned_is_never_before_learning_anything(
    hypobot: Hypobot,
) -> None:
    bet = await posted_bet(hypobot, "shipped")
    answer = await command(hypobot, "kill H-1 superseded learned: users want an API")
    assert "*H-1* killed" in answer
    stored = await Bet.get(id=bet.id)
    assert (stored.state, stored.learned) == ("killed", "users want an API")
    await hypobot.deliver()
    [card] = card_updates(hypobot, bet)
    assert "*Learned:* users want an API" in card

    await run_job(hypobot, "digests", datetime(2026, 11, 3, 9, 30, tzinfo=UTC))
    digest = digest_of(hypobot)
    assert "1 killed" in digest, digest
    report = await posted_report(hypobot, "30d")
    assert field(report, "Killed").startswith("1"), report
    for surface in (card, digest, report):
        assert "before learning" not in surface.lower()


async def test_t9_a_bet_refuted_before_it_shipped_is_not_killed_without_evidence(
    hypobot: Hypobot,
) -> None:
    await posted_bet(hypobot, "proposed")
    await command(hypobot, "evidence H-1 - prototype users ignored the export button")
    hypobot.clock.advance(hours=2)
    await command(hypobot, "ship H-1")
    hypobot.clock.advance(hours=2)
    await command(hypobot, "kill H-1 the prototype already told us")
    stored = await Bet.get(team_id="T1", number=1)
    assert stored.state == "killed"
    assert stored.first_feedback_at is None  # before shipping: learning, not feedback (T5)
    assert stored.first_decisive_at == MONDAY

    report = await posted_report(hypobot, "30d")
    assert field(report, "Killed") == "1 (0 without evidence)", report
    await run_job(hypobot, "digests", datetime(2026, 11, 3, 9, 30, tzinfo=UTC))
    digest = digest_of(hypobot)
    assert "1 killed" in digest
    assert "without evidence" not in digest, digest


async def test_t9_a_kill_with_no_evidence_at_all_is_killed_without_evidence(
    hypobot: Hypobot,
) -> None:
    # the counterpart of the test above: the label exists and is used when it is true
    await posted_bet(hypobot, "shipped")
    await command(hypobot, "kill H-1 superseded by the API")
    report = await posted_report(hypobot, "30d")
    assert field(report, "Killed") == "1 (1 without evidence)", report
    await run_job(hypobot, "digests", datetime(2026, 11, 3, 9, 30, tzinfo=UTC))
    assert "killed without evidence" in digest_of(hypobot)


# --- T10 -------------------------------------------------------------------------------------


async def test_t10_long_reports_count_every_sample_and_compare_with_a_whole_previous_window(
    hypobot: Hypobot,
) -> None:
    # The current 200 days: one bet validated ~190 days ago after 10 days.
    current = MONDAY - timedelta(days=190)
    # The 200 days before [now-400d, now-200d): median 1d (24h) if whole, 8d if cut at a year.
    previous = [
        (MONDAY - timedelta(days=395), timedelta(days=1)),
        (MONDAY - timedelta(days=390), timedelta(days=1)),
        (MONDAY - timedelta(days=300), timedelta(days=8)),
        (MONDAY - timedelta(days=210), timedelta(days=9)),
    ]
    for learned_at, ttf in previous:
        await learned_bet(hypobot, shipped=learned_at - ttf, ttf=ttf)
    await learned_bet(hypobot, shipped=current - timedelta(days=10), ttf=timedelta(days=10))
    hypobot.clock.now = MONDAY

    report = await posted_report(hypobot, "200d")
    assert "last 200 days" in report
    assert field(report, "Bets shipped") == "1 · 1 heard · 0 not yet", report
    assert field(report, "Heard bets").startswith("1: median 10d")
    assert "↗️ slower than the 200 days before (24h)" in report, report

    report = await posted_report(hypobot, "1000d")
    assert "last 1000 days" in report
    assert field(report, "Bets shipped") == "5 · 5 heard · 0 not yet", report
    assert field(report, "Validation rate").startswith("100 % (5 ✅ / 0 ❌)")


# --- T11, T12 ---------------------------------------------------------------------------------


async def test_t11_coaching_is_said_privately_on_creation_and_never_on_the_public_card(
    hypobot: Hypobot,
) -> None:
    answer = await command(hypobot, "new We believe dark mode will help")
    assert "A coach would ask:" in answer, answer
    bet = await Bet.get(team_id="T1", number=1)
    notes = [note for note in bet.coach_notes.split("\n") if note.strip()]
    assert notes and all(note[:40] in html.unescape(answer) for note in notes)
    await hypobot.deliver()
    await command(hypobot, "ship H-1")
    await hypobot.deliver()

    public = [html.unescape(said(call)) for call in channel_messages(hypobot)]
    assert len(public) >= 2  # the card posted, then re-rendered when shipped
    for message in public:
        assert "coach" not in message.lower()
        for note in notes:
            assert note[:40] not in message


async def test_t11_a_killed_bets_card_and_show_offer_no_move_or_suggestion(
    hypobot: Hypobot,
) -> None:
    await command(hypobot, "new We believe dark mode for night owls will raise retention")
    await hypobot.deliver()
    bet = await Bet.get(team_id="T1", number=1)
    assert bet.signal == ""
    [card] = [said(call) for call in channel_messages(hypobot)]
    assert "/hypothesis signal H-1" in card  # an open bet may still get one
    hypobot.fake.reset()

    await command(hypobot, "kill H-1 nobody asked for it")
    await hypobot.deliver()
    [update] = [
        call for call in hypobot.fake.calls_to("chat.update") if call.params["ts"] == bet.card_ts
    ]
    status, body = await hypobot.command("show H-1")
    assert status == 200
    shown = answer_of(body)
    assert "killed" in shown
    for surface in (said(update), shown):
        assert "/hypothesis signal" not in surface
        assert "/hypothesis evidence" not in surface
    assert action_ids(update.blocks) == []
    assert action_ids(body.get("blocks")) == []


async def test_t12_an_old_validate_button_on_an_invalidated_bet_answers_plainly(
    hypobot: Hypobot,
) -> None:
    bet = await posted_bet(hypobot, "shipped")
    await command(hypobot, "invalidate H-1 tickets rose learned: admins export via the API")
    assert (await Bet.get(id=bet.id)).state == "invalidated"
    hypobot.fake.reset()

    status, _ = await hypobot.action(
        ids.VALIDATE, str(bet.id), channel_id="C1", message_ts="1793613900.000100"
    )
    assert status == 200
    await settle(hypobot)
    assert hypobot.fake.calls_to("views.open") == []
    [answer] = hypobot.fake.calls_to("response_url")
    text = str(answer.text)
    assert answer.params["response_type"] == "ephemeral"
    assert answer.params["replace_original"] is False
    assert "H-1 is already invalidated" in text, text
    assert not PLACEHOLDER.search(text), text
    assert "an invalidated bet" in text.lower(), text
    assert "a invalidated" not in text.lower()
    assert (await Bet.get(id=bet.id)).state == "invalidated"


# --- T14 -------------------------------------------------------------------------------------


async def test_t14_starting_over_the_wip_limit_still_starts_and_says_so(hypobot: Hypobot) -> None:
    await command(hypobot, "settings wip 1")
    await command(hypobot, f"new {ONE_LINER}")
    await command(hypobot, "new We believe dark mode for night owls will raise retention")

    first = await command(hypobot, "start H-1")
    assert "*H-1* started." in first
    assert "WIP limit" not in first
    second = await command(hypobot, "start H-2")
    assert "*H-2* started." in second, second
    assert "over its WIP limit: 2 bets building, limit 1" in second, second
    states = [bet.state for bet in await Bet.filter(team_id="T1").order_by("number")]
    assert states == ["building", "building"]
