"""The nudge budget (bets.timing): at most N nudges a channel's local day, most overdue
first; the rest wait for a later day, escalations are never counted, and the digest's count
of held-back bets reads the same before and after the day's sweep."""

from __future__ import annotations

from dataclasses import replace
from datetime import UTC, datetime, timedelta
from zoneinfo import ZoneInfo

import pytest

from bets.timing import (
    ChannelRules,
    ChaseFacts,
    EscalationReason,
    chase_channel,
    held_by_budget,
    local_day,
    within_budget,
)

UTC_ZONE = ZoneInfo("UTC")
MONDAY = datetime(2026, 11, 2, 10, 0, tzinfo=UTC)  # inside 09:00–18:00 Mon–Fri
SLE = timedelta(days=60)


def rules(per_day: int = 5, **kw: object) -> ChannelRules:
    return ChannelRules(tz=UTC_ZONE, nudges_per_day=per_day, **kw)  # type: ignore[arg-type]


def shipped(days_ago: float, **kw: object) -> ChaseFacts:
    return ChaseFacts(shipped_at=MONDAY - timedelta(days=days_ago), **kw)  # type: ignore[arg-type]


# --- within_budget ----------------------------------------------------------------------------


def test_within_budget_lets_out_what_is_left_of_the_days_budget_in_the_order_given() -> None:
    assert within_budget("abcdefg", sent_today=0, budget=5) == (tuple("abcde"), tuple("fg"))
    assert within_budget("abcdefg", sent_today=3, budget=5) == (tuple("ab"), tuple("cdefg"))


def test_within_budget_holds_everything_once_the_budget_is_spent_or_zero() -> None:
    assert within_budget([1, 2], sent_today=5, budget=5) == ((), (1, 2))
    assert within_budget([1, 2], sent_today=9, budget=5) == ((), (1, 2))
    assert within_budget([1, 2], sent_today=0, budget=0) == ((), (1, 2))


def test_within_budget_with_room_to_spare_sends_all() -> None:
    assert within_budget([1, 2], sent_today=1, budget=5) == ((1, 2), ())
    assert within_budget([], sent_today=0, budget=5) == ((), ())


def test_within_budget_refuses_negative_numbers() -> None:
    with pytest.raises(ValueError, match="negative"):
        within_budget([1], sent_today=0, budget=-1)
    with pytest.raises(ValueError, match="negative"):
        within_budget([1], sent_today=-1, budget=5)


def test_a_channel_budget_cannot_be_negative_and_defaults_to_five() -> None:
    assert ChannelRules(tz=UTC_ZONE).nudges_per_day == 5
    with pytest.raises(ValueError, match="negative"):
        rules(-1)


# --- the local day ------------------------------------------------------------------------------


def test_the_budget_day_is_the_channels_local_day_in_utc() -> None:
    berlin = ZoneInfo("Europe/Berlin")  # UTC+1 in November
    start, end = local_day(datetime(2026, 11, 2, 23, 30, tzinfo=UTC), berlin)  # Tue 00:30 there
    assert start == datetime(2026, 11, 2, 23, 0, tzinfo=UTC)
    assert end == datetime(2026, 11, 3, 23, 0, tzinfo=UTC)


def test_a_daylight_saving_day_is_midnight_to_midnight_on_the_wall_clock() -> None:
    berlin = ZoneInfo("Europe/Berlin")
    start, end = local_day(datetime(2026, 10, 25, 12, 0, tzinfo=UTC), berlin)  # clocks go back
    assert end - start == timedelta(hours=25)
    start, end = local_day(datetime(2026, 3, 29, 12, 0, tzinfo=UTC), berlin)  # clocks go forward
    assert end - start == timedelta(hours=23)


def test_local_day_needs_an_aware_moment() -> None:
    with pytest.raises(ValueError, match="timezone-aware"):
        local_day(datetime(2026, 11, 2, 10, 0), UTC_ZONE)


# --- chase_channel ------------------------------------------------------------------------------


def test_eight_due_bets_with_a_budget_of_five_nudge_the_five_most_overdue() -> None:
    # Given in no particular order: shipped 4 to 11 days ago, all due (nudge after 3 days).
    ages = [6, 11, 4, 9, 7, 10, 5, 8]
    decided = chase_channel(
        [shipped(age) for age in ages], rules(5), sle=SLE, now=MONDAY, sent_today=0
    )
    nudged = sorted(age for age, chase in zip(ages, decided, strict=True) if chase.nudge_now)
    assert nudged == [7, 8, 9, 10, 11]
    held = sorted(age for age, chase in zip(ages, decided, strict=True) if chase.held)
    assert held == [4, 5, 6]
    assert all(chase.waiting for chase in decided if chase.held)


def test_the_nudge_due_longest_ago_goes_first_not_the_bet_shipped_first() -> None:
    # Shipped 20 days ago but nudged 2 days ago (due today at 10:00), against one shipped
    # 4 days ago and never nudged (due a day ago): the latter is more overdue.
    repeated = shipped(
        20, nudge_count=1, unanswered_nudges=1, last_nudged_at=MONDAY - timedelta(days=2)
    )
    fresh = shipped(4)
    decided = chase_channel([repeated, fresh], rules(1), sle=SLE, now=MONDAY, sent_today=0)
    assert [chase.nudge_now for chase in decided] == [False, True]


