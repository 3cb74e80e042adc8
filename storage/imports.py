"""Bets imported from elsewhere (`hypobot import`): all rows in one transaction, numbered
after the workspace's existing bets, each with an "imported" event and no Slack message."""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from datetime import datetime

from tortoise.transactions import in_transaction

from storage.bets import take_bet_numbers, write_event
from storage.models import Bet, Channel, Workspace

IMPORT_ACTOR = "import"  # the events' actor: the CLI, not a Slack user


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


async def next_number(team_id: str) -> int:
    """The number the workspace's next bet would get (read only: for a dry run)."""
    workspace = await Workspace.get_or_none(team_id=team_id)
    return (workspace.last_bet_number if workspace else 0) + 1


async def import_bets(
    team_id: str,
    rows: Sequence[ImportedBet],
    *,
    now: datetime,
    timezone: str,
    source: str,
) -> list[Bet]:
    """Write every row or none. `source` (the file's name) goes into each "imported" event.

    No card is queued: the outbox gets nothing, so Slack hears nothing of the import.
    """
    if not rows:
        return []
    async with in_transaction():
        # Plain get-or-create inside the transaction: a concurrent insert of the same row
        # fails the whole import (nothing written) rather than half of it.
        if await Workspace.get_or_none(team_id=team_id) is None:
            await Workspace.create(team_id=team_id, created_at=now)
        for channel_id in sorted({row.channel_id for row in rows}):
            if await Channel.get_or_none(team_id=team_id, channel_id=channel_id) is None:
                await Channel.create(
                    team_id=team_id, channel_id=channel_id, timezone=timezone, created_at=now
                )
        first = await take_bet_numbers(team_id, len(rows))
        created = []
        for offset, row in enumerate(rows):
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
                updated_at=now,
            )
            await write_event(
                bet,
                team_id=team_id,
                actor_id=IMPORT_ACTOR,
                now=now,
                kind="imported",
                to_state=row.state,
                data={"source": source, "line": row.line, "created_at": row.created_at.isoformat()},
            )
            created.append(bet)
    return created
