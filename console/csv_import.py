"""`hypobot import bets.csv --team T123 [--apply]`: bring bets kept elsewhere into Hypobot.

A dry run by default: it checks every row, prints what it would create, and writes nothing.
`--apply` writes all rows in one transaction, or none when any row is bad. Each bet is
numbered H-<n> after the workspace's existing ones, in the file's order, and gets an
"imported" event naming the file and line. Nothing is posted to Slack by the import: an
open bet's card appears in its channel at its first change (start, ship, evidence…), and a
shipped bet awaiting feedback gets its card with its first nudge, within the channel's
nudge budget.

`hypobot export --format csv` writes everything a bet is, and imports back as it is: one
workspace's export imported into an empty workspace (a new database) keeps its keys, and
exporting that workspace gives the same file, byte for byte. Into a workspace that has
bets already, the keys follow its own, and pivots follow the bets they point at.

Importing is idempotent: a row the workspace already has is skipped and counted, never
created twice. A row is the same bet as one of the workspace's when its channel, hypothesis
and created_at are equal (it was imported before, or it is the bet the export was made
from), or when it names the same exported bet (team_id and key) as one imported before.

The file is UTF-8 CSV with a header row. Columns (any order; others are refused):

  channel_id    required  the bet's channel, e.g. C0123ABCD
  hypothesis    required  "We believe <change> for <whom> will <outcome>"
  owner_id      required  the owner's user id, e.g. U0123ABCD (`owner` in an export)
  created_at    required  ISO 8601, e.g. 2026-03-01 or 2026-03-01T09:30:00Z (no zone = UTC)
  title                   defaults to one derived from the hypothesis (at most 150 characters)
  signal                  "We'll know when <measurable signal>"
  creator_id              defaults to owner_id (`creator` in an export)
  state                   proposed (default), building, shipped, validated, invalidated, killed
  link                    an http(s) link
  started_at            ┐ ISO 8601; not in the future, and in order:
  shipped_at            │ created_at ≤ started_at ≤ shipped_at ≤ closed_at
  closed_at             ┘
  expected_at             ISO 8601: the date the signal should show (drives nudges)
  expect_within_s         or: within this many seconds of shipping ("within 4 days" is 345600)
  snoozed_until           ISO 8601: no nudge before then
  pivot_of                the key of the closed bet this one pivots from: a row of the same
                          file with that key (anywhere in it), a bet imported before from
                          that key, or the workspace's own bet of that key
  learned                 what the team learned
  close_reason            why a killed bet was stopped
  coach_notes             what the coach asked on creation (default: asked again now)
  evidence                the bet's evidence as `hypobot export --format csv` writes it (JSON):
                          verdict, text, link, source, source_name, author, at, permalink
  events                  the bet's history as the export writes it (JSON): kind, actor, at,
                          from, to, data; kept as it happened, before the "imported" event
  team_id, key            where an exported row came from: kept in the "imported" event, and
                          a bet imported from there before is skipped
  first_feedback_at,      written by the export, read by nobody: computed again from the
  first_decisive_at       evidence

Each state needs its timestamps, as the lifecycle would have set them: shipped needs
shipped_at; validated and invalidated need shipped_at and closed_at; killed needs closed_at
and close_reason. A timestamp the state could not have (shipped_at on a building bet,
closed_at on an open one) is refused.

A cell the export guarded against spreadsheet formulas is read back as it was: one leading
single quote is taken off a cell that starts with quotes followed by =, +, -, @, a tab or a
carriage return (`'=SUM(A1)` reads `=SUM(A1)`, `''=x` reads `'=x`); see console/csv_export.py.
"""

from __future__ import annotations

import argparse
import asyncio
import csv
import json
import re
import sys
from collections.abc import Iterable, Mapping
from dataclasses import dataclass, field
from datetime import UTC, datetime
from itertools import pairwise
from pathlib import Path
from typing import Any, TextIO

