"""Working hours, digest times, DST and nudge timing, computed by hand.

Calendar used below: 2026-03-27 is a Friday, 2026-03-28 Saturday, 2026-03-29 Sunday (Europe
switches to summer time at 01:00 UTC: 02:00 CET → 03:00 CEST), 2026-03-30 Monday.
2026-10-25 is a Sunday (back to winter time at 01:00 UTC: 03:00 CEST → 02:00 CET).
"""

from __future__ import annotations

from datetime import UTC, date, datetime, time, timedelta
from zoneinfo import ZoneInfo

import pytest

from bets.hours import (
    WorkingHours,
    due_digest,
    format_days,
    local_date,
    parse_clock,
    parse_days,
    parse_hours,
    parse_zone,
    scheduled_at,
)
from bets.timing import ChannelRules, Chase, ChaseFacts, chase, next_nudge_due

BERLIN = ZoneInfo("Europe/Berlin")
NEW_YORK = ZoneInfo("America/New_York")
WEEKDAYS = frozenset({0, 1, 2, 3, 4})
DAILY = frozenset(range(7))
GRACE = timedelta(hours=3)


def utc(
    year: int, month: int, day: int, hour: int = 0, minute: int = 0, second: int = 0
) -> datetime:
    return datetime(year, month, day, hour, minute, second, tzinfo=UTC)


# --------------------------------------------------------------------------- parsing


@pytest.mark.parametrize(
    ("text", "expected"),
    [("09:30", time(9, 30)), ("9:30", time(9, 30)), ("17:00", time(17, 0)), (" 0:05 ", time(0, 5))],
)
def test_parse_clock_reads_hours_and_minutes(text: str, expected: time) -> None:
    assert parse_clock(text) == expected


@pytest.mark.parametrize("text", ["", "24:00", "9:60", "930", "9", "9:3", "nine", "09:30:00"])
def test_parse_clock_refuses_anything_that_is_not_a_clock_time(text: str) -> None:
    assert parse_clock(text) is None


def test_parse_hours_reads_a_start_and_an_end() -> None:
    assert parse_hours("08:00-17:00") == (time(8, 0), time(17, 0))
    assert parse_hours("9:30 – 18:00") == (time(9, 30), time(18, 0))


@pytest.mark.parametrize("text", ["17:00-08:00", "09:00-09:00", "09:00", "9-5", "a-b"])
def test_parse_hours_refuses_backwards_empty_or_malformed_ranges(text: str) -> None:
    assert parse_hours(text) is None


@pytest.mark.parametrize(
    ("text", "expected"),
    [
        ("mon-fri", {0, 1, 2, 3, 4}),
        ("mon,wed,fri", {0, 2, 4}),
        ("daily", {0, 1, 2, 3, 4, 5, 6}),
        ("weekdays", {0, 1, 2, 3, 4}),
        ("sat-sun", {5, 6}),
        ("tue-thu", {1, 2, 3}),
        ("Mon - Fri", {0, 1, 2, 3, 4}),
        ("monday, thursday", {0, 3}),
        ("fri-mon", {4, 5, 6, 0}),
        ("weekends", {5, 6}),
    ],
)
def test_parse_days_reads_ranges_lists_and_words(text: str, expected: set[int]) -> None:
    assert parse_days(text) == frozenset(expected)


@pytest.mark.parametrize("text", ["", "funday", "mon-", "mo", "mon-wed-fri", "mon;fri"])
def test_parse_days_refuses_unknown_days(text: str) -> None:
    assert parse_days(text) is None


@pytest.mark.parametrize(
    ("days", "text"),
    [
        ({0, 1, 2, 3, 4}, "mon-fri"),
        ({0, 2, 4}, "mon,wed,fri"),
        ({0, 1, 2, 3, 4, 5, 6}, "daily"),
        ({5, 6}, "sat-sun"),
        ({1, 2, 3}, "tue-thu"),
        ({4, 5, 6, 0}, "fri-mon"),
        ({0, 1, 3}, "mon-tue,thu"),
    ],
)
def test_format_days_writes_what_parse_days_reads(days: set[int], text: str) -> None:
    assert format_days(frozenset(days)) == text
    assert parse_days(text) == frozenset(days)


def test_parse_zone_accepts_iana_names_in_any_case() -> None:
    assert parse_zone("Europe/Berlin") == BERLIN
    assert parse_zone("europe/berlin") == BERLIN
    assert parse_zone("UTC") == ZoneInfo("UTC")


@pytest.mark.parametrize("text", ["", "Mars/Olympus", "../etc", "/etc/passwd", "Europe", "a\x00b"])
def test_parse_zone_refuses_unknown_zones_and_paths(text: str) -> None:
    assert parse_zone(text) is None


# --------------------------------------------------------------------------- local time, DST


