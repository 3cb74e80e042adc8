"""Bets, their evidence and their events: query primitives, each scoped by team_id.

No rules and no words here: usecases/ decide, inside `db.unit_of_work()`, and call these
to read and write. Rows leave storage as plain values (`bet_value`, `evidence_value`).
"""

from __future__ import annotations

import contextlib
from collections.abc import Sequence
from dataclasses import fields as dataclass_fields
from datetime import datetime, timedelta
from typing import Any

from tortoise.exceptions import IntegrityError
from tortoise.expressions import F, Q
from tortoise.functions import Max

from bets.evidence import EvidenceFacts, Verdict
from bets.keys import parse_key
from bets.lifecycle import OPEN_STATES, State
from bets.metrics import BetFacts
from storage.models import Bet, Channel, Event, Evidence, Outbox, Person, Workspace

# --- values -----------------------------------------------------------------------------

# The columns a BetFacts is read from, in its field order; computed fields are filled after.
_COMPUTED = {"has_signal", "escalated", "expect_within"}
BET_COLUMNS: tuple[str, ...] = (
    *(field.name for field in dataclass_fields(BetFacts) if field.name not in _COMPUTED),
    "expect_within_s",
)


def bet_from_columns(row: Sequence[Any]) -> BetFacts:
    """A BetFacts from a `values_list(*BET_COLUMNS)` row (no model instance: fast)."""
    values = dict(zip(BET_COLUMNS, row, strict=True))
    within = values.pop("expect_within_s")
    values["state"] = State(values["state"])
    return BetFacts(
        **values,
        has_signal=bool(values["signal"].strip()),
        escalated=values["escalated_at"] is not None,
        expect_within=timedelta(seconds=within) if within is not None else None,
    )


def bet_value(bet: Bet) -> BetFacts:
    """A bet row as a plain value."""
    return bet_from_columns([getattr(bet, column) for column in BET_COLUMNS])


def evidence_value(evidence: Evidence) -> EvidenceFacts:
    return EvidenceFacts(
        id=evidence.id,
        bet_id=evidence.bet_id,  # type: ignore[attr-defined]
        verdict=Verdict(evidence.verdict),
        text=evidence.text,
        link=evidence.link,
        source=evidence.source,
        author_id=evidence.author_id,
        at=evidence.at,
        channel_id=evidence.channel_id,
        message_ts=evidence.message_ts,
        permalink=evidence.permalink,
    )


# --- workspace and channels -------------------------------------------------------------


async def _create_once(model: Any, **values: Any) -> None:
    """Insert a row unless a concurrent writer already did (unique key decides)."""
    with contextlib.suppress(IntegrityError):
        await model.create(**values)


async def ensure_workspace(team_id: str, *, now: datetime) -> None:
    if not await Workspace.exists(team_id=team_id):
        await _create_once(Workspace, team_id=team_id, created_at=now)


async def ensure_channel(team_id: str, channel_id: str, *, now: datetime, timezone: str) -> Channel:
    """The channel's settings row, created with defaults when it sees its first bet."""
    channel = await Channel.get_or_none(team_id=team_id, channel_id=channel_id)
    if channel is None:
        await _create_once(
            Channel, team_id=team_id, channel_id=channel_id, timezone=timezone, created_at=now
        )
        channel = await Channel.get(team_id=team_id, channel_id=channel_id)
    return channel


async def get_channel(team_id: str, channel_id: str) -> Channel | None:
    return await Channel.get_or_none(team_id=team_id, channel_id=channel_id)


# --- reads ------------------------------------------------------------------------------


async def bet_by_number(team_id: str, number: int) -> Bet | None:
    return await Bet.get_or_none(team_id=team_id, number=number)


async def bet_by_id(team_id: str, bet_id: int) -> Bet | None:
    return await Bet.get_or_none(team_id=team_id, id=bet_id)


async def bet_by_thread(team_id: str, channel_id: str, thread_ts: str) -> Bet | None:
    return await Bet.get_or_none(team_id=team_id, channel_id=channel_id, card_ts=thread_ts)


async def number_of(team_id: str, bet_id: int | None) -> int | None:
    """A bet's key number by its id (a pivot's original), or None."""
    if bet_id is None:
        return None
    numbers = await Bet.filter(team_id=team_id, id=bet_id).values_list("number", flat=True)
    return int(numbers[0]) if numbers else None