from bets.durations import MAX_DURATION
from bets.evidence import Verdict, feedback_moments
from bets.hypothesis import MAX_TEXT, MAX_TITLE, coach, title_for
from bets.keys import format_key, parse_key
from bets.lifecycle import FINAL_STATES, State
from bot import grammar
from bot.blocks.text import escape, is_web_url
from console.csv_export import unguard
from console.exits import REFUSED, settings_or_refuse
from storage import db
from storage import imports as store
from usecases import views

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
    "expected_at",
    "expect_within_s",
    "snoozed_until",
    "pivot_of",
    "coach_notes",
    "evidence",
    "events",
    "team_id",
    "key",
)
JSON = ("evidence", "events")  # cells holding JSON lists, read by their own checks
# The export's names for two columns, read as the import's own.
ALIASES = {"owner": "owner_id", "creator": "creator_id"}
# Columns the export writes that an import computes again (see the module's docstring).
DERIVED = ("first_feedback_at", "first_decisive_at")
_ACTOR = re.compile(r"[A-Za-z0-9_.:-]{1,32}")
MAX_WITHIN_S = int(MAX_DURATION.total_seconds())
EVIDENCE_SOURCE = "import"  # evidence in a file that does not say where it came from
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
    """`header` with the export's names already read as the import's (`owner` → owner_id)."""
    known = set(REQUIRED) | set(OPTIONAL) | set(DERIVED)
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


def _column(name: str) -> str:
    name = name.strip().lower()
    return ALIASES.get(name, name)


def _author(text: str, owner_id: str | None) -> str | None:
    """A user id (`U0123`, `<@U0123|name>`), another plain actor name the export wrote
    (`import`, an API token's name), or the bet's owner."""
    if user := grammar.parse_user(text):
        return user
    return text if _ACTOR.fullmatch(text) else owner_id


def _evidence(
    cell: str, owner_id: str | None, now: datetime
) -> tuple[list[store.ImportedEvidence], list[str]]:
    """The `evidence` cell (a JSON list, as the export writes it) as evidence to import,
    oldest first, and what is wrong with it."""
    if not cell.strip():
        return [], []
    try:
        items = json.loads(cell)
    except ValueError:
        return [], ["evidence is not the JSON list `hypobot export --format csv` writes"]
    if not isinstance(items, list) or not all(isinstance(item, dict) for item in items):
        return [], ["evidence is not a JSON list of objects, as `hypobot export` writes it"]
    problems: list[str] = []
    found: list[store.ImportedEvidence] = []
    for number, item in enumerate(items, start=1):
        where = f"evidence {number}"
        text = _text(str(item.get("text") or ""))
        link = str(item.get("link") or "").strip() or None
        verdict = str(item.get("verdict") or "")
        if verdict not in {str(v) for v in Verdict}:
            problems.append(
                f"{where}: verdict {verdict!r} is not one of " + ", ".join(str(v) for v in Verdict)
            )
        if not text and not link:
            problems.append(f"{where} has neither text nor link")
        if link and not is_web_url(link):
            problems.append(f"{where}: link {link!r} is not an http(s) link")
        if len(text) > MAX_TEXT:
            problems.append(f"{where}: text is longer than {MAX_TEXT} characters")
        at = _moment(f"{where}: at", str(item.get("at") or ""), now)
        if isinstance(at, str):
            problems.append(at)
        author = _author(str(item.get("author") or ""), owner_id)
        source = str(item.get("source") or EVIDENCE_SOURCE)[:16]
        permalink = str(item.get("permalink") or "").strip() or None
        if problems or isinstance(at, str) or author is None:
            continue
        found.append(
            store.ImportedEvidence(
                verdict=verdict,
                text=text,
                link=link,
                source=source,
                source_name=str(item.get("source_name") or "")[:64],
                author_id=author,
                at=at,
                permalink=permalink if permalink and is_web_url(permalink) else None,
            )
        )
    return sorted(found, key=lambda e: e.at), problems


def _actor(text: str) -> str | None:
    """Who did something in a bet's history: a user id, or a plain actor name (`hypobot`,
    `api:ci`)."""
    return grammar.parse_user(text) or (text if _ACTOR.fullmatch(text) else None)


