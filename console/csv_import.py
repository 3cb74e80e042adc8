"""`hypobot import bets.csv --team T123 [--apply]`: bring bets kept elsewhere into Hypobot.

A dry run by default: it checks every row, prints what it would create, and writes nothing.
`--apply` writes all rows in one transaction, or none when any row is bad. Each bet is
numbered H-<n> after the workspace's existing ones and gets an "imported" event naming the
file and line. Nothing is posted to Slack: an open bet's card appears in its channel at its
first change (start, ship, evidence…), and nudges start from there.

The file is UTF-8 CSV with a header row. Columns (any order; others are refused):

  channel_id    required  the bet's channel, e.g. C0123ABCD
  hypothesis    required  "We believe <change> for <whom> will <outcome>"
  owner_id      required  the owner's user id, e.g. U0123ABCD
  created_at    required  ISO 8601, e.g. 2026-03-01 or 2026-03-01T09:30:00Z (no zone = UTC)
  title                   defaults to one derived from the hypothesis (at most 150 characters)
  signal                  "We'll know when <measurable signal>"
  creator_id              defaults to owner_id
  state                   proposed (default), building, shipped, validated, invalidated, killed
  link                    an http(s) link
  started_at            ┐ ISO 8601; not in the future, and in order:
  shipped_at            │ created_at ≤ started_at ≤ shipped_at ≤ closed_at
  closed_at             ┘
  learned                 what the team learned
  close_reason            why a killed bet was stopped

Each state needs its timestamps, as the lifecycle would have set them: shipped needs
shipped_at; validated and invalidated need shipped_at and closed_at; killed needs closed_at
and close_reason. A timestamp the state could not have (shipped_at on a building bet,
closed_at on an open one) is refused.
"""

from __future__ import annotations

import argparse
import asyncio
import csv
import sys
from collections.abc import Iterable, Mapping
from dataclasses import dataclass, field
from datetime import UTC, datetime
from itertools import pairwise
from pathlib import Path
from typing import Any, TextIO

from bets.hypothesis import MAX_TEXT, MAX_TITLE, coach, title_for
from bets.keys import format_key
from bets.lifecycle import FINAL_STATES, State
from bot import grammar
from bot.blocks.text import escape, is_web_url
from ops.settings import SettingsError, load_settings
from storage import db
from storage import imports as store

REQUIRED = ("channel_id", "hypothesis", "owner_id", "created_at")
OPTIONAL = (
    "title",
    "signal",
    "creator_id",
    "state",
    "link",
    "started_at",
    "shipped_at",
    "closed_at",
    "learned",
    "close_reason",
)
STAMPS = ("created_at", "started_at", "shipped_at", "closed_at")
# The timestamps each state must have, and those it cannot have yet.
NEEDS: dict[State, tuple[str, ...]] = {
    State.PROPOSED: (),
    State.BUILDING: (),
    State.SHIPPED: ("shipped_at",),
    State.VALIDATED: ("shipped_at", "closed_at"),
    State.INVALIDATED: ("shipped_at", "closed_at"),
    State.KILLED: ("closed_at",),
}
CANNOT: dict[State, tuple[str, ...]] = {
    State.PROPOSED: ("started_at", "shipped_at", "closed_at"),
    State.BUILDING: ("shipped_at", "closed_at"),
    State.SHIPPED: ("closed_at",),
}
STATES = ", ".join(str(state) for state in State)


@dataclass
class Checked:
    rows: list[store.ImportedBet] = field(default_factory=list)
    errors: list[str] = field(default_factory=list)  # "line 3: …", in file order


def _text(value: str | None) -> str:
    """A cell as stored: literal (no Slack markup to decode), control characters dropped."""
    return grammar.clean_text(escape(value or ""))


def _moment(name: str, value: str, now: datetime) -> datetime | str:
    """The cell as an aware UTC datetime, or what is wrong with it."""
    try:
        moment = datetime.fromisoformat(value)
    except ValueError:
        return f"{name} {value!r} is not an ISO 8601 date, e.g. 2026-03-01T09:30:00Z"
    moment = moment.replace(tzinfo=UTC) if moment.tzinfo is None else moment.astimezone(UTC)
    if moment > now:
        return f"{name} {value} is in the future"
    return moment