async def locked_bet(
    team_id: str,
    *,
    bet_id: int | None = None,
    number: int | None = None,
    thread: tuple[str, str] | None = None,
) -> Bet | None:
    """A bet row locked for the rest of the unit of work, by id, number or (channel, thread
    ts): two clicks on the same bet queue here, so only one of them decides."""
    query = Bet.filter(team_id=team_id)
    if bet_id is not None:
        query = query.filter(id=bet_id)
    if number is not None:
        query = query.filter(number=number)
    if thread is not None:
        query = query.filter(channel_id=thread[0], card_ts=thread[1])
    return await query.select_for_update().first()


async def evidence_by_id(team_id: str, evidence_id: int) -> Evidence | None:
    return await Evidence.get_or_none(team_id=team_id, id=evidence_id)


async def evidence_verdicts(team_id: str, bet_id: int) -> list[tuple[Verdict, datetime]]:
    """Every piece of a bet's evidence as (verdict, posted at)."""
    rows = await Evidence.filter(team_id=team_id, bet_id=bet_id).values_list("verdict", "at")
    return [(Verdict(verdict), at) for verdict, at in rows]


async def evidence_of_message(team_id: str, channel_id: str | None, ts: str | None) -> int | None:
    """The number of the bet a Slack message is evidence on, if it is."""
    if channel_id is None or ts is None:
        return None
    found = await Evidence.get_or_none(
        team_id=team_id, channel_id=channel_id, message_ts=ts
    ).prefetch_related("bet")
    return found.bet.number if found is not None else None


async def list_bets(
    team_id: str,
    *,
    scope: str,
    user_id: str,
    channel_id: str | None = None,
    limit: int = 200,
) -> list[BetFacts]:
    """Bets for `/hypothesis list`: open (default), mine, shipped (awaiting feedback: shipped,
    no decisive evidence since), overdue (a superset: the rule picks), all."""
    query = Bet.filter(team_id=team_id)
    if channel_id is not None:
        query = query.filter(channel_id=channel_id)
    if scope == "mine":
        query = query.filter(Q(owner_id=user_id) | Q(creator_id=user_id)).filter(
            state__in=list(OPEN_STATES)
        )
    elif scope in ("shipped", "overdue"):
        query = query.filter(state=State.SHIPPED, first_feedback_at__isnull=True)
    elif scope != "all":
        query = query.filter(state__in=list(OPEN_STATES))
    order = "shipped_at" if scope in ("shipped", "overdue") else "-number"
    rows = await query.order_by(order, "number").limit(limit).values_list(*BET_COLUMNS)
    return [bet_from_columns(row) for row in rows]


async def search_open_bets(team_id: str, query: str, *, limit: int = 100) -> list[BetFacts]:
    """Open bets for a type-ahead: `H-12`/`12` by number, else every word in the title
    (case-insensitive); the newest first, the number match ahead of the rest."""
    words = query.split()
    found: list[Bet] = []
    number = parse_key(query) if query.strip() else None
    if number is not None:
        found = await Bet.filter(team_id=team_id, number=number, state__in=list(OPEN_STATES))
    titled = Bet.filter(team_id=team_id, state__in=list(OPEN_STATES))
    for word in words:
        titled = titled.filter(title__icontains=word)
    found += (
        await titled.exclude(id__in=[bet.id for bet in found])
        .order_by("-number")
        .limit(limit - len(found))
    )
    return [bet_value(bet) for bet in found]


async def channels_of(team_id: str, user_id: str, *, limit: int = 5) -> list[str]:
    """The channels where `user_id` owns or created a bet, most recent bet first."""
    rows = (
        await Bet.filter(team_id=team_id)
        .filter(Q(owner_id=user_id) | Q(creator_id=user_id))
        .annotate(latest=Max("created_at"))
        .group_by("channel_id")
        .order_by("-latest", "channel_id")
        .limit(limit)
        .values_list("channel_id", flat=True)
    )
    return [str(channel_id) for channel_id in rows]


async def evidence_of(team_id: str, bet_id: int) -> list[EvidenceFacts]:
    rows = await Evidence.filter(team_id=team_id, bet_id=bet_id).order_by("-at", "-id")
    return [evidence_value(row) for row in rows]


