"""The nudge sweep's decisions: which shipped bets to nudge and which to escalate, in each
channel, by `bets.timing.chase_channel` (T1–T4 and the channel's nudge budget); and
recording them with their claims at once."""

from __future__ import annotations

from collections import Counter
from dataclasses import dataclass, field
from datetime import datetime, timedelta
from typing import Any

from bets.flow import channel_sle
from bets.metrics import BetFacts
from bets.timing import (
    ChannelRules,
    Chase,
    ChaseFacts,
    Hold,
    chase_channel,
    chase_facts,
    held_by_budget,
    local_day,
)
from outbox import queue
from outbox import rows as outbox_rows
from outbox.kinds import Kind
from storage import channels as channel_store
from storage import claims, db
from storage import nudges as store
from storage.models import Channel, Event, Outbox
from usecases import views
from usecases.flow import rules_of

ACTOR = "hypobot"  # who nudges and escalates, in the bet's history

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
    def waiting(self) -> Counter[Hold]:
        """The bets due a nudge that waits, counted by what holds each back: a snooze, the
        owner's absence, working hours, or the channel's nudge budget for today."""
        return Counter(decision.held_by for _, decision in self.decisions if decision.held_by)


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
    level = channel_sle(sample, now, rules.sle_default).value
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


@dataclass(frozen=True)
class Planned:
    """A nudge or an escalation the sweep decided on; (kind, bet, period) names the run."""

    kind: Kind  # Kind.NUDGE or Kind.ESCALATION: the message, its claim and its event
    bet: BetFacts
    period: str
    payload: dict[str, Any]
    reason: str = ""  # escalations: why

    @property
    def key(self) -> claims.Key:
        return (f"bet:{self.bet.id}", self.period)

    def message(self, now: datetime) -> Outbox:
        """The nudge or escalation in the bet's thread (queued before the bet has a card,
        it waits for the card and then goes in its thread)."""
        bet = self.bet
        return queue.draft(
            self.kind,
            bet.team_id,
            bet.channel_id,
            bet_id=bet.id,
            thread_ts=bet.card_ts,
            payload=self.payload,
            now=now,
        )

    def event(self, now: datetime) -> Event:
        data: dict[str, Any] = (
            {"number": self.bet.nudge_count + 1}
            if self.kind is Kind.NUDGE
            else {"reason": self.reason}
        )
        bet = self.bet
        return Event(
            team_id=bet.team_id,
            bet_id=bet.id,
            channel_id=bet.channel_id,
            actor_id=ACTOR,
            at=now,
            kind=self.kind.value,
            data=data,
        )


def nudge_plan(bet: BetFacts, decision: Chase, payload: dict[str, Any]) -> Planned:
    # The due moment names the run: replicas computing the same state compute the same key.
    return Planned(Kind.NUDGE, bet, decision.nudge_due.isoformat(), payload)


def escalation_plan(bet: BetFacts, decision: Chase, payload: dict[str, Any]) -> Planned:
    """Escalate once per bet (period "1"), whichever path (nudges or age) gets here."""
    return Planned(Kind.ESCALATION, bet, "1", payload, str(decision.escalate or ""))


async def record(
    decided: ChannelChase, plans: list[Planned], *, now: datetime, owner: str
) -> list[Planned]:
    """Queue a channel's nudges and escalations (in the order given: most overdue first),
    count them, write their events, queue the views that follow and claim their runs: one
    unit of work of a handful of statements however many there are, so a crash leaves all
    of it or none. The channel's nudge budget is counted in that unit, on its locked row:
    replicas sweeping the channel at once never send more than it allows between them.
    Returns what this replica got (another replica may have done some of the runs already).
    """
    team_id = decided.team_id
    kinds = (Kind.NUDGE, Kind.ESCALATION)
    async with db.unit_of_work():
        await channel_store.lock(team_id, decided.channel_id)
        sent = await _sent_today(team_id, decided.channel_id, decided.rules, now)
        room = max(0, decided.rules.nudges_per_day - sent)
        nudges = sorted(
            (plan for plan in plans if plan.kind is Kind.NUDGE),
            key=lambda plan: (plan.period, plan.bet.shipped_at, plan.bet.number),
        )[:room]  # most overdue first: due longest ago, then shipped first
        plans = [plan for plan in plans if plan.kind is not Kind.NUDGE or plan in nudges]
        keys = {kind: [plan.key for plan in plans if plan.kind is kind] for kind in kinds}
        got = {
            kind: await claims.take(kind.value, keys[kind], team_id=team_id, owner=owner, now=now)
            for kind in kinds
        }
        done = [plan for plan in plans if plan.key in got[plan.kind]]
        if done:
            nudged = [plan.bet.id for plan in done if plan.kind is Kind.NUDGE]
            await store.note_nudged(team_id, nudged, now=now)
            await store.note_escalated(
                team_id, [plan.bet.id for plan in done if plan.kind is Kind.ESCALATION], now=now
            )
            carded = await outbox_rows.cards_unsent(
                team_id, (plan.bet.id for plan in done if plan.bet.card_ts is None)
            )
            messages: list[Outbox] = []
            for plan in done:
                if (
                    plan.kind is Kind.NUDGE
                    and plan.bet.card_ts is None
                    and plan.bet.id not in carded
                ):
                    # A bet without a card (imported, or its card never went out) gets it
                    # just before its first nudge: the sender posts it, stores its ts on the
                    # bet, and the nudge then goes in the card's thread.
                    messages.append(
                        queue.draft(
                            Kind.CARD, team_id, plan.bet.channel_id, bet_id=plan.bet.id, now=now
                        )
                    )
                    carded.add(plan.bet.id)
                messages.append(plan.message(now))
            for kind in kinds:
                chased = [plan.bet for plan in done if plan.kind is kind]
                messages += await views.follow(chased, event=kind.value, now=now)
            await queue.put(messages)
            await store.write_events([plan.event(now) for plan in done])
    for kind in kinds:
        claims.count_taken(kind.value, keys[kind], got[kind], now=now)
    return done
