"""A channel's rules and its flow figures: the one place the digest, the report and the
App Home tab get their numbers from, so the three always agree."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime, time, timedelta
from typing import Any
from zoneinfo import ZoneInfo

from bets.hours import WorkingHours
from bets.metrics import (
    SLE_LOOKBACK,
    BetFacts,
    FlowReport,
    LearnedSince,
    flow_report,
    learned_since,
    recent_ttfs,
    sle,
)
from bets.timing import ChannelRules
from outbox import queue
from outbox.kinds import Kind
from storage import bets as bet_store
from storage import channels as store
from storage.models import Channel
from usecases.context import Actor, Context
from usecases.results import Refused, Why

# The digest's window, also the App Home's: the last 30 days.
DIGEST_WINDOW = timedelta(days=30)
WEEK = timedelta(days=7)
HOME_CHANNELS = 5  # the App Home shows the channels of my five latest bets


def _clock(text: str) -> time:
    hours, minutes = text.split(":")
    return time(int(hours), int(minutes))


def _days(text: str) -> frozenset[int]:
    return frozenset(int(day) for day in text.split(",") if day.strip())


def rules_of(channel: Channel) -> ChannelRules:
    """A channel's settings row as its rules: one typed value, durations as timedelta."""
    tz = ZoneInfo(channel.timezone)
    return ChannelRules(
        tz=tz,
        hours=WorkingHours(
            tz=tz,
            start=_clock(channel.hours_start),
            end=_clock(channel.hours_end),
            days=_days(channel.work_days),
        ),
        digest_enabled=channel.digest_enabled,
        digest_at=_clock(channel.digest_time),
        digest_days=_days(channel.digest_days),
        nudge_after=timedelta(seconds=channel.nudge_after_s),
        nudge_repeat=timedelta(seconds=channel.nudge_repeat_s),
        sle_default=timedelta(seconds=channel.sle_default_s),
        grace=timedelta(seconds=channel.grace_s),
        wip_limit=channel.wip_limit,
        lead_id=channel.lead_user_id,
        nudges_per_day=channel.nudges_per_day,
    )


def channel_sle(rules: ChannelRules, bets: list[BetFacts], now: datetime) -> timedelta:
    """The channel's SLE now: p85 of the last 90 days' TTF, or its default below 5 samples."""
    return sle(recent_ttfs(bets, now), rules.sle_default).value


@dataclass(frozen=True)
class ChannelFigures:
    """A channel's flow figures at `now` over `window`, with the bets they were made from."""

    team_id: str
    channel_id: str
    rules: ChannelRules
    report: FlowReport
    bets: tuple[BetFacts, ...]  # open, and closed within the windows looked at
    weekly: FlowReport | None = None  # the last 7 days too (Monday digests)
    learned: LearnedSince | None = None  # closed since `since` (the last digest)

    @property
    def titles(self) -> dict[int, str]:
        return {bet.number: bet.title for bet in self.bets}

    @property
    def owners(self) -> dict[int, str]:
        return {bet.number: bet.owner_id for bet in self.bets}


async def channel_figures(
    channel: Channel,
    *,
    now: datetime,
    window: timedelta,
    previous_window: bool = True,
    weekly: bool = False,
    learned_after: datetime | None = None,
    with_learned: bool = False,
) -> ChannelFigures:
    """The figures for one channel, read in one query however many bets it has.

    Every sample of the window and of the window before it counts (T10): the query reaches
    back to the earliest moment any figure looks at, with no fixed horizon.
    """
    rules = rules_of(channel)
    reach = max(window * (2 if previous_window else 1), SLE_LOOKBACK)
    since = now - reach
    if with_learned and learned_after is not None:
        since = min(since, learned_after)
    bets = await store.bets_for_metrics(channel.team_id, channel.channel_id, since=since)
    report = flow_report(
        bets, now=now, window=window, default_sle=rules.sle_default, previous_window=previous_window
    )
    week = (
        flow_report(bets, now=now, window=WEEK, default_sle=rules.sle_default) if weekly else None
    )
    learned = learned_since(bets, learned_after, now) if with_learned else None
    return ChannelFigures(
        channel.team_id, channel.channel_id, rules, report, tuple(bets), week, learned
    )


async def report(ctx: Context, actor: Actor, window: timedelta) -> ChannelFigures | Refused:
    """`/hypothesis report [window]`: the channel's figures over any window up to 3 years."""
    if actor.channel_id is None:
        return Refused(Why.NO_CHANNEL)
    channel = await bet_store.get_channel(actor.team_id, actor.channel_id)
    if channel is None:
        return Refused(Why.NO_BETS_HERE)
    return await channel_figures(channel, now=ctx.clock(), window=window)


async def queue_report(figures: ChannelFigures, payload: dict[str, Any], *, now: datetime) -> int:
    """Queue the report's message in its channel; returns its outbox id (sent right away
    by the listener, by the outbox otherwise)."""
    row = await queue.enqueue(Kind.REPORT, figures.team_id, figures.channel_id, payload, now=now)
    return int(row.id)


@dataclass(frozen=True)
class Home:
    """What the App Home tab shows one person."""

    mine: tuple[BetFacts, ...]  # my open bets, the first `max_bets` of them
    mine_total: int  # how many open bets I have in all
    channels: tuple[ChannelFigures, ...]


async def home(ctx: Context, team_id: str, user_id: str, *, max_bets: int = 200) -> Home:
    """My open bets, and the figures of the channels of my latest bets, as the digest
    computes them."""
    now = ctx.clock()
    mine = await bet_store.list_bets(team_id, scope="mine", user_id=user_id, limit=max_bets)
    total = await bet_store.count_bets(team_id, scope="mine", user_id=user_id)
    figures = []
    for channel_id in await bet_store.channels_of(team_id, user_id, limit=HOME_CHANNELS):
        channel = await bet_store.get_channel(team_id, channel_id)
        if channel is not None:
            figures.append(
                await channel_figures(channel, now=now, window=DIGEST_WINDOW, previous_window=False)
            )
    return Home(tuple(mine), max(total, len(mine)), tuple(figures))
