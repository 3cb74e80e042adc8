"""From rows to the rules: a bet's facts for the metrics, a channel's hours, SLE and schedule."""

from __future__ import annotations

import asyncio
from collections.abc import Awaitable, Callable, Iterable, Sequence
from datetime import datetime, time, timedelta
from typing import TypeVar
from zoneinfo import ZoneInfo

from bets.hours import WorkingHours
from bets.lifecycle import State
from bets.metrics import BetFacts, recent_ttfs, sle
from storage import db
from storage.channels import MetricsBet
from storage.models import Bet, Channel

_T = TypeVar("_T")
# The digest's window, also the App Home's: the last 30 days.
DIGEST_WINDOW = timedelta(days=30)
CHANNELS_AT_ONCE = 4  # channels a pass works on at a time (PostgreSQL; the pool holds 10)


def facts_of(bet: Bet | MetricsBet) -> BetFacts:
    return BetFacts(
        number=bet.number,
        state=State(bet.state),
        created_at=bet.created_at,
        started_at=bet.started_at,
        shipped_at=bet.shipped_at,
        closed_at=bet.closed_at,
        first_feedback_at=bet.first_feedback_at,
        has_signal=bool(bet.signal.strip()),
        escalated=bet.escalated_at is not None,
    )


def _clock(text: str) -> time:
    hours, minutes = text.split(":")
    return time(int(hours), int(minutes))


def _days(text: str) -> frozenset[int]:
    return frozenset(int(day) for day in text.split(",") if day.strip())


def zone(channel: Channel) -> ZoneInfo:
    return ZoneInfo(channel.timezone)


def working_hours(channel: Channel) -> WorkingHours:
    return WorkingHours(
        tz=zone(channel),
        start=_clock(channel.hours_start),
        end=_clock(channel.hours_end),
        days=_days(channel.work_days),
    )


def digest_time(channel: Channel) -> time:
    return _clock(channel.digest_time)


def digest_days(channel: Channel) -> frozenset[int]:
    return _days(channel.digest_days)


def channel_sle(channel: Channel, facts: Iterable[BetFacts], now: datetime) -> timedelta:
    """The channel's SLE now: p85 of the last 90 days' TTF, or its default below 5 samples."""
    default = timedelta(seconds=channel.sle_default_s)
    return sle(recent_ttfs(facts, now), default).value


async def for_each(
    items: Sequence[_T], work: Callable[[_T], Awaitable[None]], *, at_once: int | None = None
) -> None:
    """`work` on every item, `at_once` at a time (by default a few on PostgreSQL, whose
    round trips then overlap, and one on SQLite, which writes one transaction at a time)."""
    if at_once is None:
        at_once = CHANNELS_AT_ONCE if db.is_postgres_connection(Channel) else 1
    queue = iter(items)

    async def worker() -> None:
        for item in queue:
            await work(item)

    await asyncio.gather(*(worker() for _ in range(min(at_once, len(items)))))
