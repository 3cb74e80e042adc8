"""Working hours, digest times and nudge timing, in a channel's own time zone.

Every instant in and out is a timezone-aware datetime; results are returned in UTC. Local
wall-clock times are turned into instants DST-correctly: a time that does not exist (in a
spring-forward gap) moves forward to the first valid instant after the gap; an ambiguous
time (in a fall-back overlap) takes its first occurrence.
"""

from __future__ import annotations

import re
from dataclasses import dataclass
from datetime import UTC, date, datetime, time, timedelta
from functools import lru_cache
from zoneinfo import ZoneInfo, ZoneInfoNotFoundError, available_timezones

DAY_NAMES = ("mon", "tue", "wed", "thu", "fri", "sat", "sun")
_FULL_NAMES = ("monday", "tuesday", "wednesday", "thursday", "friday", "saturday", "sunday")
ALL_DAYS = frozenset(range(7))
WEEKDAYS = frozenset(range(5))
WEEKEND = frozenset({5, 6})

_CLOCK = re.compile(r"^\s*(\d{1,2}):(\d{2})\s*$")
_HOURS = re.compile(r"^\s*(\d{1,2}:\d{2})\s*(?:-|–|—|to)\s*(\d{1,2}:\d{2})\s*$", re.I)
_DAY_WORDS = {
    "daily": ALL_DAYS,
    "everyday": ALL_DAYS,
    "all": ALL_DAYS,
    "weekdays": WEEKDAYS,
    "weekday": WEEKDAYS,
    "workdays": WEEKDAYS,
    "weekends": WEEKEND,
    "weekend": WEEKEND,
}
_DAY_ALIASES = {"weds": 2, "thur": 3, "thurs": 3, "tues": 1}


def _require_aware(moment: datetime) -> None:
    if moment.tzinfo is None or moment.utcoffset() is None:
        raise ValueError(f"expected a timezone-aware datetime, got {moment!r}")


@dataclass(frozen=True)
class WorkingHours:
    """When a channel's people work: [start, end) local time on `days` (Monday=0)."""

    tz: ZoneInfo
    start: time = time(9, 0)
    end: time = time(18, 0)
    days: frozenset[int] = WEEKDAYS

    def __post_init__(self) -> None:
        if not self.start < self.end:
            raise ValueError("working hours must start before they end")
        if not self.days or not self.days <= ALL_DAYS:
            raise ValueError("working days must be a non-empty set of 0 (Monday) … 6 (Sunday)")

    def contains(self, moment: datetime) -> bool:
        """Whether `moment` falls inside working hours (start inclusive, end exclusive)."""
        _require_aware(moment)
        local = moment.astimezone(self.tz)
        return local.weekday() in self.days and self.start <= local.time() < self.end

    def next_open(self, moment: datetime) -> datetime:
        """`moment` itself (in UTC) if inside working hours, else the next opening: the
        local start time on the next working day (today's, if it is still to come)."""
        _require_aware(moment)
        if self.contains(moment):
            return moment.astimezone(UTC)
        day = local_date(moment, self.tz)
        for offset in range(15):
            candidate_day = day + timedelta(days=offset)
            if candidate_day.weekday() not in self.days:
                continue
            opening = scheduled_at(candidate_day, self.start, self.tz)
            if opening > moment and self.contains(opening):
                return opening
        raise ValueError("no opening within two weeks")  # pragma: no cover - needs odd zones


# --------------------------------------------------------------------------- parsing


def parse_clock(text: str) -> time | None:
    """ "09:30", "9:30", "17:00" → a time; None for anything else."""
    match = _CLOCK.match(text)
    if match is None:
        return None
    hour, minute = int(match.group(1)), int(match.group(2))
    if hour > 23 or minute > 59:
        return None
    return time(hour, minute)


def format_clock(at: time) -> str:
    return f"{at.hour:02d}:{at.minute:02d}"


def parse_hours(text: str) -> tuple[time, time] | None:
    """ "08:00-17:00" → (08:00, 17:00); the start must come before the end."""
    match = _HOURS.match(text)
    if match is None:
        return None
    start, end = parse_clock(match.group(1)), parse_clock(match.group(2))
    if start is None or end is None or not start < end:
        return None
    return start, end


def format_hours(start: time, end: time) -> str:
    return f"{format_clock(start)}-{format_clock(end)}"


def _day(word: str) -> int | None:
    if word in _DAY_ALIASES:
        return _DAY_ALIASES[word]
    if len(word) < 3:
        return None
    for index, name in enumerate(_FULL_NAMES):
        if name.startswith(word):
            return index
    return None