def _header_errors(header: list[str]) -> list[str]:
    known = set(REQUIRED) | set(OPTIONAL)
    errors = [f"unknown column {name!r}" for name in header if name not in known]
    errors += [
        f"column {name!r} appears twice" for name in sorted(set(header)) if header.count(name) > 1
    ]
    missing = [name for name in REQUIRED if name not in header]
    if missing:
        errors.append("missing column(s) " + ", ".join(missing))
    if errors:
        errors.append("columns are " + ", ".join((*REQUIRED, *OPTIONAL)))
    return errors


def check_row(cells: Mapping[str, str], line: int, now: datetime) -> store.ImportedBet | list[str]:
    """One row as a bet to import, or every reason it can't be one."""
    value = {name: _text(cells.get(name)) for name in (*REQUIRED, *OPTIONAL)}
    problems: list[str] = []
    channel_id = value["channel_id"]
    if not (channel_id[:1] in ("C", "G") and channel_id.isalnum() and channel_id.isupper()):
        problems.append(f"channel_id {channel_id!r} is not a channel id such as C0123ABCD")
    owner_id = grammar.parse_user(value["owner_id"]) if value["owner_id"] else None
    if owner_id is None:
        problems.append(f"owner_id {value['owner_id']!r} is not a user id such as U0123ABCD")
    creator_id = grammar.parse_user(value["creator_id"]) if value["creator_id"] else owner_id
    if value["creator_id"] and creator_id is None:
        problems.append(f"creator_id {value['creator_id']!r} is not a user id such as U0123ABCD")
    hypothesis = value["hypothesis"]
    if not hypothesis:
        problems.append("missing hypothesis")
    title = value["title"] or (title_for(hypothesis) if hypothesis else "")
    if len(title) > MAX_TITLE:
        problems.append(f"title is longer than {MAX_TITLE} characters")
    for name in ("hypothesis", "signal", "learned", "close_reason"):
        if len(value[name]) > MAX_TEXT:
            problems.append(f"{name} is longer than {MAX_TEXT} characters")
    link = value["link"] or None
    if link and not is_web_url(link):
        problems.append(f"link {link!r} is not an http(s) link")
    try:
        state = State(value["state"].lower() or State.PROPOSED)
    except ValueError:
        problems.append(f"unknown state {value['state']!r} (use one of {STATES})")
        state = None
    moments: dict[str, datetime | None] = {}
    for name in STAMPS:
        if not value[name]:
            moments[name] = None
            if name == "created_at":
                problems.append("missing created_at")
            continue
        parsed = _moment(name, value[name], now)
        if isinstance(parsed, str):
            problems.append(parsed)
            parsed = None
        moments[name] = parsed
    given = [(name, moment) for name, moment in moments.items() if moment is not None]
    for (earlier, before), (later, after) in pairwise(given):
        if after < before:
            problems.append(f"{later} ({value[later]}) is before {earlier} ({value[earlier]})")
    if state is not None:
        for name in NEEDS[state]:
            if not value[name]:
                problems.append(f"a {state} bet needs {name}")
        for name in CANNOT.get(state, ()):
            if value[name]:
                problems.append(f"a {state} bet can't have {name}")
        if state is State.KILLED and not value["close_reason"]:
            problems.append("a killed bet needs close_reason (why it was stopped)")
    if problems or state is None or owner_id is None or creator_id is None:
        return problems
    created_at = moments["created_at"]
    assert created_at is not None  # required, and no problem was found
    return store.ImportedBet(
        line=line,
        channel_id=channel_id,
        title=title,
        hypothesis=hypothesis,
        signal=value["signal"],
        owner_id=owner_id,
        creator_id=creator_id,
        state=str(state),
        link=link,
        learned=value["learned"],
        close_reason=value["close_reason"] if state in FINAL_STATES else "",
        coach_notes="\n".join(coach(hypothesis, value["signal"])),
        created_at=created_at,
        started_at=moments["started_at"],
        shipped_at=moments["shipped_at"],
        closed_at=moments["closed_at"],
    )


