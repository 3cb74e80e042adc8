"""The daily digest: one per channel per local digest day, at the channel's time, posted
once even with several replicas, and caught up after downtime only within the grace."""

from __future__ import annotations

import logging
from dataclasses import dataclass, field
from datetime import datetime
from typing import Any

from bot.blocks.digest import digest_payload
from jobs.fanout import for_each
from ops import metrics
from usecases import boards, chasing, digests

log = logging.getLogger("hypobot.digests")


@dataclass
class DigestReport:
    posted: list[str] = field(default_factory=list)  # "team/channel/date"
    quiet: int = 0
    boards: int = 0  # boards queued for their daily rewrite


async def run(now: datetime, *, owner: str) -> DigestReport:
    """Queue each channel's digest that is due (the sender hears of each one as it is
    queued, and starts delivering it while the pass goes on)."""
    report = DigestReport()

    async def settle(due: digests.DueDigest) -> None:
        payload = await payload_for(due, now)
        # The claim is written with the digest: another replica's digest for the day wins.
        if not await digests.settle(due, payload=payload, now=now, owner=owner):
            return
        if payload is None:
            report.quiet += 1
            return
        report.posted.append(f"{due.team_id}/{due.channel_id}/{due.day}")
        metrics.lag("digest", now - due.scheduled_at)
        log.info("digest.queued", extra={"team_id": due.team_id, "day": str(due.day)})

    await for_each(await digests.due(now), settle)
    # Boards move once a day at the same hour: ages and forecasts change on their own.
    report.boards = await boards.refresh_daily(now)
    return report


async def payload_for(due: digests.DueDigest, now: datetime) -> dict[str, Any] | None:
    """The digest message, or None when the channel has nothing to say. Its database work
    is a few queries whatever the number of bets in the channel."""
    held = await chasing.held_back(due.channel, now)  # due a nudge, over the budget
    return digest_payload(await digests.figures(due, now), now=now, held=held)