def _events(cell: str, now: datetime) -> tuple[list[store.ImportedEvent], list[str]]:
    """The `events` cell (a JSON list, as the export writes it) as the bet's history, in
    the file's order, and what is wrong with it. "imported" events are left out: they
    noted an import into the database the file came from, and this import writes its own."""
    if not cell.strip():
        return [], []
    try:
        items = json.loads(cell)
    except ValueError:
        return [], ["events is not the JSON list `hypobot export --format csv` writes"]
    if not isinstance(items, list) or not all(isinstance(item, dict) for item in items):
        return [], ["events is not a JSON list of objects, as `hypobot export` writes it"]
    problems: list[str] = []
    found: list[store.ImportedEvent] = []
    for number, item in enumerate(items, start=1):
        where = f"event {number}"
        kind = str(item.get("kind") or "")
        if kind == store.IMPORTED:
            continue
        wrong: list[str] = []
        if not _ACTOR.fullmatch(kind):
            wrong.append(f"{where}: kind {kind!r} is not an event kind such as ship")
        actor = _actor(str(item.get("actor") or ""))
        if actor is None:
            wrong.append(f"{where}: actor {item.get('actor')!r} is not a user id or actor name")
        at = _moment(f"{where}: at", str(item.get("at") or ""), now)
        if isinstance(at, str):
            wrong.append(at)
        states: list[str | None] = []
        for name in ("from", "to"):
            state = item.get(name) or None
            if state is not None and state not in {str(s) for s in State}:
                wrong.append(f"{where}: {name} {state!r} is not a state ({STATES})")
            states.append(str(state) if state is not None else None)
        data = item.get("data") or {}
        if not isinstance(data, dict):
            wrong.append(f"{where}: data is not a JSON object")
        problems += wrong
        if wrong or actor is None or isinstance(at, str):
            continue
        found.append(store.ImportedEvent(kind, actor, at, states[0], states[1], data))
    return found, problems


def _within(cell: str) -> int | str | None:
    """The `expect_within_s` cell: whole seconds, or what is wrong with it."""
    if not cell:
        return None
    if not (cell.isascii() and cell.isdigit()) or not 0 < int(cell) <= MAX_WITHIN_S:
        return (
            f"expect_within_s {cell!r} is not a number of seconds from 1 to {MAX_WITHIN_S} "
            "(e.g. 345600 for 4 days after shipping)"
        )
    return int(cell)


def _pivot_key(cell: str) -> str | list[str] | None:
    """The `pivot_of` cell as a key ("H-3"), None when empty."""
    if not cell:
        return None
    number = parse_key(cell)
    if number is None:
        return [f"pivot_of {cell!r} is not a bet key such as H-12"]
    return format_key(number)


def _origin(team_id: str, key: str) -> str | list[str] | None:
    """Where an exported row came from ("T0123:H-7"), None for a row with no key."""
    if not key:
        return None
    number = parse_key(key)
    if number is None:
        return [f"key {key!r} is not a bet key such as H-12"]
    return f"{team_id}:{format_key(number)}"


def check_row(cells: Mapping[str, str], line: int, now: datetime) -> store.ImportedBet | list[str]:
    """One row as a bet to import, or every reason it can't be one."""
    value = {name: _text(cells.get(name)) for name in (*REQUIRED, *OPTIONAL) if name not in JSON}
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
    for name in ("hypothesis", "signal", "learned", "close_reason", "coach_notes"):
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
            moments[name] = None
        else:
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
    # When the signal should show, and until when the bet is snoozed, may well be ahead:
    # only their form is checked.
    far = datetime.max.replace(tzinfo=UTC)
    ahead: dict[str, datetime | None] = {}
    for name in ("expected_at", "snoozed_until"):
        parsed_ahead = _moment(name, value[name], far) if value[name] else None
        if isinstance(parsed_ahead, str):
            problems.append(parsed_ahead)
            parsed_ahead = None
        ahead[name] = parsed_ahead
    within = _within(value["expect_within_s"])
    if isinstance(within, str):
        problems.append(within)
        within = None
    evidence, wrong = _evidence(cells.get("evidence") or "", owner_id, now)
    problems += wrong
    events, wrong = _events(cells.get("events") or "", now)
    problems += wrong
    origin = _origin(value["team_id"], value["key"])
    if isinstance(origin, list):
        problems += origin
        origin = None
    pivot_of = _pivot_key(value["pivot_of"])
    if isinstance(pivot_of, list):
        problems += pivot_of
        pivot_of = None
    if problems or state is None or owner_id is None or creator_id is None:
        return problems
    created_at = moments["created_at"]
    assert created_at is not None  # required, and no problem was found
    first_feedback, first_decisive = feedback_moments(
        ((Verdict(e.verdict), e.at) for e in evidence), moments["shipped_at"]
    )
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
        # The export's notes as they were given on creation, else what the coach asks now.
        coach_notes=(
            value["coach_notes"]
            if "coach_notes" in cells
            else "\n".join(coach(hypothesis, value["signal"]))
        ),
        created_at=created_at,
        started_at=moments["started_at"],
        shipped_at=moments["shipped_at"],
        closed_at=moments["closed_at"],
        expected_at=ahead["expected_at"],
        expect_within_s=within,
        snoozed_until=ahead["snoozed_until"],
        evidence=tuple(evidence),
        first_feedback_at=first_feedback,
        first_decisive_at=first_decisive,
        origin=origin,
        source_team=value["team_id"],
        key=origin.rpartition(":")[2] if origin is not None else None,
        pivot_of=pivot_of,
        events=tuple(events),
    )


