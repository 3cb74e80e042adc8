"""The outbox: outgoing Slack calls recorded before they are sent, and their fate after."""

from __future__ import annotations

from collections.abc import Sequence
from datetime import datetime, timedelta
from typing import Any

from tortoise.expressions import Q
from tortoise.functions import Count
from tortoise.transactions import in_transaction

from storage.models import Bet, Outbox

UNSENT = ("pending", "sending")


async def claim_due(
    *, now: datetime, lease: timedelta, limit: int = 100, ids: Sequence[int] | None = None
) -> list[Outbox]:
    """Rows this sender now owns: due pending rows, and rows whose sender lost its lease.

    Each row is taken with a conditional UPDATE, so of several replicas exactly one
    gets a given row; a replica that dies mid-send stops renewing and its lease lapses.
    """
    due = Q(status="pending", next_attempt_at__lte=now) | Q(status="sending", lease_until__lt=now)
    query = Outbox.filter(due)
    if ids is not None:
        query = query.filter(id__in=list(ids))
    candidates = await query.order_by("id").limit(limit).values("id", "status", "lease_until")
    claimed: list[int] = []
    for row in candidates:
        # A lapsed lease means a sender died mid-send: the message may be out already.
        lapsed = {"last_error": "uncertain: lease lapsed"} if row["status"] == "sending" else {}
        same_lease = (
            {"lease_until": row["lease_until"]}
            if row["lease_until"] is not None
            else {"lease_until__isnull": True}
        )
        taken = await Outbox.filter(id=row["id"], status=row["status"], **same_lease).update(
            status="sending", lease_until=now + lease, **lapsed
        )
        if taken:
            claimed.append(row["id"])
    if not claimed:
        return []
    return await Outbox.filter(id__in=claimed).order_by("id")


async def older_unsent_card(row: Outbox) -> bool:
    """Cards sync in order: a later sync waits while an earlier one for the bet is unsent."""
    return await Outbox.filter(
        bet_id=row.bet_id, kind="card", id__lt=row.id, status__in=list(UNSENT)
    ).exists()


async def mark_sent(row: Outbox, *, now: datetime, message_ts: str | None) -> None:
    async with in_transaction():
        await Outbox.filter(id=row.id).update(
            status="sent",
            sent_at=now,
            message_ts=message_ts,
            lease_until=None,
            attempts=row.attempts + 1,
            last_error="",
        )
        if row.kind == "card" and message_ts and row.bet_id is not None:
            # The card message is the bet's thread; set it once, never overwrite.
            await Bet.filter(id=row.bet_id, team_id=row.team_id, card_ts__isnull=True).update(
                card_ts=message_ts
            )


async def mark_retry(row: Outbox, *, at: datetime, error: str, count_attempt: bool = True) -> None:
    await Outbox.filter(id=row.id).update(
        status="pending",
        next_attempt_at=at,
        lease_until=None,
        last_error=error[:500],
        attempts=row.attempts + (1 if count_attempt else 0),
    )


async def mark_failed(row: Outbox, *, now: datetime, error: str) -> None:
    await Outbox.filter(id=row.id).update(
        status="failed",
        lease_until=None,
        last_error=error[:500],
        attempts=row.attempts + 1,
        sent_at=None,
        next_attempt_at=now,
    )


async def counts_by_status() -> dict[str, int]:
    rows = await Outbox.annotate(n=Count("id")).group_by("status").values("status", "n")
    return {row["status"]: row["n"] for row in rows}


async def recent_failures(limit: int = 20) -> list[Outbox]:
    return await Outbox.filter(status="failed").order_by("-id").limit(limit)


async def next_due_at() -> datetime | None:
    row = await Outbox.filter(status="pending").order_by("next_attempt_at").first()
    return row.next_attempt_at if row else None


async def enqueue(
    team_id: str,
    channel_id: str,
    kind: str,
    payload: dict[str, Any],
    *,
    now: datetime,
    thread_ts: str | None = None,
) -> Outbox:
    return await Outbox.create(
        team_id=team_id,
        channel_id=channel_id,
        kind=kind,
        payload=payload,
        thread_ts=thread_ts,
        next_attempt_at=now,
        created_at=now,
    )


async def row(team_id: str, outbox_id: int) -> Outbox | None:
    return await Outbox.get_or_none(team_id=team_id, id=outbox_id)