def check_file(lines: Iterable[str], now: datetime) -> Checked:
    """Every row of a CSV file checked; errors name the line each row starts on."""
    checked = Checked()
    reader = csv.reader(lines)
    try:
        header = [name.strip().lower() for name in next(reader)]
    except StopIteration:
        checked.errors.append("line 1: the file is empty; it needs a header row")
        return checked
    except csv.Error as error:
        checked.errors.append(f"line 1: {error}")
        return checked
    checked.errors += [f"line 1: {problem}" for problem in _header_errors(header)]
    if checked.errors:
        return checked
    while True:
        line = reader.line_num + 1
        try:
            cells = next(reader)
        except StopIteration:
            break
        except csv.Error as error:
            checked.errors.append(f"line {line}: {error}")
            break
        if not any(cell.strip() for cell in cells):
            continue  # a blank line
        if len(cells) != len(header):
            checked.errors.append(f"line {line}: {len(cells)} cells for {len(header)} columns")
            continue
        result = check_row(dict(zip(header, cells, strict=True)), line, now)
        if isinstance(result, list):
            checked.errors += [f"line {line}: {problem}" for problem in result]
        else:
            checked.rows.append(result)
    return checked


def _row_text(key: str, row: store.ImportedBet) -> str:
    return f"line {row.line}: {key} · {row.state} · {row.channel_id} · {row.title}"


async def import_file(
    path: Path,
    team_id: str,
    *,
    apply: bool,
    now: datetime,
    timezone: str = "UTC",
    out: TextIO = sys.stdout,
    err: TextIO = sys.stderr,
) -> int:
    """Check `path`, then print the plan (dry run) or write it; the database is connected.
    Returns the exit status: 0 done, 1 bad rows (nothing written), 2 unreadable file."""
    if not (team_id[:1] in ("T", "E") and team_id.isalnum() and team_id.isupper()):
        print(f"hypobot: --team {team_id!r} is not a team id such as T0123ABCD", file=err)
        return 2
    try:
        with path.open(encoding="utf-8-sig", newline="") as handle:
            checked = check_file(handle, now)
    except (OSError, UnicodeDecodeError) as error:
        print(f"hypobot: can't read {path}: {error}", file=err)
        return 2
    if checked.errors:
        for problem in checked.errors:
            print(f"{path.name}: {problem}", file=err)
        print(f"hypobot: {path.name} has bad rows; nothing was written.", file=err)
        return 1
    if not checked.rows:
        print(f"hypobot: {path.name} has no bets; nothing was written.", file=err)
        return 1
    count = len(checked.rows)
    if not apply:
        first = await store.next_number(team_id)
        for offset, row in enumerate(checked.rows):
            print(_row_text(format_key(first + offset), row), file=out)
        span = _span(first, count)
        print(
            f"Dry run: {count} bet(s) would be created in {team_id} as {span}. "
            "Nothing was written; run again with --apply to write them.",
            file=out,
        )
        return 0
    bets = await store.import_bets(
        team_id, checked.rows, now=now, timezone=timezone, source=path.name
    )
    for bet, row in zip(bets, checked.rows, strict=True):
        print(_row_text(format_key(bet.number), row), file=out)
    print(
        f"Imported {count} bet(s) into {team_id} as {_span(bets[0].number, count)}. "
        "Nothing was posted to Slack: an open bet's card appears in its channel at its "
        "first change.",
        file=out,
    )
    return 0


def _span(first: int, count: int) -> str:
    last = first + count - 1
    return format_key(first) if count == 1 else f"{format_key(first)} to {format_key(last)}"


def add_parser(subparsers: Any) -> argparse.ArgumentParser:
    parser: argparse.ArgumentParser = subparsers.add_parser(
        "import",
        help="import bets from a CSV file (a dry run unless --apply)",
        description=__doc__,
        formatter_class=argparse.RawDescriptionHelpFormatter,
    )
    parser.add_argument("file", type=Path, help="the CSV file, e.g. bets.csv")
    parser.add_argument("--team", required=True, help="the workspace (team id), e.g. T0123ABCD")
    parser.add_argument(
        "--apply", action="store_true", help="write the bets (default: only show the plan)"
    )
    return parser


async def _run(args: argparse.Namespace, database_url: str | None, timezone: str) -> int:
    async with db.connected(database_url):
        return await import_file(
            args.file, args.team, apply=args.apply, now=datetime.now(UTC), timezone=timezone
        )


def run(args: argparse.Namespace) -> int:
    try:
        settings = load_settings()
    except SettingsError as error:
        print(f"hypobot: {error}", file=sys.stderr)
        return 2
    return asyncio.run(_run(args, settings.database_url, settings.default_timezone))
