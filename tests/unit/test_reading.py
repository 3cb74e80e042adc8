"""T6 and T7 as specifications: how counts, durations and dates read to people."""

from __future__ import annotations

from datetime import UTC, date, datetime, timedelta
from zoneinfo import ZoneInfo

import pytest

from bets.reading import (
    counted,
    for_count,
    format_date,
    format_day,
    format_duration,
    format_limit,
    format_moment,
)

BERLIN = ZoneInfo("Europe/Berlin")
SYDNEY = ZoneInfo("Australia/Sydney")
NOW = datetime(2026, 11, 18, 10, 0, tzinfo=UTC)


def hm(hours: int = 0, minutes: int = 0, seconds: int = 0, days: int = 0) -> timedelta:
    return timedelta(days=days, hours=hours, minutes=minutes, seconds=seconds)


def test_t6_47h59m_reads_2d_not_1d() -> None:
    assert format_duration(hm(47, 59)) == "2d"


def test_t6_47h29m_reads_47h() -> None:
    assert format_duration(hm(47, 29)) == "47h"


def test_t6_3d23h59m_reads_4d_not_3d() -> None:
    assert format_duration(hm(23, 59, days=3)) == "4d"


def test_t6_59m31s_reads_1h() -> None:
    assert format_duration(hm(0, 59, 31)) == "1h"


def test_t6_under_half_a_minute_reads_0m_and_half_a_minute_rounds_up() -> None:
    assert format_duration(hm(seconds=29)) == "0m"
    assert format_duration(hm(seconds=30)) == "1m"


def test_t6_halves_round_up_not_to_even() -> None:
    assert format_duration(hm(seconds=150)) == "3m"  # round() would give 2
    assert format_duration(hm(2, 30)) == "3h"


def test_t6_no_weeks_ever() -> None:
    assert format_duration(hm(days=35)) == "35d"
    assert format_duration(hm(days=14)) == "14d"


def test_t6_negative_duration_reads_0m() -> None:
    assert format_duration(-hm(5)) == "0m"


def test_t6_units_switch_at_one_hour_and_48_hours() -> None:
    assert format_duration(hm(0, 59, 29)) == "59m"
    assert format_duration(hm(1)) == "1h"
    assert format_duration(hm(47, 30)) == "2d"
    assert format_duration(hm(24)) == "24h"


def test_t7_date_reads_in_the_channel_zone_with_weekday() -> None:
    moment = datetime(2026, 11, 20, 12, 0, tzinfo=UTC)
    assert format_date(moment, BERLIN, now=NOW) == "Fri 20 Nov"


def test_t7_date_is_the_local_date_not_the_utc_date() -> None:
    # 20 Nov 22:00 UTC is already Saturday 21 Nov in Sydney
    moment = datetime(2026, 11, 20, 22, 0, tzinfo=UTC)
    assert format_date(moment, SYDNEY, now=NOW) == "Sat 21 Nov"
    assert format_date(moment, BERLIN, now=NOW) == "Fri 20 Nov"


def test_t7_date_in_another_year_shows_the_year() -> None:
    moment = datetime(2027, 11, 23, 10, 1, tzinfo=UTC)
    assert format_date(moment, BERLIN, now=NOW) == "Tue 23 Nov 2027"


def test_t7_year_is_decided_in_the_channel_zone() -> None:
    # New Year's Eve 14:00 UTC is already 1 Jan in Sydney, for both moment and now
    now = datetime(2026, 12, 31, 14, 0, tzinfo=UTC)
    assert format_date(now, SYDNEY, now=now) == "Fri 1 Jan"
    assert format_date(now, BERLIN, now=now) == "Thu 31 Dec"
    assert format_date(now, SYDNEY, now=datetime(2026, 12, 31, 12, 0, tzinfo=UTC)) == (
        "Fri 1 Jan 2027"
    )


def test_t7_moment_shows_local_time_and_zone_abbreviation() -> None:
    moment = datetime(2027, 11, 23, 10, 1, tzinfo=UTC)
    assert format_moment(moment, BERLIN, now=NOW) == "Tue 23 Nov 2027, 11:01 CET"
    summer = datetime(2026, 7, 3, 7, 5, tzinfo=UTC)
    assert format_moment(summer, BERLIN, now=NOW) == "Fri 3 Jul, 09:05 CEST"


def test_t7_plain_day_reads_with_weekday_and_year_when_not_this_year() -> None:
    assert format_day(date(2026, 12, 24), today=date(2026, 11, 18)) == "Thu 24 Dec"
    assert format_day(date(2027, 1, 4), today=date(2026, 11, 18)) == "Mon 4 Jan 2027"


def test_t7_naive_datetimes_are_refused() -> None:
    with pytest.raises(ValueError):
        format_date(datetime(2026, 11, 20, 12, 0), BERLIN, now=NOW)
    with pytest.raises(ValueError):
        format_moment(datetime(2026, 11, 20, 12, 0), BERLIN, now=NOW)
    with pytest.raises(ValueError):
        format_date(NOW, BERLIN, now=datetime(2026, 11, 20, 12, 0))


# --------------------------------------------------------------------------- counts


@pytest.mark.parametrize(("count", "said"), [(0, "0 bets"), (1, "1 bet"), (2, "2 bets")])
def test_a_count_reads_with_its_noun_in_the_right_number(count: int, said: str) -> None:
    assert counted(count, "bet") == said


def test_an_irregular_plural_is_given() -> None:
    assert (counted(1, "reply", "replies"), counted(3, "reply", "replies")) == (
        "1 reply",
        "3 replies",
    )


def test_the_verb_agrees_with_the_count() -> None:
    assert (for_count(1, "is", "are"), for_count(0, "is", "are")) == ("is", "are")


def test_a_limit_reads_in_years_and_days() -> None:
    assert format_limit(timedelta(days=3 * 365)) == "3 years (1095d)"