def test_digest_time_in_winter_is_one_hour_behind_utc() -> None:
    # 2026-03-27: Berlin is on CET (UTC+1), so 09:30 local is 08:30 UTC
    assert scheduled_at(date(2026, 3, 27), time(9, 30), BERLIN) == utc(2026, 3, 27, 8, 30)


def test_digest_time_after_spring_forward_is_two_hours_behind_utc() -> None:
    # 2026-03-30: Berlin is on CEST (UTC+2), so 09:30 local is 07:30 UTC
    assert scheduled_at(date(2026, 3, 30), time(9, 30), BERLIN) == utc(2026, 3, 30, 7, 30)


def test_digest_time_on_the_fall_back_day_uses_winter_time() -> None:
    # 2026-10-25: by 09:30 Berlin is back on CET (UTC+1)
    assert scheduled_at(date(2026, 10, 25), time(9, 30), BERLIN) == utc(2026, 10, 25, 8, 30)
    # the day before is still CEST (UTC+2)
    assert scheduled_at(date(2026, 10, 24), time(9, 30), BERLIN) == utc(2026, 10, 24, 7, 30)


def test_a_local_time_in_the_spring_forward_gap_moves_to_the_end_of_the_gap() -> None:
    # 02:30 never happens on 2026-03-29 in Berlin; the first valid instant after it is the
    # switch itself: 03:00 CEST = 01:00 UTC
    assert scheduled_at(date(2026, 3, 29), time(2, 30), BERLIN) == utc(2026, 3, 29, 1, 0)


def test_an_ambiguous_fall_back_time_takes_its_first_occurrence() -> None:
    # 02:30 happens twice on 2026-10-25 in Berlin: first at CEST (00:30 UTC), then CET
    assert scheduled_at(date(2026, 10, 25), time(2, 30), BERLIN) == utc(2026, 10, 25, 0, 30)


def test_a_skipped_calendar_day_moves_to_the_next_local_midnight() -> None:
    # Samoa skipped 2011-12-30 entirely (UTC−10 → UTC+14 at 2011-12-30 10:00 UTC)
    apia = ZoneInfo("Pacific/Apia")
    assert scheduled_at(date(2011, 12, 30), time(9, 30), apia) == utc(2011, 12, 30, 10, 0)


def test_scheduled_at_returns_utc() -> None:
    moment = scheduled_at(date(2026, 7, 1), time(9, 0), NEW_YORK)
    assert moment.tzinfo is UTC
    assert moment == utc(2026, 7, 1, 13, 0)  # EDT is UTC−4


def test_local_date_is_the_calendar_day_in_the_zone() -> None:
    # 23:30 UTC on the 27th is already the 28th in Berlin and still the 27th in New York
    assert local_date(utc(2026, 3, 27, 23, 30), BERLIN) == date(2026, 3, 28)
    assert local_date(utc(2026, 3, 27, 23, 30), NEW_YORK) == date(2026, 3, 27)


# --------------------------------------------------------------------------- digest


def digest_due(
    now: datetime,
    *,
    last_period: date | None,
    tz: ZoneInfo = BERLIN,
    at: time = time(9, 30),
    days: frozenset[int] = WEEKDAYS,
    grace: timedelta = GRACE,
) -> date | None:
    return due_digest(now, tz=tz, at=at, days=days, last_period=last_period, grace=grace)


def test_digest_is_due_at_its_local_time_on_a_digest_day() -> None:
    # Friday 2026-03-27 09:30 CET = 08:30 UTC
    assert digest_due(utc(2026, 3, 27, 8, 30), last_period=None) == date(2026, 3, 27)


def test_digest_is_not_due_a_minute_before_its_time() -> None:
    assert digest_due(utc(2026, 3, 27, 8, 29), last_period=date(2026, 3, 26)) is None


def test_digest_after_spring_forward_is_due_at_0730_utc_not_0830() -> None:
    # Monday 2026-03-30 09:30 CEST = 07:30 UTC
    last = date(2026, 3, 27)
    assert digest_due(utc(2026, 3, 30, 7, 29), last_period=last) is None
    assert digest_due(utc(2026, 3, 30, 7, 30), last_period=last) == date(2026, 3, 30)


def test_digest_on_the_fall_back_day_is_due_at_0830_utc() -> None:
    # Sunday 2026-10-25, daily digest: 09:30 is CET again, so 08:30 UTC
    last = date(2026, 10, 24)
    assert digest_due(utc(2026, 10, 25, 7, 30), last_period=last, days=DAILY) is None
    assert digest_due(utc(2026, 10, 25, 8, 30), last_period=last, days=DAILY) == date(2026, 10, 25)


def test_no_digest_on_a_day_that_is_not_a_digest_day() -> None:
    # 2026-03-28 is a Saturday
    assert digest_due(utc(2026, 3, 28, 8, 30), last_period=date(2026, 3, 27)) is None


