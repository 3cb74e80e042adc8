"""The nudge sweep, time-controlled, on both databases: timing at the edges, working hours,
snooze, away, evidence, escalation; and exactly once however often it runs."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

from console.signing import message_event
from storage.models import Bet, Claim, Evidence, Outbox
from tests.conftest import Hypobot, eventually
from tests.jobs_support import ONE_LINER, nudges_for, run_job, shipped_bet
from usecases import chasing

MONDAY = datetime(2026, 11, 2, 10, 0, tzinfo=UTC)  # channel zone UTC, hours 09-18 Mon-Fri


async def test_nudge_is_not_due_a_minute_before_three_days(hypobot: Hypobot) -> None:
    bet = await shipped_bet(hypobot, MONDAY)
    await run_job(hypobot, "nudges", MONDAY + timedelta(days=2, hours=23, minutes=59))
    assert nudges_for(hypobot, bet) == []


async def test_nudge_goes_out_at_three_days_in_the_bets_thread(hypobot: Hypobot) -> None:
    bet = await shipped_bet(hypobot, MONDAY)
    await run_job(hypobot, "nudges", MONDAY + timedelta(days=3))
    [nudge] = nudges_for(hypobot, bet)
    assert nudge.channel == "C1" and nudge.thread_ts == bet.card_ts
    assert "<@U1>" in str(nudge.blocks)
    assert "export tickets drop 30%" in str(nudge.blocks)
    action_ids = [
        e["action_id"] for b in nudge.blocks if b["type"] == "actions" for e in b["elements"]
    ]
    assert action_ids == [
        "nudge_supports",
        "nudge_refutes",
        "bet_validate",
        "bet_invalidate",
        "bet_snooze",
        "bet_kill",
    ]
    assert not hypobot.fake.block_errors


async def test_a_nudge_on_a_bet_without_a_signal_says_how_to_name_one(hypobot: Hypobot) -> None:
    hypobot.clock.now = MONDAY
    await hypobot.command("new We believe dark mode for night owls will raise retention")
    await hypobot.command("ship H-1")
    await hypobot.deliver()
    bet = await Bet.get(team_id="T1", number=1)
    await run_job(hypobot, "nudges", MONDAY + timedelta(days=3))
    [nudge] = nudges_for(hypobot, bet)
    said = str(nudge.blocks)
    assert "We'll know when* _no signal" not in said and "no signal set" not in said
    assert "*No signal yet:* nobody said how we'd know it worked." in said
    assert "`/hypothesis signal H-1 &lt;what we will see&gt;`" in said
    assert not hypobot.fake.block_errors


async def test_running_the_same_pass_again_sends_nothing_new(hypobot: Hypobot) -> None:
    bet = await shipped_bet(hypobot, MONDAY)
    at = MONDAY + timedelta(days=3, minutes=5)
    for _ in range(3):
        await run_job(hypobot, "nudges", at)
    await run_job(hypobot, "nudges", at + timedelta(hours=2), owner="another-replica")
    assert len(nudges_for(hypobot, bet)) == 1
    assert await Claim.filter(job="nudge").count() == 1


async def test_nudge_due_on_saturday_goes_out_monday_at_opening(hypobot: Hypobot) -> None:
    wednesday = MONDAY + timedelta(days=2)
    bet = await shipped_bet(hypobot, wednesday)  # due Saturday 10:00
    saturday = wednesday + timedelta(days=3)
    await run_job(hypobot, "nudges", saturday)
    await run_job(hypobot, "nudges", saturday + timedelta(days=1))
    assert nudges_for(hypobot, bet) == []
    next_monday_0859 = datetime(2026, 11, 9, 8, 59, tzinfo=UTC)
    await run_job(hypobot, "nudges", next_monday_0859)
    assert nudges_for(hypobot, bet) == []
    await run_job(hypobot, "nudges", datetime(2026, 11, 9, 9, 0, tzinfo=UTC))
    assert len(nudges_for(hypobot, bet)) == 1


async def test_nudges_repeat_every_two_days(hypobot: Hypobot) -> None:
    bet = await shipped_bet(hypobot, MONDAY)
    thursday = MONDAY + timedelta(days=3)
    await run_job(hypobot, "nudges", thursday)
    await run_job(hypobot, "nudges", thursday + timedelta(days=1))
    assert len(nudges_for(hypobot, bet)) == 1
    # Saturday is due but off hours: Monday 09:00.
    await run_job(hypobot, "nudges", datetime(2026, 11, 9, 9, 0, tzinfo=UTC))
    assert len(nudges_for(hypobot, bet)) == 2


async def test_snoozed_bet_is_not_nudged_until_the_snooze_ends(hypobot: Hypobot) -> None:
    bet = await shipped_bet(hypobot, MONDAY)
    hypobot.clock.now = MONDAY + timedelta(days=1)
    await hypobot.command(f"snooze H-{bet.number} 1w")
    await run_job(hypobot, "nudges", MONDAY + timedelta(days=3))
    await run_job(hypobot, "nudges", MONDAY + timedelta(days=7, hours=23))
    assert nudges_for(hypobot, bet) == []
    await run_job(hypobot, "nudges", MONDAY + timedelta(days=8, hours=1))
    assert len(nudges_for(hypobot, bet)) == 1


async def test_owner_away_gets_no_nudges_until_back(hypobot: Hypobot) -> None:
    bet = await shipped_bet(hypobot, MONDAY)
    await hypobot.command("away until 2026-11-10")
    await run_job(hypobot, "nudges", MONDAY + timedelta(days=3))
    await run_job(hypobot, "nudges", datetime(2026, 11, 9, 12, 0, tzinfo=UTC))
    assert nudges_for(hypobot, bet) == []
    await run_job(hypobot, "nudges", datetime(2026, 11, 10, 9, 0, tzinfo=UTC))
    assert len(nudges_for(hypobot, bet)) == 1


async def test_decisive_evidence_stops_the_nudges(hypobot: Hypobot) -> None:
    bet = await shipped_bet(hypobot, MONDAY)
    hypobot.clock.now = MONDAY + timedelta(days=1)
    await hypobot.command(f"evidence H-{bet.number} + tickets already falling")
    await run_job(hypobot, "nudges", MONDAY + timedelta(days=3))
    assert nudges_for(hypobot, bet) == []


async def test_expected_signal_date_replaces_the_default_due_time(hypobot: Hypobot) -> None:
    bet = await shipped_bet(hypobot, MONDAY)
    await hypobot.command(f"expect H-{bet.number} 1d")  # Tuesday 10:00
    await run_job(hypobot, "nudges", MONDAY + timedelta(days=1, minutes=1))
    assert len(nudges_for(hypobot, bet)) == 1


async def test_third_unanswered_nudge_escalates_and_mentions_the_lead_once(
    hypobot: Hypobot,
) -> None:
    await hypobot.command("settings lead <@ULEAD|lena> sle 60d")
    bet = await shipped_bet(hypobot, MONDAY)
    moments = [
        MONDAY + timedelta(days=3),  # Thu: nudge 1
        datetime(2026, 11, 9, 9, 0, tzinfo=UTC),  # Sat → Mon: nudge 2
        datetime(2026, 11, 11, 9, 0, tzinfo=UTC),  # Wed: nudge 3 → escalated
        datetime(2026, 11, 13, 9, 0, tzinfo=UTC),  # Fri: nudge 4, no second escalation
    ]
    for moment in moments:
        await run_job(hypobot, "nudges", moment)
    assert len(nudges_for(hypobot, bet)) == 4
    mentions = [
        call
        for call in hypobot.fake.calls_to("chat.postMessage")
        if call.thread_ts == bet.card_ts and "<@ULEAD>" in str(call.blocks)
    ]
    assert len(mentions) == 1
    assert (await Bet.get(id=bet.id)).escalated_at == moments[2]


async def test_t3_a_bet_past_the_sle_escalates_only_with_or_after_its_first_nudge(
    hypobot: Hypobot,
) -> None:
    await hypobot.command("settings sle 2d nudge-after 10d lead @ULEAD")
    bet = await shipped_bet(hypobot, MONDAY)
    await run_job(hypobot, "nudges", MONDAY + timedelta(days=2, hours=1))
    assert (await Bet.get(id=bet.id)).escalated_at is None  # past the SLE, never nudged
    first_nudge = MONDAY + timedelta(days=10)  # a Thursday, inside working hours
    await run_job(hypobot, "nudges", first_nudge)
    assert len(nudges_for(hypobot, bet)) == 1
    assert (await Bet.get(id=bet.id)).escalated_at == first_nudge


async def test_reply_in_thread_resets_the_unanswered_count(hypobot: Hypobot) -> None:
    bet = await shipped_bet(hypobot, MONDAY)
    await run_job(hypobot, "nudges", MONDAY + timedelta(days=3))
    await run_job(hypobot, "nudges", datetime(2026, 11, 9, 9, 0, tzinfo=UTC))
    await hypobot.slack.event(
        message_event("still waiting on the data", ts="1800000000.000100", thread_ts=bet.card_ts)
    )

    async def reply_recorded() -> bool:
        return await Evidence.filter(bet_id=bet.id).exists()

    await eventually(reply_recorded)
    assert (await Bet.get(id=bet.id)).unanswered_nudges == 0


async def test_supports_on_a_nudge_opens_evidence_form_with_supports_chosen(
    hypobot: Hypobot,
) -> None:
    bet = await shipped_bet(hypobot, MONDAY)
    await run_job(hypobot, "nudges", MONDAY + timedelta(days=3))
    status, _ = await hypobot.action("nudge_supports", str(bet.id))
    assert status == 200
    [opened] = await hypobot.fake.wait_for("views.open")
    verdict = next(b for b in opened.params["view"]["blocks"] if b.get("block_id") == "verdict")
    assert verdict["element"]["initial_option"]["value"] == "supports"


async def test_the_sweep_starts_with_the_channel_with_the_most_bets_awaiting_feedback(
    hypobot: Hypobot,
) -> None:
    """Slack posts one message a second per channel, so the busiest channel goes first;
    channels with nothing awaiting feedback are not swept at all."""
    await shipped_bet(hypobot, MONDAY, channel_id="C1")
    for _ in range(3):
        await shipped_bet(hypobot, MONDAY, channel_id="C2")
    for _ in range(2):
        await shipped_bet(hypobot, MONDAY, channel_id="C3")
    await hypobot.command(f"new {ONE_LINER}", channel_id="C4")  # not shipped
    order = await chasing.channels_to_sweep(MONDAY + timedelta(days=3))
    assert [channel.channel_id for channel in order] == ["C2", "C3", "C1"]
    await run_job(hypobot, "nudges", MONDAY + timedelta(days=3))
    assert await Outbox.filter(kind="nudge").count() == 6
