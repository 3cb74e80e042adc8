"""Bets imported from elsewhere (`hypobot import`): all rows in one transaction, numbered
after the workspace's existing bets, with the history the file carries and an "imported"
event each, and no Slack message; rows the workspace already has are skipped. A pivot
links to its original by the file's key: a row of the same file (in any order), a bet
imported before from that key, or the workspace's own bet of that key."""

from __future__ import annotations

import hashlib
from collections.abc import Sequence
from dataclasses import dataclass, field
from datetime import UTC, datetime
from typing import Any

from storage import db
from storage.bets import take_bet_numbers, write_event
from storage.models import Bet, Channel, Event, Evidence, Workspace

IMPORT_ACTOR = "import"  # the events' actor: the CLI, not a Slack user
IMPORTED = "imported"  # the event each imported bet gets


def row_identity(channel_id: str, hypothesis: str, created_at: datetime) -> str:
    """What makes a row the same bet wherever it is read from: its channel, its hypothesis
    and when it was created. A bet already in the workspace with the same identity (imported
    before, or the bet an export was made from) is not imported again."""
    moment = created_at.astimezone(UTC).isoformat()
    return hashlib.sha256(f"{channel_id}\n{moment}\n{hypothesis}".encode()).hexdigest()[:32]


@dataclass(frozen=True)
class ImportedEvidence:
    """One piece of a row's evidence (the export's `evidence` column)."""

    verdict: str
    text: str
    link: str | None
    source: str
    author_id: str
    at: datetime
    permalink: str | None = None
    source_name: str = ""


@dataclass(frozen=True)
class ImportedEvent:
    """One event of a row's history (the export's `events` column), kept as it was."""

    kind: str
    actor_id: str
    at: datetime
    from_state: str | None
    to_state: str | None
    data: dict[str, Any]


@dataclass(frozen=True)
class ImportedBet:
    """One checked row of the file; `line` is where it was read."""

    line: int
    channel_id: str
    title: str
    hypothesis: str
    signal: str
    owner_id: str
    creator_id: str
    state: str
    link: str | None
    learned: str
    close_reason: str
    coach_notes: str
    created_at: datetime
    started_at: datetime | None
    shipped_at: datetime | None
    closed_at: datetime | None
    expected_at: datetime | None = None
    evidence: tuple[ImportedEvidence, ...] = ()
    first_feedback_at: datetime | None = None  # from `evidence` (T5, T9)
    first_decisive_at: datetime | None = None
    # Where an exported row came from ("T0123:H-7", from its team_id and key columns).
    origin: str | None = None
    source_team: str = ""  # the row's team_id column
    key: str | None = None  # the row's key column, as "H-7"
    pivot_of: str | None = None  # the key of the bet it pivots from, as "H-3"
    expect_within_s: int | None = None  # "within N" of shipping (T1)
    snoozed_until: datetime | None = None
    events: tuple[ImportedEvent, ...] = ()  # its history where it came from, oldest first

    @property
    def identity(self) -> str:
        return row_identity(self.channel_id, self.hypothesis, self.created_at)


@dataclass
class Plan:
    """The rows to create, and those skipped because the workspace has them already."""

    new: list[ImportedBet] = field(default_factory=list)
    skipped: list[ImportedBet] = field(default_factory=list)
    # Which bet each skipped row is: the workspace's bet (its id), or a row earlier in the
    # file (its line) that the same bet is imported from.
    skipped_as_bet: dict[int, int] = field(default_factory=dict)
    skipped_as_line: dict[int, int] = field(default_factory=dict)


@dataclass(frozen=True)
class PivotTarget:
    """The bet a row pivots from: a row of the file (`line`) or a bet of the workspace
    (`bet_id`), in `state`."""

    state: str
    line: int | None = None
    bet_id: int | None = None


class PivotMissing(Exception):
    """A pivot's original went missing between the check and the write (nothing written)."""


