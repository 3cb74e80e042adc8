"""Bets imported from elsewhere (`hypobot import`): all rows in one transaction, numbered
after the workspace's existing bets, each with an "imported" event and no Slack message;
rows the workspace already has are skipped."""

from __future__ import annotations

import hashlib
from collections.abc import Sequence
from dataclasses import dataclass, field
from datetime import UTC, datetime
from typing import Any

from tortoise.transactions import in_transaction

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

    @property
    def identity(self) -> str:
        return row_identity(self.channel_id, self.hypothesis, self.created_at)


@dataclass
class Plan:
    """The rows to create, and those skipped because the workspace has them already."""

    new: list[ImportedBet] = field(default_factory=list)
    skipped: list[ImportedBet] = field(default_factory=list)


async def next_number(team_id: str) -> int:
    """The number the workspace's next bet would get (read only: for a dry run)."""
    workspace = await Workspace.get_or_none(team_id=team_id)
    return (workspace.last_bet_number if workspace else 0) + 1


async def plan(team_id: str, rows: Sequence[ImportedBet]) -> Plan:
    """Split rows into new ones and those already in the workspace (or earlier in the file):
    same identity as one of its bets, or the same origin as a bet imported before."""
    identities = {
        row_identity(channel_id, hypothesis, created_at)
        for channel_id, hypothesis, created_at in await Bet.filter(team_id=team_id).values_list(
            "channel_id", "hypothesis", "created_at"
        )
    }
    origins: set[str] = set()
    for data in await Event.filter(team_id=team_id, kind=IMPORTED).values_list("data", flat=True):
        if isinstance(data, dict) and isinstance(data.get("origin"), str):
            origins.add(data["origin"])
    split = Plan()
    for row in rows:
        if row.identity in identities or (row.origin is not None and row.origin in origins):
            split.skipped.append(row)
            continue
        split.new.append(row)
        identities.add(row.identity)
        if row.origin is not None:
            origins.add(row.origin)
    return split


async def import_bets(
    team_id: str,
    rows: Sequence[ImportedBet],
    *,
    now: datetime,
    timezone: str,
    source: str,
) -> tuple[list[Bet], Plan]:
    """Write every new row or none; rows the workspace has already are skipped (an import
    runs twice without creating anything new). `source` (the file's name) goes into each
    "imported" event, with the row's identity and origin that the next import checks.

    No card is queued: the outbox gets nothing, so Slack hears nothing of the import.
    """
    async with in_transaction():
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
        for channel_id in sorted({row.channel_id for row in split.new}):
            if await Channel.get_or_none(team_id=team_id, channel_id=channel_id) is None:
                await Channel.create(
                    team_id=team_id, channel_id=channel_id, timezone=timezone, created_at=now
                )
        first = await take_bet_numbers(team_id, len(split.new))
        created = []
        for offset, row in enumerate(split.new):
            bet = await Bet.create(
                team_id=team_id,
                number=first + offset,
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
            created.append(bet)
    return created, split
