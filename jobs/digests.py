"""The daily digest: one per channel per local digest day, at the channel's time, posted
once even with several replicas, and caught up after downtime only within the grace."""

from __future__ import annotations

import logging
from collections.abc import Callable
from dataclasses import dataclass, field
from datetime import date, datetime, timedelta
from typing import Any

from bets.hours import due_digest, scheduled_at
from bets.lifecycle import OPEN_STATES, State
from bets.metrics import flow_report, learned_since
from bot.blocks.digest import digest_blocks, digest_text
from ops import metrics
from storage import channels as store
from storage.channels import MetricsBet
from storage.models import Channel
from usecases.flow import DIGEST_WINDOW, digest_days, digest_time, facts_of, for_each, zone

log = logging.getLogger("hypobot.digests")

WEEK = timedelta(days=7)


@dataclass
class DigestReport:
    posted: list[str] = field(default_factory=list)  # "team/channel/date"
    quiet: int = 0


async def run(
    now: datetime, *, owner: str, queued: Callable[[str, str], None] = lambda *_: None
) -> DigestReport:
    """Queue each channel's digest that is due; `queued(team_id, channel_id)` is called as
    each one is queued (the scheduler starts delivering it while the pass goes on)."""
    report = DigestReport()
    due = []
    for channel in await store.tracked_channels(digest_only=True):
        day = due_digest(
            now,
            tz=zone(channel),
            at=digest_time(channel),
            days=digest_days(channel),
            last_period=date.fromisoformat(channel.last_digest_on)
            if channel.last_digest_on
            else None,
            grace=timedelta(seconds=channel.grace_s),
        )
        if day is not None:
            due.append((channel, day))

    async def settle(item: tuple[Channel, date]) -> None:
        channel, day = item
        payload = await digest_payload(channel, now)
        # The claim is written with the digest: another replica's digest for the day wins.
        if not await store.record_digest(channel, day=day, now=now, payload=payload, owner=owner):
            return
        if payload is None:
            report.quiet += 1
            return
        report.posted.append(f"{channel.team_id}/{channel.channel_id}/{day}")
        metrics.lag("digest", now - scheduled_at(day, digest_time(channel), zone(channel)))
        log.info("digest.queued", extra={"team_id": channel.team_id, "day": str(day)})
        queued(channel.team_id, channel.channel_id)

    await for_each(due, settle)
    return report


async def digest_payload(channel: Channel, now: datetime) -> dict[str, Any] | None:
    """The digest message for `channel` at `now`, or None when it has nothing to say.

    Its database work is one query whatever the number of bets in the channel.
    """
    bets = await store.bets_for_metrics(channel.team_id, channel.channel_id, now=now)
    facts = [facts_of(bet) for bet in bets]
    default_sle = timedelta(seconds=channel.sle_default_s)
    report = flow_report(facts, now=now, window=DIGEST_WINDOW, default_sle=default_sle)
    learned = learned_since(facts, channel.last_digest_at, now)
    no_signal = [bet.number for bet in bets if _open(bet) and not bet.signal.strip()]
    # Mondays' digest carries the week's figures too.
    monday = now.astimezone(zone(channel)).weekday() == 0
    weekly = flow_report(facts, now=now, window=WEEK, default_sle=default_sle) if monday else None
    kwargs: dict[str, Any] = {
        "channel_name": None,
        "learned": learned,
        "wip_limit": channel.wip_limit,
        "no_signal": no_signal,
    }
    blocks = digest_blocks(
        report,
        titles={bet.number: bet.title for bet in bets},
        owners={bet.number: bet.owner_id for bet in bets},
        now=now,
        tz=zone(channel),
        weekly=weekly,
        **kwargs,
    )
    if blocks is None:
        return None
    return {"text": digest_text(report, **kwargs), "blocks": blocks}


def _open(bet: MetricsBet) -> bool:
    return State(bet.state) in OPEN_STATES
