"""Claims: each scheduled run (job, scope, period) is done by exactly one replica.

A run is claimed with `take()`, in the very transaction that writes the run's effects
(outbox rows, events): of replicas racing for a run one inserts its unique row and the
others find it taken; a replica that dies mid-run leaves nothing, and the next replica does
the run. The Slack side effects go through the outbox, which has its own leases.
"""

from __future__ import annotations

from datetime import datetime

from ops import metrics
from storage import db
from storage.models import Claim

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
        # Left "running" by a replica of an earlier Hypobot (which claimed a run under a
        # lease before doing it) that died: once the lease has lapsed, the run is ours.
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


async def recent(limit: int = 20) -> list[Claim]:
    return await Claim.all().order_by("-id").limit(limit)
