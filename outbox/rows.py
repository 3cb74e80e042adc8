"""The outbox: outgoing Slack calls recorded before they are sent, and their fate after."""

from __future__ import annotations

from collections.abc import Iterable, Sequence
from datetime import datetime, timedelta
from typing import Any

from tortoise.expressions import Q
from tortoise.functions import Count, Min
from tortoise.transactions import in_transaction

from outbox.kinds import Kind
from storage import db
from storage.models import Bet, Outbox

UNSENT = ("pending", "sending")


# A row is due when it is pending and its time has come, or when its sender's lease lapsed.
_DUE = "((status = 'pending' AND next_attempt_at <= ?) OR (status = 'sending' AND lease_until < ?))"


def _due(now: datetime) -> Q:
    return Q(status="pending", next_attempt_at__lte=now) | Q(status="sending", lease_until__lt=now)


async def due_channels(*, now: datetime, limit: int) -> list[tuple[str, str]]:
    """Channels with rows due, the one waiting longest first."""
    rows = (
        await Outbox.filter(_due(now))
        .annotate(first=Min("id"))
        .group_by("team_id", "channel_id")
        .order_by("first")
        .limit(limit)
        .values_list("team_id", "channel_id")
    )
    return [(team_id, channel_id) for team_id, channel_id in rows]


async def claim(
    *,
    now: datetime,
    lease: timedelta,
    limit: int,
    channel: tuple[str, str] | None = None,
    ids: Sequence[int] | None = None,
    team_id: str | None = None,
) -> list[Outbox]:
    """Take due rows (of one channel, or by id of one workspace), oldest first, with one
    UPDATE … RETURNING.

    The UPDATE re-checks that each row is still due as it takes it, so of several
    replicas exactly one gets a given row (PostgreSQL skips rows another sender is
    taking; SQLite writes one transaction at a time). A row taken back from a sender whose
    lease lapsed may be out already: it is marked uncertain, and sent only after a search
    of the channel for it.
    """
    postgres = db.is_postgres_connection(Outbox)
    where: list[str] = [_DUE]
    values: list[Any] = [now, now]
    if channel is not None:
        where.append("team_id = ? AND channel_id = ?")
        values += list(channel)
    if team_id is not None:
        where.append("team_id = ?")
        values.append(team_id)
    if ids is not None:
        if not ids:
            return []
        where.append(f"id IN ({', '.join('?' for _ in ids)})")
        values += [int(id_) for id_ in ids]
    pick = f"SELECT id FROM outbox WHERE {' AND '.join(where)} ORDER BY id LIMIT {int(limit)}"
    if postgres:
        pick += " FOR UPDATE SKIP LOCKED"
    sql = (
        f"WITH picked AS ({pick}) "
        "UPDATE outbox SET status = 'sending', lease_until = ?, last_error = CASE "
        "WHEN status = 'sending' THEN 'uncertain: lease lapsed' ELSE last_error END "
        f"WHERE id IN (SELECT id FROM picked) AND {_DUE} RETURNING *"
    )
    rows = await db.fetch(Outbox, sql, [*values, now + lease, now, now])
    return sorted((Outbox._init_from_db(**row) for row in rows), key=lambda row: row.id)


async def lapse_claims(team_id: str, *, now: datetime) -> int:
    """The workspace's sending lease was taken over from a holder that stopped: the rows it
    had claimed are due now (each marked uncertain when it is claimed again, and looked for
    in its channel before it is sent)."""
    return int(
        await Outbox.filter(team_id=team_id, status="sending", lease_until__gte=now).update(
            lease_until=now - timedelta(microseconds=1)
        )
    )


async def older_unsent_card(row: Outbox) -> bool:
    """Cards sync in order: a later sync waits while an earlier one for the bet is unsent."""
    return await Outbox.filter(
        bet_id=row.bet_id, kind=Kind.CARD, id__lt=row.id, status__in=list(UNSENT)
    ).exists()


async def card_due_at(row: Outbox) -> datetime | None:
    """A nudge or an escalation queued before its bet had a card waits while a card queued
    before it is unsent (it belongs in the card's thread, never on its own): when that card
    is due next; None when the row need not wait."""
    if row.thread_ts or row.bet_id is None:
        return None
    due = await Outbox.filter(
        team_id=row.team_id,
        bet_id=row.bet_id,
        kind=Kind.CARD,
        id__lt=row.id,
        status__in=list(UNSENT),
    ).values_list("next_attempt_at", flat=True)
    return min(due) if due else None


async def cards_unsent(team_id: str, bet_ids: Iterable[int]) -> set[int]:
    """Those of the bets that have a card queued and not sent yet (say, a private channel's
    card waiting for an invitation)."""
    wanted = list(set(bet_ids))
    if not wanted:
        return set()
    rows = await Outbox.filter(
        team_id=team_id, bet_id__in=wanted, kind=Kind.CARD, status__in=list(UNSENT)
    ).values_list("bet_id", flat=True)
    return {int(bet_id) for bet_id in rows}


async def has_message(team_id: str, channel_id: str, kind: Kind, *, thread_ts: str) -> bool:
    """Whether a message of `kind` was queued in that thread already."""
    return bool(
        await Outbox.exists(team_id=team_id, channel_id=channel_id, kind=kind, thread_ts=thread_ts)
    )


async def mark_sent(row: Outbox, *, now: datetime, message_ts: str | None) -> None:
    if not (row.kind == Kind.CARD and message_ts and row.bet_id is not None):
        await _sent(row, now, message_ts)
        return
    async with in_transaction():
        await _sent(row, now, message_ts)
        # The card message is the bet's thread; set it once, never overwrite.
        await Bet.filter(id=row.bet_id, team_id=row.team_id, card_ts__isnull=True).update(
            card_ts=message_ts
        )


async def _sent(row: Outbox, now: datetime, message_ts: str | None) -> None:
    await Outbox.filter(id=row.id).update(
        status="sent",
        sent_at=now,
        message_ts=message_ts,
        lease_until=None,
        attempts=row.attempts + 1,
        last_error="",
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


async def row(team_id: str, outbox_id: int) -> Outbox | None:
    return await Outbox.get_or_none(team_id=team_id, id=outbox_id)


# --- rows waiting for an invite (a private channel Hypobot is not in yet) ------------------

AWAITING_INVITE = "awaiting_invite"  # rows held until Hypobot is invited (or a recheck)
INVITE_ASKED = "awaiting_invite: the bet's creator was asked to /invite @Hypobot"


def _held(team_id: str, channel_id: str) -> Any:
    return Outbox.filter(
        team_id=team_id,
        channel_id=channel_id,
        status="pending",
        last_error__startswith=AWAITING_INVITE,
    )


async def invite_asked(row: Outbox) -> bool:
    """Someone was asked to invite Hypobot to the row's channel already (once per channel)."""
    return bool(await _held(row.team_id, row.channel_id).filter(last_error=INVITE_ASKED).exists())


async def hold_channel(row: Outbox, until: datetime) -> None:
    """The channel's other pending rows wait for the invite too (none can be posted)."""
    await (
        Outbox.filter(team_id=row.team_id, channel_id=row.channel_id, status="pending")
        .exclude(last_error__startswith=AWAITING_INVITE)
        .update(next_attempt_at=until, last_error=AWAITING_INVITE)
    )


async def release_held(team_id: str, channel_id: str, *, now: datetime) -> int:
    """Everything that waited for the invite is due now; how many rows."""
    return int(await _held(team_id, channel_id).update(next_attempt_at=now, last_error=""))
