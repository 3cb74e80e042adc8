"""The CSV of `hypobot export --format csv`, and how its cells are kept inert in a
spreadsheet (CSV injection, CWE-1236) so that `hypobot import` reads back exactly what
was exported.

The guard, as OWASP advises: a cell that a spreadsheet would read as a formula, one that
starts with `=`, `+`, `-`, `@`, a tab or a carriage return, is written with a single quote
in front (`=HYPERLINK(…)` is written `'=HYPERLINK(…)`). So that the import can undo exactly
that, a cell that starts with single quotes followed by one of those characters gets one
more quote too (`'=x` is written `''=x`). The rule, both ways:

- export: a cell matching `^'*[=+\\-@\\t\\r]` gets one `'` in front;
- import: a cell matching `^'+[=+\\-@\\t\\r]` loses its first `'`; any other cell is read
  as it is (a single quote before anything else is text).

Every cell is quoted as well, so a spreadsheet that splits on another separator (`;`)
never starts a cell in the middle of one. JSON cells (`evidence`, `events`) start with `[`
and are never guarded; the text inside them is not a cell of its own.
"""

from __future__ import annotations

import csv
import json
import re
from collections.abc import Iterable
from typing import Any, TextIO

# The record's fields written as plain cells, in the file's order; then the JSON columns.
COLUMNS = (
    "team_id",
    "key",
    "channel_id",
    "title",
    "state",
    "hypothesis",
    "signal",
    "owner",
    "creator",
    "link",
    "learned",
    "close_reason",
    "created_at",
    "started_at",
    "shipped_at",
    "closed_at",
    "first_feedback_at",
    "expected_at",
    "expect_within_s",
    "snoozed_until",
    "pivot_of",
    "coach_notes",
    "first_decisive_at",
)
JSON_COLUMNS = ("evidence", "events")

_FORMULA = "=+\\-@\t\r"
_NEEDS_GUARD = re.compile(f"'*[{_FORMULA}]")
_GUARDED = re.compile(f"'+[{_FORMULA}]")


def guard(cell: str) -> str:
    """A cell as written: inert in a spreadsheet, and `unguard` gives it back."""
    return "'" + cell if _NEEDS_GUARD.match(cell) else cell


def unguard(cell: str) -> str:
    """A cell as read: the quote `guard` put in front taken off (only that one)."""
    return cell[1:] if _GUARDED.match(cell) else cell


def _cell(value: Any) -> str:
    return "" if value is None else guard(str(value))


def write_csv(records: Iterable[dict[str, Any]], out: TextIO) -> None:
    """The export's records (`usecases.export.team_export`) as CSV, with a header row."""
    writer = csv.writer(out, quoting=csv.QUOTE_ALL)
    writer.writerow([*COLUMNS, *JSON_COLUMNS])
    for record in records:
        writer.writerow(
            [_cell(record[name]) for name in COLUMNS]
            + [json.dumps(record[name], ensure_ascii=False) for name in JSON_COLUMNS]
        )
