"""A channel's rules and its flow figures: the one place the digest, the report and the
App Home tab get their numbers from, so the three always agree."""

from __future__ import annotations

from collections.abc import Iterable, Sequence
from dataclasses import dataclass
from datetime import datetime, time, timedelta
from typing import Any
from zoneinfo import ZoneInfo

from bets.flow import FlowReport, bet_forecasts, flow_report
from bets.forecasts import BetForecast, NoForecast
from bets.hours import WorkingHours
from bets.metrics import SLE_LOOKBACK, BetFacts, LearnedSince, is_awaiting, learned_since
from bets.timing import ChannelRules
from outbox import queue
from outbox.kinds import Kind
from storage import bets as bet_store
from storage import channels as store
from storage import nudges as nudge_store
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
    forecasts_since: datetime | None = None  # the channel's track record starts here (F6)

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
    weekly: bool = False,
    learned_after: datetime | None = None,
    with_learned: bool = False,
) -> ChannelFigures:
    """The figures for one channel (`bets.flow.flow_report`), read in two queries however
    many bets it has.

    Every sample of the window and of the window before it counts (T10): the query reaches
    back to the earliest moment any figure looks at, with no fixed horizon.
    """
    rules = rules_of(channel)
    reach = max(window * 2, SLE_LOOKBACK)
    since = now - reach
    if with_learned and learned_after is not None:
        since = min(since, learned_after)
    bets = await store.bets_for_metrics(channel.team_id, channel.channel_id, since=since)
    first = await store.first_bet_at(channel.team_id, channel.channel_id)

    def figures_over(length: timedelta) -> FlowReport:
        return flow_report(
            bets, now=now, window=length, configured_sle=rules.sle_default, first_bet_at=first
        )

    report = figures_over(window)
    week = figures_over(WEEK) if weekly else None
    learned = learned_since(bets, learned_after, now) if with_learned else None
    return ChannelFigures(
        channel.team_id,
        channel.channel_id,
        rules,
        report,
        tuple(bets),
        week,
        learned,
        channel.forecasts_since or channel.created_at,
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
    forecasts: dict[int, BetForecast | NoForecast]  # of my bets awaiting feedback (F4)
    tz: ZoneInfo  # the zone dates are shown in: my latest bet's channel's (T7)


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
            figures.append(await channel_figures(channel, now=now, window=DIGEST_WINDOW))
    forecasts = await forecasts_of(team_id, mine, now=now)
    tz = figures[0].rules.tz if figures else ZoneInfo(ctx.default_timezone)
    return Home(tuple(mine), max(total, len(mine)), tuple(figures), forecasts, tz)


async def forecasts_of(
    team_id: str, bets: Iterable[BetFacts], *, now: datetime
) -> dict[int, BetForecast | NoForecast]:
    """The forecasts (F4) of those of `bets` awaiting feedback, by key number: each
    channel's last 90 days read once."""
    by_channel: dict[str, list[BetFacts]] = {}
    for bet in bets:
        if is_awaiting(bet):
            by_channel.setdefault(bet.channel_id, []).append(bet)
    found: dict[int, BetForecast | NoForecast] = {}
    for channel_id, awaiting in by_channel.items():
        shipped = await nudge_store.sle_sample(team_id, channel_id, now=now)
        found |= bet_forecasts(awaiting, shipped, now=now)
    return found


async def forecasts_by_number(
    team_id: str, numbers: Sequence[int], *, now: datetime
) -> dict[int, BetForecast | NoForecast]:
    """`forecasts_of` the bets with these key numbers (those awaiting feedback)."""
    bets = await bet_store.bets_by_numbers(team_id, numbers)
    return await forecasts_of(team_id, bets, now=now)
