"""Bet keys: `H-<n>`, numbered per workspace. People type them loosely."""

from __future__ import annotations

import re

_KEY = re.compile(r"^\s*(?:h\s*-?\s*)?#?(\d{1,9})\s*$", re.IGNORECASE)


def parse_key(text: str) -> int | None:
    """`H-12`, `h-12`, `H12` and `12` are all bet 12; anything else is None."""
    match = _KEY.match(text)
    if not match:
        return None
    number = int(match.group(1))
    return number if number > 0 else None


def format_key(number: int) -> str:
    return f"H-{number}"