async def next_number(team_id: str) -> int:
    """The number the workspace's next bet would get (read only: for a dry run)."""
    workspace = await Workspace.get_or_none(team_id=team_id)
    return (workspace.last_bet_number if workspace else 0) + 1


async def _imported_origins(team_id: str) -> dict[str, int]:
    """The origin ("T0123:H-7") of every bet imported before, with the bet's id."""
    origins: dict[str, int] = {}
    for bet_id, data in await Event.filter(team_id=team_id, kind=IMPORTED).values_list(
        "bet_id", "data"
    ):
        if isinstance(data, dict) and isinstance(data.get("origin"), str) and bet_id:
            origins.setdefault(data["origin"], bet_id)
    return origins


async def plan(team_id: str, rows: Sequence[ImportedBet]) -> Plan:
    """Split rows into new ones and those already in the workspace (or earlier in the file):
    same identity as one of its bets, or the same origin as a bet imported before."""
    identities: dict[str, int] = {
        row_identity(channel_id, hypothesis, created_at): bet_id
        for bet_id, channel_id, hypothesis, created_at in await Bet.filter(
            team_id=team_id
        ).values_list("id", "channel_id", "hypothesis", "created_at")
    }
    origins = await _imported_origins(team_id)
    in_file: dict[str, int] = {}  # identity or origin → the line of the row it came from
    split = Plan()
    for row in rows:
        names = [row.identity, *([row.origin] if row.origin is not None else [])]
        bet_id = identities.get(row.identity) or (
            origins.get(row.origin) if row.origin is not None else None
        )
        line = next((in_file[name] for name in names if name in in_file), None)
        if bet_id is not None:
            split.skipped.append(row)
            split.skipped_as_bet[row.line] = bet_id
        elif line is not None:
            split.skipped.append(row)
            split.skipped_as_line[row.line] = line
        else:
            split.new.append(row)
            for name in names:
                in_file[name] = row.line
    return split


async def pivot_targets(
    team_id: str, rows: Sequence[ImportedBet], split: Plan
) -> dict[int, PivotTarget | None]:
    """Where each new row that pivots points (by line), None where nothing matches.

    Its `pivot_of` key names, in this order: a row of the file with that key from the same
    workspace (`team_id` column), wherever it is in the file; a bet imported before from
    that workspace's key; or, for a row of this workspace or of none, this workspace's bet
    of that key."""
    by_key = {(row.source_team, row.key): row for row in rows if row.key is not None}
    origins: dict[str, int] | None = None
    targets: dict[int, PivotTarget | None] = {}
    for row in split.new:
        if row.pivot_of is None:
            continue
        original = by_key.get((row.source_team, row.pivot_of))
        if original is not None:
            targets[row.line] = PivotTarget(original.state, line=original.line)
            continue
        if origins is None:
            origins = await _imported_origins(team_id)
        bet = None
        if bet_id := origins.get(f"{row.source_team}:{row.pivot_of}"):
            bet = await Bet.get_or_none(team_id=team_id, id=bet_id)
        elif row.source_team in ("", team_id):
            number = int(row.pivot_of.removeprefix("H-"))
            bet = await Bet.get_or_none(team_id=team_id, number=number)
        targets[row.line] = PivotTarget(bet.state, bet_id=bet.id) if bet is not None else None
    return targets


