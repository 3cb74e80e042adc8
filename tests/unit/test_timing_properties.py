"""Properties of T2–T4 and T6 over random zones, DST changes, weekends and durations."""

from __future__ import annotations

import re
from datetime import UTC, datetime, time, timedelta
from zoneinfo import ZoneInfo

from hypothesis import given, settings
from hypothesis import strategies as st

from bets.hours import WorkingHours
from bets.reading import format_duration
from bets.timing import (
    ESCALATE_AFTER_NUDGES,
    ChannelRules,
    ChaseFacts,
    EscalationReason,
    chase,
    next_nudge_due,
)

ZONES = ("Europe/Berlin", "America/New_York", "Australia/Sydney", "UTC", "Asia/Kolkata")
# DST changes in those zones (UTC, approximate is enough: instants are drawn around them)
TRANSITIONS = (
    datetime(2026, 3, 29, 1, 0, tzinfo=UTC),  # Berlin spring forward
    datetime(2026, 10, 25, 1, 0, tzinfo=UTC),  # Berlin fall back
    datetime(2026, 3, 8, 7, 0, tzinfo=UTC),  # New York spring forward
    datetime(2026, 11, 1, 6, 0, tzinfo=UTC),  # New York fall back
    datetime(2026, 4, 4, 16, 0, tzinfo=UTC),  # Sydney fall back
    datetime(2026, 10, 3, 16, 0, tzinfo=UTC),  # Sydney spring forward
)
UNIT_SECONDS = {"m": 60, "h": 3600, "d": 86400}
SETTINGS = settings(max_examples=300, deadline=None)


# --------------------------------------------------------------------------- T6


def shown_seconds(text: str) -> int:
    match = re.fullmatch(r"(\d+)([mhd])", text)
    assert match is not None, text
    return int(match.group(1)) * UNIT_SECONDS[match.group(2)]


durations = st.timedeltas(min_value=timedelta(0), max_value=timedelta(days=3 * 365))


@SETTINGS
@given(durations)
def test_t6_format_duration_never_truncates(delta: timedelta) -> None:
    text = format_duration(delta)
    unit = UNIT_SECONDS[text[-1]]
    assert abs(shown_seconds(text) - delta.total_seconds()) <= unit / 2


@SETTINGS
@given(durations, durations)
def test_t6_format_duration_is_monotonic(first: timedelta, second: timedelta) -> None:
    low, high = sorted((first, second))
    assert shown_seconds(format_duration(low)) <= shown_seconds(format_duration(high))


@SETTINGS
@given(st.timedeltas(min_value=timedelta(days=-30), max_value=timedelta(days=3 * 365)))
def test_t6_format_duration_never_uses_weeks(delta: timedelta) -> None:
    text = format_duration(delta)
    assert "w" not in text
    assert re.fullmatch(r"\d+[mhd]", text)


# --------------------------------------------------------------------------- T2–T4

uniform_instants = st.datetimes(
    min_value=datetime(2025, 1, 1), max_value=datetime(2027, 12, 31), timezones=st.just(UTC)
)
near_transitions = st.builds(
    lambda base, minutes: base + timedelta(minutes=minutes),
    st.sampled_from(TRANSITIONS),
    st.integers(min_value=-5 * 24 * 60, max_value=5 * 24 * 60),
)
instants = st.one_of(uniform_instants, near_transitions)
offsets = st.timedeltas(min_value=timedelta(days=-3), max_value=timedelta(days=40))


@st.composite
def rules(draw: st.DrawFn) -> ChannelRules:
    tz = ZoneInfo(draw(st.sampled_from(ZONES)))
    start = draw(st.integers(min_value=0, max_value=22))
    end = draw(st.integers(min_value=start + 1, max_value=23))
    days = draw(st.frozensets(st.integers(min_value=0, max_value=6), min_size=1))
    hours = WorkingHours(tz=tz, start=time(start, 0), end=time(end, 59), days=days)
    return ChannelRules(
        tz=tz,
        hours=hours,
        nudge_after=draw(st.timedeltas(min_value=timedelta(hours=1), max_value=timedelta(7))),
        nudge_repeat=draw(st.timedeltas(min_value=timedelta(hours=1), max_value=timedelta(4))),
    )


def maybe(shipped: datetime, strategy: st.SearchStrategy[timedelta]) -> st.SearchStrategy:
    return st.none() | strategy.map(lambda offset: shipped + offset)


@st.composite
def situations(draw: st.DrawFn) -> tuple[ChaseFacts, ChannelRules, timedelta, datetime]:
    shipped = draw(instants)
    count = draw(st.integers(min_value=0, max_value=6))
    facts = ChaseFacts(
        shipped_at=shipped,
        expected=draw(maybe(shipped, offsets)),
        nudge_count=count,
        unanswered_nudges=draw(st.integers(min_value=0, max_value=count)),
        last_nudged_at=draw(maybe(shipped, offsets)) if count else None,
        escalated=draw(st.booleans()),
        snoozed_until=draw(maybe(shipped, offsets)),
        owner_away_until=draw(maybe(shipped, offsets)),
    )
    sle = draw(st.timedeltas(min_value=timedelta(days=1), max_value=timedelta(days=30)))
    now = shipped + draw(st.timedeltas(min_value=timedelta(0), max_value=timedelta(days=45)))
    return facts, draw(rules()), sle, now