def test_a_missed_digest_is_due_within_the_grace_and_skipped_after_it() -> None:
    # scheduled 08:30 UTC; grace 3 h → due until 11:29:59 UTC
    last = date(2026, 3, 26)
    assert digest_due(utc(2026, 3, 27, 11, 29, 59), last_period=last) == date(2026, 3, 27)
    assert digest_due(utc(2026, 3, 27, 11, 30), last_period=last) is None
    assert digest_due(utc(2026, 3, 27, 15, 0), last_period=last) is None


def test_the_same_digest_period_is_never_due_twice() -> None:
    now = utc(2026, 3, 27, 9, 0)
    assert digest_due(now, last_period=date(2026, 3, 26)) == date(2026, 3, 27)
    assert digest_due(now, last_period=date(2026, 3, 27)) is None


def test_an_older_period_is_never_due_after_a_newer_one_was_posted() -> None:
    assert digest_due(utc(2026, 3, 27, 9, 0), last_period=date(2026, 3, 30)) is None


def test_a_late_evening_digest_missed_before_midnight_is_still_due_after_it() -> None:
    # 23:00 Berlin (CET) on Friday 2026-03-27 is 22:00 UTC; 00:30 local on Saturday is
    # 23:30 UTC, within the 3 h grace of Friday's digest
    now = utc(2026, 3, 27, 23, 30)
    assert digest_due(now, last_period=date(2026, 3, 26), at=time(23, 0)) == date(2026, 3, 27)
    assert digest_due(now, last_period=date(2026, 3, 27), at=time(23, 0)) is None


def test_a_digest_zone_west_of_utc_uses_its_own_calendar_day() -> None:
    # 09:30 New York (EDT, UTC−4) on Friday 2026-03-27 is 13:30 UTC
    last = date(2026, 3, 26)
    assert digest_due(utc(2026, 3, 27, 13, 29), last_period=last, tz=NEW_YORK) is None
    assert digest_due(utc(2026, 3, 27, 13, 30), last_period=last, tz=NEW_YORK) == date(2026, 3, 27)


# --------------------------------------------------------------------------- working hours


def test_working_hours_include_the_opening_minute_and_exclude_the_closing_one() -> None:
    hours = WorkingHours(tz=BERLIN)
    # Friday 2026-03-27, CET: 09:00 local = 08:00 UTC, 18:00 local = 17:00 UTC
    assert not hours.contains(utc(2026, 3, 27, 7, 59))
    assert hours.contains(utc(2026, 3, 27, 8, 0))
    assert hours.contains(utc(2026, 3, 27, 16, 59))
    assert not hours.contains(utc(2026, 3, 27, 17, 0))
    assert not hours.contains(utc(2026, 3, 28, 10, 0))  # Saturday


def test_next_open_inside_hours_is_the_moment_itself() -> None:
    hours = WorkingHours(tz=BERLIN)
    assert hours.next_open(utc(2026, 3, 27, 12, 0)) == utc(2026, 3, 27, 12, 0)


def test_next_open_before_opening_is_the_same_mornings_opening() -> None:
    hours = WorkingHours(tz=BERLIN)
    # Friday 06:00 CET → 09:00 CET = 08:00 UTC
    assert hours.next_open(utc(2026, 3, 27, 5, 0)) == utc(2026, 3, 27, 8, 0)


def test_next_open_after_closing_on_friday_is_monday_morning() -> None:
    hours = WorkingHours(tz=BERLIN)
    # Friday 19:00 CET → Monday 2026-03-30 09:00 CEST = 07:00 UTC (DST in between)
    assert hours.next_open(utc(2026, 3, 27, 18, 0)) == utc(2026, 3, 30, 7, 0)


def test_next_open_respects_custom_days_and_hours() -> None:
    hours = WorkingHours(tz=NEW_YORK, start=time(8, 0), end=time(12, 0), days=frozenset({1, 3}))
    # Tuesdays and Thursdays 08:00-12:00. Wednesday 2026-11-25 13:00 EST (UTC−5) →
    # Thursday 2026-11-26 08:00 EST = 13:00 UTC
    assert hours.next_open(utc(2026, 11, 25, 18, 0)) == utc(2026, 11, 26, 13, 0)
    # Thursday 2026-11-26 after closing → Tuesday 2026-12-01 08:00 EST
    assert hours.next_open(utc(2026, 11, 26, 17, 0)) == utc(2026, 12, 1, 13, 0)


def test_working_hours_refuse_an_empty_or_backwards_definition() -> None:
    with pytest.raises(ValueError):
        WorkingHours(tz=BERLIN, start=time(18, 0), end=time(9, 0))
    with pytest.raises(ValueError):
        WorkingHours(tz=BERLIN, days=frozenset())