def parse_days(text: str) -> frozenset[int] | None:
    """Days of the week (Monday=0): "mon-fri", "mon,wed,fri", "daily", "weekdays",
    "weekends", "sat-sun", "tue-thu"; ranges may wrap ("fri-mon"). None if unreadable."""
    cleaned = re.sub(r"\s*[-–—]\s*", "-", text.strip().lower())
    words = [word for word in re.split(r"[,\s]+", cleaned) if word]
    if not words:
        return None
    days: set[int] = set()
    for word in words:
        if word in _DAY_WORDS:
            days |= _DAY_WORDS[word]
            continue
        ends = word.split("-")
        if len(ends) == 1:
            single = _day(ends[0])
            if single is None:
                return None
            days.add(single)
        elif len(ends) == 2:
            first, last = _day(ends[0]), _day(ends[1])
            if first is None or last is None:
                return None
            span = (last - first) % 7
            days.update((first + step) % 7 for step in range(span + 1))
        else:
            return None
    return frozenset(days)


def format_days(days: frozenset[int]) -> str:
    """Back to words: "daily", "mon-fri", "mon,wed,fri", "sat-sun", "fri-mon"; "none"
    for no day. Runs of two or more consecutive days (wrapping over Sunday) use a dash."""
    chosen = sorted(day % 7 for day in days)
    if not chosen:
        return "none"
    if len(chosen) == 7:
        return "daily"
    # start the week just after a day that is not chosen, so a run over Sunday stays whole
    first = next(day for day in range(7) if (day - 1) % 7 not in chosen and day in chosen)
    ordered = [(first + step) % 7 for step in range(7) if (first + step) % 7 in chosen]
    runs: list[list[int]] = []
    for day in ordered:
        if runs and (runs[-1][-1] + 1) % 7 == day:
            runs[-1].append(day)
        else:
            runs.append([day])
    return ",".join(
        DAY_NAMES[run[0]] if len(run) == 1 else f"{DAY_NAMES[run[0]]}-{DAY_NAMES[run[-1]]}"
        for run in runs
    )


@lru_cache(maxsize=1)
def _zones_by_lower_name() -> dict[str, str]:
    return {name.lower(): name for name in available_timezones()}


def parse_zone(text: str) -> ZoneInfo | None:
    """An IANA time zone ("Europe/Berlin", also "europe/berlin"); None if unknown."""
    name = text.strip()
    if not name or len(name) > 64:
        return None
    try:
        return ZoneInfo(name)
    except (ZoneInfoNotFoundError, ValueError, OSError):
        pass
    canonical = _zones_by_lower_name().get(name.lower())
    if canonical is None:
        return None
    try:
        return ZoneInfo(canonical)
    except (ZoneInfoNotFoundError, ValueError, OSError):  # pragma: no cover - racy tzdata
        return None


# --------------------------------------------------------------------------- local time


def local_date(moment: datetime, tz: ZoneInfo) -> date:
    """The calendar date at `moment` in `tz`."""
    _require_aware(moment)
    return moment.astimezone(tz).date()


def scheduled_at(day: date, at: time, tz: ZoneInfo) -> datetime:
    """The UTC instant of local wall-clock `at` on `day` in `tz`.

    In a spring-forward gap (the local time never happens) it is the first valid instant
    after the gap, i.e. the transition itself (02:30 Berlin on the last Sunday of March →
    03:00 CEST). In a fall-back overlap (the local time happens twice) it is the first
    occurrence (fold=0).
    """
    wall = datetime.combine(day, at.replace(tzinfo=None, fold=0))
    first = wall.replace(tzinfo=tz, fold=0).astimezone(UTC)
    if first.astimezone(tz).replace(tzinfo=None) == wall:
        return first
    # A gap: fold=0 and fold=1 read the wall time with the offsets either side of the
    # transition, so the transition lies between the two instants. Find the first instant
    # whose local time is not before `wall` (transitions fall on whole seconds).
    second = wall.replace(tzinfo=tz, fold=1).astimezone(UTC)
    low, high = min(first, second), max(first, second)
    lo, hi = 0, int((high - low).total_seconds())
    while lo < hi:
        mid = (lo + hi) // 2
        if (low + timedelta(seconds=mid)).astimezone(tz).replace(tzinfo=None) >= wall:
            hi = mid
        else:
            lo = mid + 1
    return low + timedelta(seconds=lo)


# --------------------------------------------------------------------------- digest


def due_digest(
    now: datetime,
    *,
    tz: ZoneInfo,
    at: time,
    days: frozenset[int],
    last_period: date | None,
    grace: timedelta,
) -> date | None:
    """The local date whose digest should be posted at `now`, or None.

    A date's digest is due from its scheduled instant (`at` local time, on a digest day)
    until the grace period has passed; after that it is skipped. A date at or before
    `last_period` (the last one posted) is never due again, so no digest goes out twice.
    When the grace spans midnight, yesterday's late digest can still be due after it.
    """
    _require_aware(now)
    today = local_date(now, tz)
    lookback = max(0, grace.days) + 1
    for back in range(lookback + 1):
        day = today - timedelta(days=back)
        if last_period is not None and day <= last_period:
            return None
        if day.weekday() not in days:
            continue
        scheduled = scheduled_at(day, at, tz)
        if scheduled <= now < scheduled + grace:
            return day
    return None
