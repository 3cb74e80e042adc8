"""Queueing what goes out: outbox rows written in the unit of work that made them, and the
doorbell that wakes the sender once that unit has committed.

Nothing else starts the sender: a row queued here rings the doorbell after commit (a
rolled-back unit rings nothing), and the process's sender, subscribed at start-up, starts
on the row's channel. Another replica's rows reach this one's sender through its regular
outbox pass.
"""

from __future__ import annotations

from collections.abc import Callable, Iterable
from datetime import datetime
from typing import Any

from outbox.kinds import Kind, board_lane
from storage import db
from storage.models import Board, Outbox

Ring = Callable[[str, str], None]  # (team_id, channel_id): rows were queued for it


class Doorbell:
    """Who wants to hear that rows were queued for a channel (a process's sender)."""

    def __init__(self) -> None:
        self._listeners: list[Ring] = []

    def subscribe(self, listener: Ring) -> Callable[[], None]:
        """Hear every ring from now on; returns the call that stops it."""
        self._listeners.append(listener)

        def unsubscribe() -> None:
            if listener in self._listeners:
                self._listeners.remove(listener)

        return unsubscribe

    def ring(self, team_id: str, channel_id: str) -> None:
        for listener in list(self._listeners):
            listener(team_id, channel_id)


DOORBELL = Doorbell()


def draft(
    kind: Kind,
    team_id: str,
    channel_id: str,
    *,
    now: datetime,
    bet_id: int | None = None,
    thread_ts: str | None = None,
    payload: dict[str, Any] | None = None,
    due: datetime | None = None,
) -> Outbox:
    """An outbox row not written yet, due at `due` (default: now)."""
    return Outbox(
        team_id=team_id,
        channel_id=channel_id,
        kind=kind.value,
        bet_id=bet_id,
        thread_ts=thread_ts,
        payload=payload or {},
        next_attempt_at=due or now,
        created_at=now,
    )


async def put(rows: Iterable[Outbox]) -> list[Outbox]:
    """Write drafted rows in the current unit of work (one statement) and ring for their
    channels once it has committed."""
    rows = list(rows)
    if not rows:
        return []
    if len(rows) == 1:
        await rows[0].save()
    else:
        await Outbox.bulk_create(rows)
    written(rows)
    return rows


async def enqueue(
    kind: Kind,
    team_id: str,
    channel_id: str,
    payload: dict[str, Any],
    *,
    now: datetime,
    thread_ts: str | None = None,
    bet_id: int | None = None,
) -> Outbox:
    """One message queued (see `put`)."""
    row = draft(
        kind, team_id, channel_id, now=now, bet_id=bet_id, thread_ts=thread_ts, payload=payload
    )
    await put([row])
    return row


def written(rows: Iterable[Outbox]) -> None:
    """Rows of these channels were written in the current unit of work (by `put`, or with
    other rows in one statement): ring for each channel once it has committed."""
    channels = {(row.team_id, row.channel_id) for row in rows}
    for team_id, channel_id in sorted(channels):
        db.after_commit(lambda team=team_id, channel=channel_id: DOORBELL.ring(team, channel))


# A board refresh is queued unless one is waiting already: it is rendered when it is sent,
# from the bets as they are then, so changes made meanwhile go out in the same edit.
_REFRESH_BOARD = (
    "INSERT INTO outbox (team_id, channel_id, kind, payload, status, attempts, "
    "next_attempt_at, last_error, created_at) "
    "SELECT ?, ?, ?, ?, 'pending', 0, ?, '', ? WHERE EXISTS (SELECT 1 FROM boards b "
    "WHERE b.team_id = ? AND b.channel_id = ? AND b.enabled = ?) AND NOT EXISTS ("
    "SELECT 1 FROM outbox o WHERE o.team_id = ? AND o.channel_id = ? AND o.kind = ? "
    "AND o.status = 'pending') RETURNING id"
)


async def refresh_board(team_id: str, channel_id: str, *, now: datetime) -> bool:
    """Queue the channel's board to be rewritten, if it has one that is on and no rewrite is
    waiting (one statement, in the current unit of work); True when this queued it."""
    lane = board_lane(channel_id)
    moment = Outbox._meta.fields_map["created_at"].to_db_value(now, Outbox)
    payload = Outbox._meta.fields_map["payload"].to_db_value({}, Outbox)
    on = Board._meta.fields_map["enabled"].to_db_value(True, Board)
    kind = Kind.BOARD.value
    values = [team_id, lane, kind, payload, moment, moment]
    values += [team_id, channel_id, on, team_id, lane, kind]
    rows = await db.fetch(Outbox, _REFRESH_BOARD, values)
    if rows:
        db.after_commit(lambda: DOORBELL.ring(team_id, lane))
    return bool(rows)
