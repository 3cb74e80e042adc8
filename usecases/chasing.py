"""The nudge sweep's decisions: which shipped bets to nudge and which to escalate, in each
channel, by `bets.timing.chase` (T1–T4); and recording them with their claims at once."""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import datetime, timedelta
from typing import Any

from bets.metrics import BetFacts
from bets.timing import ChannelRules, Chase, chase, chase_facts
from storage import channels as channel_store
from storage import nudges as store
from storage.models import Channel
from storage.nudges import Planned
from usecases.flow import channel_sle, rules_of

__all__ = ["ChannelChase", "Planned", "channels_to_sweep", "decide", "record"]


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
        """Due, but held back by working hours, a snooze or the owner's absence."""
        return sum(1 for _, decision in self.decisions if decision.waiting)


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


async def decide(sweep: ToSweep, now: datetime) -> ChannelChase:
    """Each awaiting bet's nudge and escalation at `now` (reads, no writes)."""
    rules = rules_of(sweep.channel)
    bets = await store.awaiting_feedback(sweep.team_id, sweep.channel_id)
    sample = await store.sle_sample(sweep.team_id, sweep.channel_id, now=now)
    level = channel_sle(rules, sample, now)
    owners = {bet.owner_id for bet in bets}
    away = await store.away_until(sweep.team_id, owners) if owners else {}
    decisions = tuple(
        (
            bet,
            chase(
                chase_facts(bet, owner_away_until=away.get(bet.owner_id)),
                rules,
                sle=level,
                now=now,
            ),
        )
        for bet in bets
    )
    return ChannelChase(sweep.team_id, sweep.channel_id, rules, level, decisions)


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
