"""Durations (`12h`, `3d`, `2w`) and dates (`2026-12-01`) as people type them."""

from __future__ import annotations

import re
from datetime import date, timedelta

_PART = re.compile(
    r"(\d{1,12})\s*(weeks|week|wks|wk|w|days|day|d|hours|hour|hrs|hr|h|mins|min|m)(?![a-z])", re.I
)
_WHOLE = re.compile(r"^\s*(?:\d{1,12}\s*[a-z]+\s*)+$", re.I)
_UNIT = {"m": "minutes", "h": "hours", "d": "days", "w": "weeks"}

DURATION_HELP = "a duration like `12h`, `3d` or `2w`"
WHEN_HELP = "a duration like `10d` or `2w`, or a date like `2026-12-01`"
MAX_DURATION = timedelta(days=3 * 365)


def measure_duration(text: str) -> timedelta | None:
    """`3d` → 3 days; `1w2d` → 9 days; `99999d` too, however long. None for anything that
    is not a duration, or zero. Whoever reads it says how long is too long, and says so."""
    text = text.strip()
    if not text or not _WHOLE.match(text):
        return None
    total = timedelta()
    consumed = 0
    try:
        for match in _PART.finditer(text):
            consumed += len(match.group(0).replace(" ", ""))
            unit = _UNIT[match.group(2)[0].lower()]
            total += timedelta(**{unit: int(match.group(1))})
    except OverflowError:  # longer than any calendar: too long for every limit
        total = timedelta.max
    if consumed != len(text.replace(" ", "")) or total <= timedelta():
        return None
    return total


def parse_duration(text: str) -> timedelta | None:
    """`measure_duration` up to `MAX_DURATION`: None for anything else, zero, or longer."""
    duration = measure_duration(text)
    return duration if duration is not None and duration <= MAX_DURATION else None


def parse_date(text: str) -> date | None:
    try:
        return date.fromisoformat(text.strip())
    except ValueError:
        return None
