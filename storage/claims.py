"""Claims: each scheduled run (job, scope, period) is done by exactly one replica.

The digest and nudge jobs claim their runs with `take()`, in the very transaction that
writes the runs' effects (outbox rows, events): a replica that dies mid-run leaves nothing,
and the next replica does the run. Their Slack side effects go through the outbox, which
has its own leases.

`claim()`/`complete()` are the two-step form for a run with effects outside the database:
the claim row goes in first, under a lease; a replica that dies mid-run stops mattering
when the lease lapses, and the next replica to try takes the row over. The run's effects
and its "done" are written in one transaction with `complete()`, which refuses if the
claim was taken over meanwhile.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime, timedelta

from tortoise.exceptions import IntegrityError

from bot import metrics
from storage import db
from storage.models import Claim


@dataclass(frozen=True)
class Held:
    """A claim this replica holds."""

    id: int
    owner: str
    lease_until: datetime


Key = tuple[str, str]  # (scope, period)


async def take(
    job: str,
    keys: list[Key],
    *,
    team_id: str,
    owner: str,
    now: datetime,
    status: str = "done",
    note: str = "",
) -> set[Key]:
    """Claim runs of `job` as `status` (done, or skipped with a `note`); call inside the
    transaction that writes their effects.

    Returns the keys this replica got: a run another replica has done (or is doing, in a
    transaction not yet committed: PostgreSQL makes this insert wait for it) is left out.
    One INSERT for all the keys, whatever their number.
    """
    if not keys:
        return set()
    rows = ", ".join("(?, ?, ?, ?, ?, ?, ?, ?, ?, ?)" for _ in keys)
    values: list[object] = []
    for scope, period in keys:
        values += [team_id, job, scope, period, owner, now, status, now, now, note]
    inserted = await db.fetch(
        Claim,
        "INSERT INTO claims (team_id, job, scope, period, owner, lease_until, status, "
        f"created_at, done_at, note) VALUES {rows} "
        "ON CONFLICT (job, scope, period) DO NOTHING RETURNING scope, period",
        values,
    )
    got = {(row["scope"], row["period"]) for row in inserted}
    for scope, period in keys:
        if (scope, period) in got:
            continue
        # Held by a two-step claim() whose replica died: its lease lapsed, the run is ours.
        taken = await Claim.filter(
            job=job, scope=scope, period=period, status="running", lease_until__lt=now
        ).update(owner=owner, status=status, done_at=now, lease_until=now, note=note)
        if taken:
            got.add((scope, period))
    return got


def count_taken(job: str, keys: list[Key], got: set[Key], *, now: datetime) -> None:
    """Metrics for runs claimed with take(), once their transaction has committed."""
    for scope, period in keys:
        metrics.claimed(
            job, "taken" if (scope, period) in got else "skipped", period=period, now=now
        )


class LostClaim(Exception):
    """The lease lapsed and another replica took the run over: roll this one back."""


async def claim(
    job: str, scope: str, period: str, *, team_id: str, owner: str, now: datetime, lease: timedelta
) -> Held | None:
    """Take the run, or None when it is done or another replica holds a live lease."""
    until = now + lease
    try:
        row = await Claim.create(
            team_id=team_id,
            job=job,
            scope=scope,
            period=period,
            owner=owner,
            lease_until=until,
            status="running",
            created_at=now,
        )
        metrics.claimed(job, "taken", period=period, now=now)
        return Held(row.id, owner, until)
    except IntegrityError:
        pass
    existing = await Claim.get_or_none(job=job, scope=scope, period=period)
    if existing is None or existing.status != "running" or existing.lease_until > now:
        metrics.claimed(job, "skipped", period=period, now=now)
        return None
    taken = await Claim.filter(
        id=existing.id, status="running", owner=existing.owner, lease_until=existing.lease_until
    ).update(owner=owner, lease_until=until)
    metrics.claimed(job, "taken_over" if taken else "skipped", period=period, now=now)
    return Held(existing.id, owner, until) if taken else None


async def complete(held: Held, *, now: datetime, status: str = "done", note: str = "") -> None:
    """Mark the run finished; call inside the transaction that writes the run's effects."""
    done = await Claim.filter(id=held.id, owner=held.owner, status="running").update(
        status=status, done_at=now, note=note[:500]
    )
    if not done:
        raise LostClaim(f"claim {held.id} was taken over")


async def release(owner: str, now: datetime) -> int:
    """Hand back `owner`'s unfinished runs (a replica shutting down): their lease ends `now`,
    so the next replica to try takes each over at once instead of after the lease."""
    return await Claim.filter(owner=owner, status="running", lease_until__gt=now).update(
        lease_until=now
    )


async def recent(limit: int = 20) -> list[Claim]:
    return await Claim.all().order_by("-id").limit(limit)


async def running(now: datetime) -> list[Claim]:
    return await Claim.filter(status="running").order_by("id")
