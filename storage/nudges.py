"""What the nudge sweep reads and writes: shipped bets awaiting evidence, nudges, escalations."""

from __future__ import annotations

from collections.abc import Iterable
from datetime import datetime
from typing import Any

from tortoise.transactions import in_transaction

from bets.lifecycle import State
from storage import claims
from storage.models import Bet, Event, Outbox, Person


async def awaiting_feedback(team_id: str, channel_id: str) -> list[Bet]:
    """Shipped bets with a card and no decisive evidence yet, oldest first."""
    return await Bet.filter(
        team_id=team_id,
        channel_id=channel_id,
        state=State.SHIPPED,
        first_feedback_at__isnull=True,
        card_ts__isnull=False,
    ).order_by("shipped_at", "id")


async def away_until(team_id: str, user_ids: Iterable[str]) -> dict[str, datetime]:
    people = await Person.filter(
        team_id=team_id, user_id__in=list(set(user_ids)), away_until__isnull=False
    )
    return {person.user_id: person.away_until for person in people if person.away_until}


def _thread_row(bet: Bet, kind: str, payload: dict[str, Any], now: datetime) -> Outbox:
    return Outbox(
        team_id=bet.team_id,
        channel_id=bet.channel_id,
        kind=kind,
        bet_id=bet.id,
        thread_ts=bet.card_ts,
        payload=payload,
        next_attempt_at=now,
        created_at=now,
    )


async def record_nudge(
    bet: Bet,
    held: claims.Held,
    *,
    now: datetime,
    payload: dict[str, Any],
) -> None:
    """Queue the nudge, count it, mark the claim done: one transaction, so a crash leaves
    either all of it or none."""
    async with in_transaction():
        await claims.complete(held, now=now)
        await _thread_row(bet, "nudge", payload, now).save()
        await Bet.filter(id=bet.id, team_id=bet.team_id).update(
            nudge_count=bet.nudge_count + 1,
            unanswered_nudges=bet.unanswered_nudges + 1,
            last_nudged_at=now,
        )
        await Event.create(
            team_id=bet.team_id,
            bet_id=bet.id,
            channel_id=bet.channel_id,
            actor_id="hypobot",
            at=now,
            kind="nudge",
            data={"number": bet.nudge_count + 1},
        )


async def record_escalation(
    bet: Bet, held: claims.Held, *, now: datetime, payload: dict[str, Any], reason: str
) -> None:
    async with in_transaction():
        await claims.complete(held, now=now)
        await _escalate(bet, now, payload, reason)


async def _escalate(bet: Bet, now: datetime, payload: dict[str, Any], reason: str) -> None:
    await Bet.filter(id=bet.id, team_id=bet.team_id).update(escalated_at=now)
    await _thread_row(bet, "escalation", payload, now).save()
    await Event.create(
        team_id=bet.team_id,
        bet_id=bet.id,
        channel_id=bet.channel_id,
        actor_id="hypobot",
        at=now,
        kind="escalate",
        data={"reason": payload.get("reason", "")},
    )