def test_working_hours_refuse_naive_datetimes() -> None:
    with pytest.raises(ValueError):
        WorkingHours(tz=BERLIN).contains(datetime(2026, 3, 27, 12, 0))


# --------------------------------------------------------------------------- nudges

SHIPPED = utc(2026, 3, 23, 10, 0)  # Monday


def first_nudge_due(
    *,
    expected_at: datetime | None = None,
    nudge_count: int = 0,
    last_nudged_at: datetime | None = None,
) -> datetime:
    return next_nudge_due(
        shipped_at=SHIPPED,
        nudge_after=timedelta(days=3),
        expected=expected_at,
        nudge_count=nudge_count,
        last_nudged_at=last_nudged_at,
        repeat=timedelta(days=2),
    )


def test_first_nudge_is_due_three_days_after_shipping_not_a_minute_earlier() -> None:
    due = first_nudge_due()
    assert due == utc(2026, 3, 26, 10, 0)
    assert not due <= SHIPPED + timedelta(days=2, hours=23, minutes=59)
    assert due <= SHIPPED + timedelta(days=3)


def test_an_expected_signal_date_replaces_the_nudge_after_delay() -> None:
    expected = utc(2026, 4, 6, 9, 0)
    assert first_nudge_due(expected_at=expected) == expected


def test_later_nudges_are_due_a_repeat_interval_after_the_last_one() -> None:
    last = utc(2026, 3, 26, 10, 5)
    assert first_nudge_due(nudge_count=1, last_nudged_at=last) == utc(2026, 3, 28, 10, 5)


def test_t2_an_expected_date_set_after_nudging_began_moves_the_next_nudge() -> None:
    last = utc(2026, 3, 26, 10, 5)
    later = utc(2026, 4, 6)
    assert first_nudge_due(nudge_count=2, last_nudged_at=last, expected_at=later) == later


def test_nudge_due_on_saturday_goes_out_monday_at_opening() -> None:
    hours = WorkingHours(tz=BERLIN)
    # Saturday 2026-03-28 10:00 CET = 09:00 UTC → Monday 2026-03-30 09:00 CEST = 07:00 UTC
    sent = hours.next_open(utc(2026, 3, 28, 9, 0))
    assert sent == utc(2026, 3, 30, 7, 0)
    assert sent.astimezone(BERLIN).replace(tzinfo=None) == datetime(2026, 3, 30, 9, 0)


def test_nudge_due_on_a_winter_saturday_goes_out_monday_at_opening() -> None:
    hours = WorkingHours(tz=BERLIN)
    # Saturday 2026-11-28 10:00 CET = 09:00 UTC → Monday 2026-11-30 09:00 CET = 08:00 UTC
    assert hours.next_open(utc(2026, 11, 28, 9, 0)) == utc(2026, 11, 30, 8, 0)


def test_nudge_due_inside_working_hours_goes_out_when_due() -> None:
    hours = WorkingHours(tz=BERLIN)
    due = utc(2026, 3, 26, 10, 0)  # Thursday 11:00 CET
    assert hours.next_open(due) == due


def test_nudge_due_after_closing_goes_out_next_working_morning() -> None:
    hours = WorkingHours(tz=BERLIN)
    # Thursday 2026-03-26 18:30 CET = 17:30 UTC → Friday 09:00 CET = 08:00 UTC
    assert hours.next_open(utc(2026, 3, 26, 17, 30)) == utc(2026, 3, 27, 8, 0)


def _chase(now: datetime, **facts: object) -> Chase:
    rules = ChannelRules(tz=BERLIN, hours=WorkingHours(tz=BERLIN))
    return chase(ChaseFacts(shipped_at=SHIPPED, **facts), rules, sle=timedelta(days=14), now=now)  # type: ignore[arg-type]


def test_a_snooze_holds_the_nudge_until_it_ends() -> None:
    snoozed = utc(2026, 3, 27, 13, 0)  # Friday 14:00 CET
    assert _chase(utc(2026, 3, 27, 12, 0), snoozed_until=snoozed).waiting
    assert _chase(snoozed, snoozed_until=snoozed).nudge_now


def test_a_snooze_in_the_past_does_not_delay_the_nudge() -> None:
    assert _chase(utc(2026, 3, 26, 10, 0), snoozed_until=utc(2026, 3, 1)).nudge_now


def test_an_owner_away_until_sunday_is_nudged_on_monday_morning() -> None:
    away = utc(2026, 3, 29, 0, 0)  # back on Sunday (01:00 CET)
    assert _chase(utc(2026, 3, 27, 10, 0), owner_away_until=away).waiting
    assert not _chase(utc(2026, 3, 29, 10, 0), owner_away_until=away).nudge_now  # Sunday
    assert _chase(utc(2026, 3, 30, 7, 0), owner_away_until=away).nudge_now  # Monday 09:00