async def events_of(team_id: str, bet_id: int) -> list[Event]:
    return await Event.filter(team_id=team_id, bet_id=bet_id).order_by("at", "id")


async def team_ids() -> list[str]:
    return [row.team_id for row in await Workspace.all().order_by("team_id")]


async def all_bets(team_id: str) -> list[Bet]:
    return await Bet.filter(team_id=team_id).order_by("number")


async def all_evidence(team_id: str) -> list[Evidence]:
    return await Evidence.filter(team_id=team_id).order_by("at", "id")


async def all_events(team_id: str) -> list[Event]:
    return await Event.filter(team_id=team_id).order_by("at", "id")


# --- writes (call inside a unit of work) ------------------------------------------------


async def take_bet_numbers(team_id: str, count: int = 1) -> int:
    """Reserve the next `count` keys of the workspace; returns the first. Call it inside the
    transaction that writes the bets: the UPDATE takes the workspace row's lock, so concurrent
    creates queue here, and a rollback gives the numbers back (keys stay unique, gap-free)."""
    await Workspace.filter(team_id=team_id).update(last_bet_number=F("last_bet_number") + count)
    workspace = await Workspace.get(team_id=team_id)
    return workspace.last_bet_number - count + 1


async def insert_bet(team_id: str, **values: Any) -> Bet:
    return await Bet.create(team_id=team_id, **values)


async def insert_evidence(bet: Bet, **values: Any) -> Evidence:
    return await Evidence.create(team_id=bet.team_id, bet_id=bet.id, **values)


async def save_verdict(evidence: Evidence, verdict: Verdict) -> None:
    evidence.verdict = verdict
    await evidence.save(update_fields=["verdict"])


async def write_event(
    bet: Bet | None,
    *,
    team_id: str,
    actor_id: str,
    now: datetime,
    kind: str,
    from_state: str | None = None,
    to_state: str | None = None,
    data: dict[str, Any] | None = None,
    channel_id: str | None = None,
) -> Event:
    return await Event.create(
        team_id=team_id,
        bet_id=bet.id if bet else None,
        channel_id=bet.channel_id if bet else channel_id,
        actor_id=actor_id,
        at=now,
        kind=kind,
        from_state=from_state,
        to_state=to_state,
        data=data or {},
    )


async def queue_card(bet: Bet, now: datetime) -> None:
    """An outbox row that makes the bet's card show its current state (post or update);
    the card is rendered when it is sent."""
    await Outbox.create(
        team_id=bet.team_id,
        channel_id=bet.channel_id,
        kind="card",
        bet_id=bet.id,
        payload={},
        next_attempt_at=now,
        created_at=now,
    )


async def queue_thread_message(
    bet: Bet, kind: str, payload: dict[str, Any], *, now: datetime, thread_ts: str | None
) -> Outbox:
    return await Outbox.create(
        team_id=bet.team_id,
        channel_id=bet.channel_id,
        kind=kind,
        bet_id=bet.id,
        thread_ts=thread_ts,
        payload=payload,
        next_attempt_at=now,
        created_at=now,
    )


def jsonable(value: Any) -> Any:
    """A value as an event's JSON data keeps it."""
    if isinstance(value, datetime):
        return value.isoformat()
    if isinstance(value, timedelta):
        return value.total_seconds()
    return value


async def set_away(team_id: str, user_id: str, until: datetime | None, *, now: datetime) -> None:
    await _create_once(Person, team_id=team_id, user_id=user_id)
    await Person.filter(team_id=team_id, user_id=user_id).update(away_until=until)
    await write_event(
        None,
        team_id=team_id,
        actor_id=user_id,
        now=now,
        kind="away",
        data={"until": until.isoformat() if until else None},
    )


async def away_until(team_id: str, user_id: str) -> datetime | None:
    person = await Person.get_or_none(team_id=team_id, user_id=user_id)
    return person.away_until if person else None


async def open_in_building(team_id: str, channel_id: str) -> int:
    """How many bets of the channel are in `building` (its WIP)."""
    return await Bet.filter(team_id=team_id, channel_id=channel_id, state=State.BUILDING).count()
