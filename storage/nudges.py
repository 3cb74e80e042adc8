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
from storage.bets import BET_COLUMNS, bet_from_columns
from storage.models import Bet, Event, Outbox, Person


def _awaiting() -> Q:
    return Q(state=State.SHIPPED, first_feedback_at__isnull=True, card_ts__isnull=False)


async def awaiting_feedback(team_id: str, channel_id: str) -> list[BetFacts]:
    """Shipped bets with a card and no decisive evidence yet, oldest first."""
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
            await Outbox.bulk_create([_thread_row(plan, now) for plan in done])
            await Event.bulk_create([_event(plan, now) for plan in done])
    for job, job_keys in keys.items():
        claims.count_taken(job, job_keys, got[job], now=now)
    return done


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
