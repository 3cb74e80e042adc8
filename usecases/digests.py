"""The daily digest: which channels' digests are due, their figures, and settling one
(claimed, queued and remembered in one unit of work, so it is posted once)."""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import date, datetime
from typing import Any

from bets.hours import due_digest, scheduled_at
from outbox import queue
from outbox.kinds import Kind
from storage import channels as store
from storage import claims, db
from storage.models import Channel
from usecases.flow import DIGEST_WINDOW, ChannelFigures, channel_figures, rules_of


@dataclass(frozen=True)
class DueDigest:
    """A channel whose digest for `day` (its local date) is due now."""

    team_id: str
    channel_id: str
    day: date
    scheduled_at: datetime  # when it was due, for the lag metric
    channel: Channel = field(repr=False, compare=False)  # the row, handed back to settle()


async def due(now: datetime) -> list[DueDigest]:
    """Every channel whose digest is due at `now` (within its grace, not yet settled)."""
    found = []
    for channel in await store.tracked_channels(digest_only=True):
        rules = rules_of(channel)
        last = date.fromisoformat(channel.last_digest_on) if channel.last_digest_on else None
        day = due_digest(
            now,
            tz=rules.tz,
            at=rules.digest_at,
            days=rules.digest_days,
            last_period=last,
            grace=rules.grace,
        )
        if day is not None:
            at = scheduled_at(day, rules.digest_at, rules.tz)
            found.append(DueDigest(channel.team_id, channel.channel_id, day, at, channel))
    return found


async def figures(digest: DueDigest, now: datetime) -> ChannelFigures:
    """What the digest says: the last 30 days, the week too on Mondays, and what was
    learned since the last digest."""
    rules = rules_of(digest.channel)
    monday = now.astimezone(rules.tz).weekday() == 0
    return await channel_figures(
        digest.channel,
        now=now,
        window=DIGEST_WINDOW,
        weekly=monday,
        learned_after=digest.channel.last_digest_at,
        with_learned=True,
    )


async def settle(
    digest: DueDigest, *, payload: dict[str, Any] | None, now: datetime, owner: str
) -> bool:
    """Claim the digest, queue it (None: nothing to say) and remember the day, in one unit
    of work. False when another replica settled it first."""
    channel = digest.channel
    key = (f"channel:{channel.team_id}:{channel.channel_id}", digest.day.isoformat())
    async with db.unit_of_work():
        got = await claims.take(
            "digest",
            [key],
            team_id=channel.team_id,
            owner=owner,
            now=now,
            status="done" if payload else "skipped",
            note="" if payload else "nothing to say",
        )
        if not got:
            return False
        if payload is not None:
            await queue.enqueue(Kind.DIGEST, channel.team_id, channel.channel_id, payload, now=now)
        await store.note_digest(channel, day=digest.day, now=now, posted=payload is not None)
    claims.count_taken("digest", [key], got, now=now)
    return True