async def import_bets(
    team_id: str,
    rows: Sequence[ImportedBet],
    *,
    now: datetime,
    timezone: str,
    source: str,
) -> tuple[list[Bet], Plan]:
    """Write every new row or none; rows the workspace has already are skipped (an import
    runs twice without creating anything new). Each bet gets its row's history, then an
    "imported" event with `source` (the file's name), the row's identity and origin that
    the next import checks. Pivots are linked once every row is written, so a pivot may
    come before its original in the file. Raises `PivotMissing` (nothing written) when a
    pivot's original is no longer there: check `pivot_targets` first.

    No card is queued: Slack hears nothing of the import but for the channels' boards
    (queued by the caller in the same unit of work).
    """
    async with db.unit_of_work():
        # Plain get-or-create inside the transaction: a concurrent insert of the same row
        # fails the whole import (nothing written) rather than half of it.
        if await Workspace.get_or_none(team_id=team_id) is None:
            await Workspace.create(team_id=team_id, created_at=now)
        # Taking no numbers still locks the workspace row: a second import of the same file
        # running at the same time waits here, then finds these rows and skips them.
        await take_bet_numbers(team_id, 0)
        split = await plan(team_id, rows)
        if not split.new:
            return [], split
        targets = await pivot_targets(team_id, rows, split)
        for channel_id in sorted({row.channel_id for row in split.new}):
            if await Channel.get_or_none(team_id=team_id, channel_id=channel_id) is None:
                await Channel.create(
                    team_id=team_id, channel_id=channel_id, timezone=timezone, created_at=now
                )
        first = await take_bet_numbers(team_id, len(split.new))
        created = [
            await _write_bet(team_id, row, first + offset, now=now, source=source)
            for offset, row in enumerate(split.new)
        ]
        bet_of_line = {row.line: bet.id for row, bet in zip(split.new, created, strict=True)}
        bet_of_line |= split.skipped_as_bet
        for line, earlier in split.skipped_as_line.items():
            bet_of_line[line] = bet_of_line[earlier]
        for row, bet in zip(split.new, created, strict=True):
            if row.pivot_of is None:
                continue
            target = targets.get(row.line)
            if target is None:
                raise PivotMissing(f"line {row.line}: pivot_of {row.pivot_of} is not there")
            bet.pivot_of_id = target.bet_id if target.line is None else bet_of_line[target.line]  # type: ignore[attr-defined]
            await bet.save(update_fields=["pivot_of_id"])
    return created, split


async def _write_bet(
    team_id: str, row: ImportedBet, number: int, *, now: datetime, source: str
) -> Bet:
    """One new row: the bet, its evidence, its history and its "imported" event."""
    bet = await Bet.create(
        team_id=team_id,
        number=number,
        channel_id=row.channel_id,
        title=row.title,
        hypothesis=row.hypothesis,
        signal=row.signal,
        link=row.link,
        owner_id=row.owner_id,
        creator_id=row.creator_id,
        state=row.state,
        coach_notes=row.coach_notes,
        learned=row.learned,
        close_reason=row.close_reason,
        created_at=row.created_at,
        started_at=row.started_at,
        shipped_at=row.shipped_at,
        closed_at=row.closed_at,
        expected_at=row.expected_at,
        expect_within_s=row.expect_within_s,
        snoozed_until=row.snoozed_until,
        first_feedback_at=row.first_feedback_at,
        first_decisive_at=row.first_decisive_at,
        evidence_count=len(row.evidence),
        updated_at=now,
    )
    for evidence in row.evidence:
        await Evidence.create(
            team_id=team_id,
            bet_id=bet.id,
            text=evidence.text,
            link=evidence.link,
            verdict=evidence.verdict,
            source=evidence.source,
            source_name=evidence.source_name,
            author_id=evidence.author_id,
            at=evidence.at,
            permalink=evidence.permalink,
        )
    if row.events:
        await Event.bulk_create(
            [
                Event(
                    team_id=team_id,
                    bet_id=bet.id,
                    channel_id=bet.channel_id,
                    actor_id=event.actor_id,
                    at=event.at,
                    kind=event.kind,
                    from_state=event.from_state,
                    to_state=event.to_state,
                    data=event.data,
                )
                for event in row.events
            ]
        )
    data: dict[str, Any] = {
        "source": source,
        "line": row.line,
        "created_at": row.created_at.isoformat(),
        "row": row.identity,
    }
    if row.origin is not None:
        data["origin"] = row.origin
    await write_event(
        bet,
        team_id=team_id,
        actor_id=IMPORT_ACTOR,
        now=now,
        kind=IMPORTED,
        to_state=row.state,
        data=data,
    )
    return bet
