"""How counts, durations and dates read to people (docs/rules.md, T6, T7): the one place
for it, so the card, `list`, nudges, digests, reports and the console all say the same."""

from __future__ import annotations

from datetime import date, datetime, timedelta, tzinfo

_WEEKDAYS = ("Mon", "Tue", "Wed", "Thu", "Fri", "Sat", "Sun")
_MONTHS = ("Jan", "Feb", "Mar", "Apr", "May", "Jun", "Jul", "Aug", "Sep", "Oct", "Nov", "Dec")

_MINUTE_US = 60 * 1_000_000
_HOUR_US = 60 * _MINUTE_US
_DAY_US = 24 * _HOUR_US


def _require_aware(moment: datetime) -> None:
    if moment.tzinfo is None or moment.utcoffset() is None:
        raise ValueError(f"expected a timezone-aware datetime, got {moment!r}")


def _round_half_up(microseconds: int, unit: int) -> int:
    """floor(x / unit + 0.5) in exact integers: half a unit always rounds up. Python's
    round() rounds halves to even and would read 150 s (2.5 min) as "2m"."""
    return (2 * microseconds + unit) // (2 * unit)


def format_duration(delta: timedelta) -> str:
    """A duration rounded to the nearest unit, never truncated (docs/rules.md, T6): under an
    hour in minutes, under 48 hours in hours, then days; never weeks ("35d").

    Truncating made 47h59m read "1d"; rounding keeps the shown number within half a unit of
    the truth. Each unit is chosen from the rounded value, so 59m31s reads "1h" and
    47h30m reads "2d". A negative duration (clock skew) reads "0m".
    """
    total = max(0, delta // timedelta(microseconds=1))
    minutes = _round_half_up(total, _MINUTE_US)
    if minutes < 60:
        return f"{minutes}m"
    hours = _round_half_up(total, _HOUR_US)
    if hours < 48:
        return f"{hours}h"
    return f"{_round_half_up(total, _DAY_US)}d"


def _day_text(day: date, *, with_year: bool) -> str:
    text = f"{_WEEKDAYS[day.weekday()]} {day.day} {_MONTHS[day.month - 1]}"
    return f"{text} {day.year}" if with_year else text


def format_day(day: date, *, today: date) -> str:
    """A calendar date with its weekday, "Thu 24 Dec", plus the year when it is not
    `today`'s year (T7): a bare "24 Dec" a year away would be misread as this one."""
    return _day_text(day, with_year=day.year != today.year)


def format_date(moment: datetime, tz: tzinfo, *, now: datetime) -> str:
    """The local date of `moment` in the channel's zone `tz`: "Fri 20 Nov", or
    "Tue 23 Nov 2027" when its local year is not `now`'s local year (docs/rules.md, T7).

    Always the channel's zone, so the card and the reply show the same date for one moment.
    """
    _require_aware(moment)
    _require_aware(now)
    return format_day(moment.astimezone(tz).date(), today=now.astimezone(tz).date())


def format_moment(moment: datetime, tz: tzinfo, *, now: datetime) -> str:
    """`format_date` plus local time and zone abbreviation: "Tue 23 Nov 2027, 11:01 CET".

    The abbreviation says which zone the time is in, so nobody converts it twice.
    """
    _require_aware(moment)
    local = moment.astimezone(tz)
    zone = local.tzname() or ""
    clock = f"{local.hour:02d}:{local.minute:02d}"
    return f"{format_date(moment, tz, now=now)}, {clock} {zone}".rstrip()


def counted(count: int, noun: str, nouns: str | None = None) -> str:
    """`1 bet`, `3 bets`, `0 bets`: a count and its noun in the number English reads;
    `nouns` for a plural that is not noun + "s" (`1 reply`, `2 replies`)."""
    return f"{count} {noun if count == 1 else (nouns or noun + 's')}"


def for_count(count: int, one: str, many: str) -> str:
    """The word that agrees with `count`: `for_count(n, "is", "are")`."""
    return one if count == 1 else many


def format_limit(limit: timedelta) -> str:
    """A limit of whole years, as people check against it: "3 years (1095d)"."""
    return f"{counted(limit.days // 365, 'year')} ({format_duration(limit)})"
