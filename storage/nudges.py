"""What the nudge sweep reads and writes: shipped bets awaiting evidence, nudges, escalations."""

from __future__ import annotations

from collections.abc import Iterable
from datetime import datetime

from tortoise.expressions import F, Q
from tortoise.functions import Count

from bets.lifecycle import State
from bets.metrics import SLE_LOOKBACK, BetFacts
from storage.bets import BET_COLUMNS, bet_from_columns
from storage.models import Bet, Event, Person


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
    """The bets shipped in the SLE's lookback (the SLE's sample, docs/rules.md F1), as plain
    columns: this runs for every channel the sweep looks at."""
    since = now - SLE_LOOKBACK
    rows = await Bet.filter(
        team_id=team_id, channel_id=channel_id, shipped_at__gte=since
    ).values_list(*_FACTS, "first_feedback_at")
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


async def note_nudged(team_id: str, bet_ids: list[int], *, now: datetime) -> None:
    """The bets were nudged now: one more nudge each, and one more without an answer."""
    if bet_ids:
        await Bet.filter(team_id=team_id, id__in=bet_ids).update(
            nudge_count=F("nudge_count") + 1,
            unanswered_nudges=F("unanswered_nudges") + 1,
            last_nudged_at=now,
        )


async def note_escalated(team_id: str, bet_ids: list[int], *, now: datetime) -> None:
    if bet_ids:
        await Bet.filter(team_id=team_id, id__in=bet_ids).update(escalated_at=now)


async def write_events(events: list[Event]) -> None:
    """Events drafted by a job for many bets at once (one statement)."""
    if events:
        await Event.bulk_create(events)