def check_file(lines: Iterable[str], now: datetime) -> Checked:
    """Every row of a CSV file checked; errors name the line each row starts on."""
    checked = Checked()
    reader = csv.reader(lines)
    try:
        header = [_column(name) for name in next(reader)]
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
        cells = [unguard(cell) for cell in cells]  # the export's guard against formulas
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
        return _refuse(path, checked.errors, err)
    if not checked.rows:
        print(f"hypobot: {path.name} has no bets; nothing was written.", file=err)
        return 1
    split = await store.plan(team_id, checked.rows)
    wrong = _pivot_errors(team_id, split, await store.pivot_targets(team_id, checked.rows, split))
    if wrong:
        return _refuse(path, wrong, err)
    if not apply:
        first = await store.next_number(team_id)
        for offset, row in enumerate(split.new):
            print(_row_text(format_key(first + offset), row), file=out)
        _print_skipped(split, team_id, out)
        if not split.new:
            print(_nothing_new(split, team_id), file=out)
            return 0
        print(
            f"Dry run: {len(split.new)} bet(s) would be created in {team_id} as "
            f"{_span(first, len(split.new))}{_and_skipped(split, team_id)}. "
            "Nothing was written; run again with --apply to write them.",
            file=out,
        )
        return 0
    try:
        async with db.unit_of_work():
            bets, split = await store.import_bets(
                team_id, checked.rows, now=now, timezone=timezone, source=path.name
            )
            for channel_id in sorted({row.channel_id for row in split.new}):
                await views.channel_changed(team_id, channel_id, now=now)  # their boards
    except store.PivotMissing as missing:  # gone since the check above (a purge)
        return _refuse(path, [str(missing)], err)
    for bet, row in zip(bets, split.new, strict=True):
        print(_row_text(format_key(bet.number), row), file=out)
    _print_skipped(split, team_id, out)
    if not bets:
        print(_nothing_new(split, team_id), file=out)
        return 0
    print(
        f"Imported {len(bets)} bet(s) into {team_id} as {_span(bets[0].number, len(bets))}"
        f"{_and_skipped(split, team_id)}. Nothing was posted to Slack yet: an open bet's card "
        "appears in its channel at its first change; a shipped bet awaiting feedback gets "
        "its card with its first nudge.",
        file=out,
    )
    return 0


def _refuse(path: Path, errors: list[str], err: TextIO) -> int:
    for problem in errors:
        print(f"{path.name}: {problem}", file=err)
    print(f"hypobot: {path.name} has bad rows; nothing was written.", file=err)
    return 1


def _pivot_errors(
    team_id: str, split: store.Plan, targets: dict[int, store.PivotTarget | None]
) -> list[str]:
    """What is wrong with the new rows' pivots: an original found nowhere, the row itself,
    or one still open (only a closed bet is pivoted from)."""
    errors = []
    for row in split.new:
        if row.pivot_of is None:
            continue
        target = targets.get(row.line)
        where = f"line {row.line}: pivot_of {row.pivot_of}"
        if target is None:
            home = f" of {row.source_team}" if row.source_team not in ("", team_id) else ""
            errors.append(f"{where}: no bet {row.pivot_of}{home} in this file or in {team_id}")
        elif target.line == row.line:
            errors.append(f"{where}: a bet can't pivot from itself")
        elif State(target.state) not in FINAL_STATES:
            errors.append(
                f"{where} is {target.state}: a pivot comes from a closed bet "
                "(validated, invalidated or killed)"
            )
    return errors


def _print_skipped(split: store.Plan, team_id: str, out: TextIO) -> None:
    for row in split.skipped:
        print(f"line {row.line}: skipped, already in {team_id} · {row.title}", file=out)


def _and_skipped(split: store.Plan, team_id: str) -> str:
    return f"; {len(split.skipped)} row(s) skipped, already in {team_id}" if split.skipped else ""


def _nothing_new(split: store.Plan, team_id: str) -> str:
    return (
        f"Nothing to import: all {len(split.skipped)} row(s) are already in {team_id} "
        "(skipped). Nothing was written."
    )


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
    settings = settings_or_refuse()
    if settings is None:
        return REFUSED
    return asyncio.run(_run(args, settings.database_url, settings.default_timezone))
