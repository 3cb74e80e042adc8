"""Limits kept where every replica sees them: a workspace's sending lease, and shared
token buckets (generic cell rate) updated atomically, one statement each."""

from __future__ import annotations

import enum
from datetime import datetime, timedelta

from storage import db
from storage.models import Pace, SenderLease

_LEASE = (
    "INSERT INTO sender_leases (team_id, owner, lease_until, taken_over) VALUES (?, ?, ?, ?) "
    "ON CONFLICT (team_id) DO UPDATE SET owner = excluded.owner, "
    "lease_until = excluded.lease_until, "
    "taken_over = (sender_leases.owner <> excluded.owner) "
    "WHERE sender_leases.owner = excluded.owner OR sender_leases.lease_until < ? "
    "RETURNING taken_over"
)


class Lease(enum.Enum):
    """What asking for a workspace's sending lease found."""

    NOT_OURS = "another replica holds it"
    OURS = "ours (new, or renewed)"
    TAKEN_OVER = "ours, taken over from a holder whose lease lapsed"


async def lease(team_id: str, owner: str, *, now: datetime, length: timedelta) -> Lease:
    """Take or renew the workspace's sending lease for `owner`, until now + length, unless
    another holder's lease runs."""
    field = SenderLease._meta.fields_map["lease_until"]
    until = field.to_db_value(now + length, SenderLease)
    moment = field.to_db_value(now, SenderLease)
    rows = await db.fetch(SenderLease, _LEASE, [team_id, owner, until, False, moment])
    if not rows:
        return Lease.NOT_OURS
    return Lease.TAKEN_OVER if rows[0]["taken_over"] else Lease.OURS


async def release(owner: str, *, team_id: str | None = None) -> int:
    """Give back the leases `owner` holds (of one workspace, or all: shutting down), so that
    another replica need not wait for them to lapse."""
    held = SenderLease.filter(owner=owner)
    if team_id is not None:
        held = held.filter(team_id=team_id)
    return int(await held.delete())


async def lapsed(now: datetime) -> list[str]:
    """Workspaces whose sender's lease ran out without being given back: it stopped (died)
    while it held them, and may have left rows claimed."""
    return list(await SenderLease.filter(lease_until__lt=now).values_list("team_id", flat=True))


async def holder(team_id: str) -> SenderLease | None:
    return await SenderLease.get_or_none(team_id=team_id)


def _take_sql(postgres: bool) -> str:
    most, yes, no = ("GREATEST", "TRUE", "FALSE") if postgres else ("max", "1", "0")
    tat = f"{most}(paces.tat, ?)"
    fits = f"{tat} - ? <= ?"
    return (
        f"INSERT INTO paces (team_id, key, tat, ok) VALUES (?, ?, ?, {yes}) "
        "ON CONFLICT (team_id, key) DO UPDATE "
        f"SET ok = CASE WHEN {fits} THEN {yes} ELSE {no} END, "
        f"tat = CASE WHEN {fits} THEN {tat} + ? ELSE paces.tat END "
        "RETURNING ok, tat"
    )


async def take(team_id: str, key: str, *, now: float, rate: float, burst: int) -> float:
    """One call through the workspace's shared bucket `key` (`rate` a second, `burst` at
    once): 0 when it may go now (and is counted), else the seconds until it may."""
    interval = 1.0 / rate
    tolerance = (max(1, burst) - 1) * interval
    values = [team_id, key, now + interval]
    values += [now, now, tolerance]
    values += [now, now, tolerance, now, interval]
    rows = await db.fetch(Pace, _take_sql(db.is_postgres_connection(Pace)), values)
    ok, tat = rows[0]["ok"], float(rows[0]["tat"])
    if ok:
        return 0.0
    return max(0.0, tat - tolerance - now)