def test_nudges_already_sent_today_count_against_the_budget() -> None:
    facts = [shipped(age) for age in (4, 5, 6)]
    decided = chase_channel(facts, rules(5), sle=SLE, now=MONDAY, sent_today=4)
    assert [chase.nudge_now for chase in decided] == [False, False, True]


def test_a_budget_of_zero_sends_no_nudge() -> None:
    decided = chase_channel([shipped(5)], rules(0), sle=SLE, now=MONDAY, sent_today=0)
    assert not decided[0].nudge_now and decided[0].held


def test_bets_not_due_snoozed_or_away_use_none_of_the_budget() -> None:
    later = MONDAY + timedelta(days=3)
    facts = [
        shipped(1),  # not due yet
        shipped(9, snoozed_until=later),
        shipped(8, owner_away_until=later),
        shipped(4),
    ]
    decided = chase_channel(facts, rules(1), sle=SLE, now=MONDAY, sent_today=0)
    assert [chase.nudge_now for chase in decided] == [False, False, False, True]
    assert not any(chase.held for chase in decided)


def test_outside_working_hours_nothing_is_sent_and_nothing_counts_as_held() -> None:
    saturday = MONDAY + timedelta(days=5)
    decided = chase_channel([shipped(9)], rules(1), sle=SLE, now=saturday, sent_today=0)
    assert not decided[0].nudge_now and not decided[0].held and decided[0].waiting


def test_a_held_bet_never_nudged_does_not_escalate_past_the_sle() -> None:
    """T3 needs a nudge first: held back by the budget, none went out."""
    facts = [shipped(30), shipped(20)]
    sle = timedelta(days=14)
    decided = chase_channel(facts, rules(1), sle=sle, now=MONDAY, sent_today=0)
    first, second = decided
    assert first.nudge_now and first.escalate is EscalationReason.PAST_SLE
    assert second.held and second.escalate is None and second.unanswered == 0


def test_escalations_are_not_nudges_a_spent_budget_still_escalates_a_nudged_bet() -> None:
    nudged = shipped(
        30, nudge_count=2, unanswered_nudges=2, last_nudged_at=MONDAY - timedelta(days=2)
    )
    [decision] = chase_channel([nudged], rules(5), sle=timedelta(days=14), now=MONDAY, sent_today=5)
    assert decision.held and not decision.nudge_now
    assert decision.escalate is EscalationReason.PAST_SLE
    assert decision.unanswered == 2  # no third nudge went out, so no "third unanswered"


def test_a_held_bet_keeps_its_due_moment_and_goes_first_the_next_day() -> None:
    facts = [shipped(age) for age in (4, 6)]
    today = chase_channel(facts, rules(1), sle=SLE, now=MONDAY, sent_today=0)
    assert [chase.nudge_now for chase in today] == [False, True]
    # The next day, the 6-day-old bet was nudged; the held one is the most overdue.
    tomorrow = MONDAY + timedelta(days=1)
    nudged = replace(facts[1], nudge_count=1, unanswered_nudges=1, last_nudged_at=MONDAY)
    decided = chase_channel([facts[0], nudged], rules(1), sle=SLE, now=tomorrow, sent_today=0)
    assert decided[0].nudge_due == today[0].nudge_due
    assert [chase.nudge_now for chase in decided] == [True, False]


# --- the digest's count ---------------------------------------------------------------------


def test_held_by_budget_reads_the_same_before_and_after_the_sweep() -> None:
    facts = [shipped(age) for age in range(4, 12)]  # 8 due
    before = held_by_budget(facts, rules(5), now=MONDAY, sent_today=0)
    decided = chase_channel(facts, rules(5), sle=SLE, now=MONDAY, sent_today=0)
    after_sweep = [
        replace(one, nudge_count=1, unanswered_nudges=1, last_nudged_at=MONDAY)
        if chase.nudge_now
        else one
        for one, chase in zip(facts, decided, strict=True)
    ]
    later = MONDAY + timedelta(minutes=30)
    after = held_by_budget(after_sweep, rules(5), now=later, sent_today=5)
    assert before == after == 3


def test_held_by_budget_counts_before_working_hours_too() -> None:
    """A digest at 08:00 still counts what the day's budget won't reach."""
    early = MONDAY.replace(hour=8)
    facts = [shipped(age) for age in range(4, 12)]
    assert held_by_budget(facts, rules(5), now=early, sent_today=0) == 3


def test_held_by_budget_leaves_out_snoozed_and_away_bets() -> None:
    later = MONDAY + timedelta(days=3)
    facts = [shipped(5, snoozed_until=later), shipped(6, owner_away_until=later), shipped(7)]
    assert held_by_budget(facts, rules(0), now=MONDAY, sent_today=0) == 1
