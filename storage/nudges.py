"""What the nudge sweep reads and writes: shipped bets awaiting evidence, nudges, escalations."""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass
from datetime import datetime
from typing import Any

from tortoise.expressions import F, Q
from tortoise.functions import Count
from tortoise.transactions import in_transaction

from bets.lifecycle import State
from bets.metrics import SLE_LOOKBACK, BetFacts
from storage import claims
from storage.bets import BET_COLUMNS, bet_from_columns, card_row
from storage.models import Bet, Event, Outbox, Person

UNSENT = ("pending", "sending")


def _awaiting() -> Q:
    # With or without a card: an imported bet gets its card with its first nudge.
    return Q(state=State.SHIPPED, first_feedback_at__isnull=True)


async def awaiting_feedback(team_id: str, channel_id: str) -> list[BetFacts]:
    """Shipped bets with no decisive evidence yet (with a card or not), oldest first."""
    rows = (
        await Bet.filter(_awaiting(), team_id=team_id, channel_id=channel_id)
        .order_by("shipped_at", "id")
        .values_list(*BET_COLUMNS)
    )
    return [bet_from_columns(row) for row in rows]


async def awaiting_counts() -> dict[tuple[str, str], int]:
    """How many bets await feedback in each (team, channel) that has any: one query for
    the scheduler, over every workspace, before it sweeps them channel by channel."""
    rows = (
        await Bet.filter(_awaiting())
        .annotate(n=Count("id"))
        .group_by("team_id", "channel_id")
        .values_list("team_id", "channel_id", "n")
    )
    return {(team_id, channel_id): n for team_id, channel_id, n in rows}


_FACTS = ("number", "state", "created_at", "started_at", "shipped_at", "closed_at")


async def sle_sample(team_id: str, channel_id: str, *, now: datetime) -> list[BetFacts]:
    """Facts of the bets that may have had feedback within the SLE's lookback (a superset:
    the metrics pick the sample), read as plain columns: this runs for every channel."""
    since = now - SLE_LOOKBACK
    rows = (
        await Bet.filter(team_id=team_id, channel_id=channel_id, shipped_at__isnull=False)
        .filter(Q(first_feedback_at__gte=since) | Q(closed_at__gte=since))
        .values_list(*_FACTS, "first_feedback_at")
    )
    return [
        BetFacts(number, State(state), created, started, shipped, closed, feedback)
        for number, state, created, started, shipped, closed, feedback in rows
    ]


async def nudges_sent(team_id: str, channel_id: str, *, since: datetime, until: datetime) -> int:
    """How many nudges the channel got in [since, until): its nudge events, one per nudge
    queued (escalations are events of their own kind and are not counted)."""
    return await Event.filter(
        team_id=team_id, channel_id=channel_id, at__gte=since, at__lt=until, kind="nudge"
    ).count()


async def away_until(team_id: str, user_ids: Iterable[str]) -> dict[str, datetime]:
    people = await Person.filter(
        team_id=team_id, user_id__in=list(set(user_ids)), away_until__isnull=False
    )
    return {person.user_id: person.away_until for person in people if person.away_until}


@dataclass(frozen=True)
class Planned:
    """A nudge or an escalation the sweep decided on; (job, bet, period) names the run."""

    job: str  # "nudge" | "escalate"
    bet: BetFacts
    period: str
    payload: dict[str, Any]
    reason: str = ""  # escalations: why

    @property
    def key(self) -> claims.Key:
        return (f"bet:{self.bet.id}", self.period)


async def record_channel(
    team_id: str, plans: list[Planned], *, now: datetime, owner: str
) -> list[Planned]:
    """Queue a channel's nudges and escalations (in the order given), count them, write
    their events and claim their runs: one transaction of a handful of statements however
    many there are, so a crash leaves all of it or none. Returns what this replica got
    (another replica may have done some of the runs already)."""
    keys = {job: [plan.key for plan in plans if plan.job == job] for job in ("nudge", "escalate")}
    async with in_transaction():
        got = {
            job: await claims.take(job, job_keys, team_id=team_id, owner=owner, now=now)
            for job, job_keys in keys.items()
        }
        done = [plan for plan in plans if plan.key in got[plan.job]]
        nudged = [plan.bet.id for plan in done if plan.job == "nudge"]
        escalated = [plan.bet.id for plan in done if plan.job == "escalate"]
        if nudged:
            await Bet.filter(team_id=team_id, id__in=nudged).update(
                nudge_count=F("nudge_count") + 1,
                unanswered_nudges=F("unanswered_nudges") + 1,
                last_nudged_at=now,
            )
        if escalated:
            await Bet.filter(team_id=team_id, id__in=escalated).update(escalated_at=now)
        if done:
            carded = await _cards_coming(team_id, done)
            await Outbox.bulk_create(_rows(done, carded, now))
            await Event.bulk_create([_event(plan, now) for plan in done])
    for job, job_keys in keys.items():
        claims.count_taken(job, job_keys, got[job], now=now)
    return done


async def _cards_coming(team_id: str, plans: list[Planned]) -> set[int]:
    """Bets among `plans` without a card that have one queued already (say, a private
    channel's card waiting for an invitation): their nudges wait for it."""
    cardless = {plan.bet.id for plan in plans if plan.bet.card_ts is None}
    if not cardless:
        return set()
    rows = await Outbox.filter(
        team_id=team_id, bet_id__in=list(cardless), kind="card", status__in=list(UNSENT)
    ).values_list("bet_id", flat=True)
    return {int(bet_id) for bet_id in rows}


def _rows(plans: list[Planned], carded: set[int], now: datetime) -> list[Outbox]:
    """The outbox rows for `plans`, in order. A bet without a card (imported, or its card
    never went out) gets its card queued just before its nudge: the sender posts it
    first, stores its ts on the bet, and the nudge (queued without a thread) then goes in
    the card's thread; it waits while the card is unsent (`card_due_at`)."""
    rows: list[Outbox] = []
    for plan in plans:
        bet = plan.bet
        if plan.job == "nudge" and bet.card_ts is None and bet.id not in carded:
            rows.append(card_row(bet, now))
            carded.add(bet.id)
        rows.append(_thread_row(plan, now))
    return rows


def _thread_row(plan: Planned, now: datetime) -> Outbox:
    bet = plan.bet
    return Outbox(
        team_id=bet.team_id,
        channel_id=bet.channel_id,
        kind="nudge" if plan.job == "nudge" else "escalation",
        bet_id=bet.id,
        thread_ts=bet.card_ts,
        payload=plan.payload,
        next_attempt_at=now,
        created_at=now,
    )


def _event(plan: Planned, now: datetime) -> Event:
    bet = plan.bet
    if plan.job == "nudge":
        data: dict[str, Any] = {"number": bet.nudge_count + 1}
    else:
        data = {"reason": plan.reason}
    return Event(
        team_id=bet.team_id,
        bet_id=bet.id,
        channel_id=bet.channel_id,
        actor_id="hypobot",
        at=now,
        kind=plan.job,
        data=data,
    )
