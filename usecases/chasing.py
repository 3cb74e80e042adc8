"""The nudge sweep's decisions: which shipped bets to nudge and which to escalate, in each
channel, by `bets.timing.chase_channel` (T1–T4 and the channel's nudge budget); and
recording them with their claims at once."""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import datetime, timedelta
from typing import Any

from bets.metrics import BetFacts
from bets.timing import (
    ChannelRules,
    Chase,
    ChaseFacts,
    chase_channel,
    chase_facts,
    held_by_budget,
    local_day,
)
from storage import channels as channel_store
from storage import nudges as store
from storage.models import Channel
from storage.nudges import Planned
from usecases.flow import channel_sle, rules_of

__all__ = ["ChannelChase", "Planned", "channels_to_sweep", "decide", "held_back", "record"]


@dataclass(frozen=True)
class ToSweep:
    """A channel with bets awaiting feedback, inside its working hours now."""

    team_id: str
    channel_id: str
    awaiting: int
    channel: Channel = field(repr=False, compare=False)


@dataclass(frozen=True)
class ChannelChase:
    """What the sweep decided for one channel at `now`."""

    team_id: str
    channel_id: str
    rules: ChannelRules
    sle: timedelta
    decisions: tuple[tuple[BetFacts, Chase], ...]  # every awaiting bet with its decision

    @property
    def waiting(self) -> int:
        """Due, but held back by working hours, a snooze, the owner's absence or the budget."""
        return sum(1 for _, decision in self.decisions if decision.waiting)

    @property
    def held(self) -> int:
        """Due and free to go, but past the channel's nudge budget for today."""
        return sum(1 for _, decision in self.decisions if decision.held)


async def channels_to_sweep(now: datetime) -> list[ToSweep]:
    """Channels in working hours with bets awaiting feedback, busiest first: a channel's
    messages go out at Slack's pace, one a second, so the channels with the most to send
    start first and the sweep ends soonest (longest processing time first)."""
    awaiting = await store.awaiting_counts()
    found = [
        ToSweep(channel.team_id, channel.channel_id, count, channel)
        for channel in await channel_store.tracked_channels()
        if (count := awaiting.get((channel.team_id, channel.channel_id), 0))
        and rules_of(channel).hours.contains(now)  # nothing lands outside working hours
    ]
    return sorted(found, key=lambda item: -item.awaiting)


async def _chased(team_id: str, channel_id: str) -> tuple[list[BetFacts], list[ChaseFacts]]:
    """The channel's bets awaiting feedback, oldest first, with what chasing needs of each."""
    bets = await store.awaiting_feedback(team_id, channel_id)
    owners = {bet.owner_id for bet in bets}
    away = await store.away_until(team_id, owners) if owners else {}
    return bets, [chase_facts(bet, owner_away_until=away.get(bet.owner_id)) for bet in bets]


async def _sent_today(team_id: str, channel_id: str, rules: ChannelRules, now: datetime) -> int:
    since, until = local_day(now, rules.tz)
    return await store.nudges_sent(team_id, channel_id, since=since, until=until)


async def decide(sweep: ToSweep, now: datetime) -> ChannelChase:
    """Each awaiting bet's nudge and escalation at `now`, within the channel's nudge budget
    for its local day (reads, no writes)."""
    rules = rules_of(sweep.channel)
    bets, facts = await _chased(sweep.team_id, sweep.channel_id)
    sample = await store.sle_sample(sweep.team_id, sweep.channel_id, now=now)
    level = channel_sle(rules, sample, now)
    sent = await _sent_today(sweep.team_id, sweep.channel_id, rules, now)
    decided = chase_channel(facts, rules, sle=level, now=now, sent_today=sent)
    decisions = tuple(zip(bets, decided, strict=True))
    return ChannelChase(sweep.team_id, sweep.channel_id, rules, level, decisions)


async def held_back(channel: Channel, now: datetime) -> int:
    """How many of the channel's bets are due a nudge that its budget holds back to a later
    day (the digest counts them)."""
    rules = rules_of(channel)
    _, facts = await _chased(channel.team_id, channel.channel_id)
    if not facts:
        return 0
    sent = await _sent_today(channel.team_id, channel.channel_id, rules, now)
    return held_by_budget(facts, rules, now=now, sent_today=sent)


def nudge_plan(bet: BetFacts, decision: Chase, payload: dict[str, Any]) -> Planned:
    # The due moment names the run: replicas computing the same state compute the same key.
    return Planned("nudge", bet, decision.nudge_due.isoformat(), payload)


def escalation_plan(bet: BetFacts, decision: Chase, payload: dict[str, Any]) -> Planned:
    """Escalate once per bet (period "1"), whichever path (nudges or age) gets here."""
    return Planned("escalate", bet, "1", payload, str(decision.escalate or ""))


async def record(team_id: str, plans: list[Planned], *, now: datetime, owner: str) -> list[Planned]:
    """Queue a channel's nudges and escalations with their claims and events, in one unit
    of work; returns what this replica got (another may have done some runs already)."""
    return await store.record_channel(team_id, plans, now=now, owner=owner)