@SETTINGS
@given(situations())
def test_t2_t4_chase_respects_hours_due_time_snooze_and_absence(
    situation: tuple[ChaseFacts, ChannelRules, timedelta, datetime],
) -> None:
    facts, channel, sle, now = situation
    result = chase(facts, channel, sle=sle, now=now)
    snoozed = facts.snoozed_until is not None and facts.snoozed_until > now
    away = facts.owner_away_until is not None and facts.owner_away_until > now
    if result.nudge_now:
        assert channel.hours.contains(now)
        assert result.nudge_due <= now
        assert not snoozed and not away
    if result.waiting:
        assert result.nudge_due <= now and not result.nudge_now
    if facts.expected is not None:
        assert result.nudge_due >= facts.expected
    assert result.unanswered == facts.unanswered_nudges + int(result.nudge_now)


@SETTINGS
@given(situations())
def test_t3_t4_escalation_needs_a_nudge_the_expected_date_hours_and_no_snooze(
    situation: tuple[ChaseFacts, ChannelRules, timedelta, datetime],
) -> None:
    facts, channel, sle, now = situation
    result = chase(facts, channel, sle=sle, now=now)
    away = facts.owner_away_until is not None and facts.owner_away_until > now
    if result.escalate is None:
        assert result.owner_away_until is None
        return
    assert not facts.escalated
    assert facts.nudge_count + int(result.nudge_now) >= 1
    assert facts.expected is None or now >= facts.expected
    assert facts.snoozed_until is None or facts.snoozed_until <= now
    assert channel.hours.contains(now)
    if result.escalate is EscalationReason.UNANSWERED:
        assert result.unanswered >= ESCALATE_AFTER_NUDGES and not away
    else:
        assert now - facts.shipped_at > sle
    assert result.owner_away_until == (facts.owner_away_until if away else None)


@SETTINGS
@given(instants, st.none() | offsets, offsets, st.integers(0, 5))
def test_t2_next_nudge_due_never_before_expected(
    shipped: datetime, expect_offset: timedelta | None, since_last: timedelta, count: int
) -> None:
    expected = None if expect_offset is None else shipped + expect_offset
    last = shipped + since_last if count else None
    due = next_nudge_due(
        shipped_at=shipped,
        expected=expected,
        nudge_after=timedelta(days=3),
        nudge_count=count,
        last_nudged_at=last,
        repeat=timedelta(days=2),
    )
    if expected is not None:
        assert due >= expected
    if last is not None:
        assert due >= last + timedelta(days=2)  # repeats keep their interval


@settings(max_examples=100, deadline=None)
@given(situations(), st.integers(min_value=7, max_value=61))
def test_t2_t4_a_simulated_chase_never_misbehaves(
    situation: tuple[ChaseFacts, ChannelRules, timedelta, datetime], step_minutes: int
) -> None:
    """Walk a fresh bet through 20 days in steps, acting on every decision as the job would:
    nudges only in hours and never closer than the repeat interval, one escalation at most,
    never before the first nudge or the expected date."""
    start, channel, sle, _ = situation
    facts = ChaseFacts(
        shipped_at=start.shipped_at,
        expected=start.expected,
        snoozed_until=start.snoozed_until,
        owner_away_until=start.owner_away_until,
    )
    sent: list[datetime] = []
    escalations: list[datetime] = []
    now = facts.shipped_at
    step = timedelta(minutes=step_minutes)
    while now < facts.shipped_at + timedelta(days=20):
        result = chase(facts, channel, sle=sle, now=now)
        if result.nudge_now:
            assert channel.hours.contains(now)
            assert facts.expected is None or now >= facts.expected
            assert not sent or now - sent[-1] >= channel.nudge_repeat
            sent.append(now)
            facts = ChaseFacts(
                shipped_at=facts.shipped_at,
                expected=facts.expected,
                nudge_count=facts.nudge_count + 1,
                unanswered_nudges=result.unanswered,
                last_nudged_at=now,
                escalated=facts.escalated,
                snoozed_until=facts.snoozed_until,
                owner_away_until=facts.owner_away_until,
            )
        if result.escalate is not None:
            assert sent and sent[0] <= now
            assert facts.expected is None or now >= facts.expected
            escalations.append(now)
            facts = ChaseFacts(
                shipped_at=facts.shipped_at,
                expected=facts.expected,
                nudge_count=facts.nudge_count,
                unanswered_nudges=facts.unanswered_nudges,
                last_nudged_at=facts.last_nudged_at,
                escalated=True,
                snoozed_until=facts.snoozed_until,
                owner_away_until=facts.owner_away_until,
            )
        now += step
    assert len(escalations) <= 1
