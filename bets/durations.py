"""Durations (`12h`, `3d`, `2w`) and dates (`2026-12-01`) as people type them."""

from __future__ import annotations

import re
from datetime import date, datetime, time, timedelta, tzinfo

_PART = re.compile(
    r"(\d{1,4})\s*(weeks|week|wks|wk|w|days|day|d|hours|hour|hrs|hr|h|mins|min|m)(?![a-z])", re.I
)
_WHOLE = re.compile(r"^\s*(?:\d{1,4}\s*[a-z]+\s*)+$", re.I)
_UNIT = {"m": "minutes", "h": "hours", "d": "days", "w": "weeks"}

DURATION_HELP = "a duration like `12h`, `3d` or `2w`"
WHEN_HELP = "a duration like `10d` or `2w`, or a date like `2026-12-01`"
MAX_DURATION = timedelta(days=3 * 365)


def parse_duration(text: str) -> timedelta | None:
    """`3d` → 3 days; `1w2d` → 9 days. None for anything else, zero, or over three years."""
    text = text.strip()
    if not text or not _WHOLE.match(text):
        return None
    total = timedelta()
    consumed = 0
    for match in _PART.finditer(text):
        consumed += len(match.group(0).replace(" ", ""))
        unit = _UNIT[match.group(2)[0].lower()]
        total += timedelta(**{unit: int(match.group(1))})
    if consumed != len(text.replace(" ", "")) or total <= timedelta() or total > MAX_DURATION:
        return None
    return total


def parse_date(text: str) -> date | None:
    try:
        return date.fromisoformat(text.strip())
    except ValueError:
        return None


def parse_when(text: str, *, now: datetime, tz: tzinfo) -> datetime | None:
    """A moment after `now`: `now + duration`, or the start of a local date in `tz`."""
    duration = parse_duration(text)
    if duration is not None:
        return now + duration
    day = parse_date(text)
    if day is None:
        return None
    moment = datetime.combine(day, time(0, 0), tzinfo=tz)
    return moment if moment > now else None


def format_duration(delta: timedelta) -> str:
    """A short human age: `45m`, `5h`, `3d`, `2w 3d`."""
    seconds = max(0, int(delta.total_seconds()))
    if seconds < 3600:
        return f"{seconds // 60}m"
    if seconds < 86400:
        return f"{seconds // 3600}h"
    days = seconds // 86400
    if days < 14:
        return f"{days}d"
    weeks, rest = divmod(days, 7)
    return f"{weeks}w {rest}d" if rest else f"{weeks}w"
