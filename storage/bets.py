"""Bets, their evidence and their events: every read takes team_id, every change is one
transaction that writes the change, its event and the outbox row that tells Slack."""

from __future__ import annotations

import contextlib
from collections.abc import Sequence
from dataclasses import dataclass
from datetime import datetime, timedelta
from typing import Any

from tortoise.exceptions import IntegrityError
from tortoise.expressions import F, Q
from tortoise.functions import Max
from tortoise.transactions import in_transaction

from bets.keys import parse_key
from bets.lifecycle import (
    FINAL_STATES,
    OPEN_STATES,
    Change,
    Move,
    MoveRequest,
    Refusal,
    State,
    describe_allowed,
    transition,
)
from storage.models import Bet, Channel, Event, Evidence, Outbox, Person, Workspace

DECISIVE = ("supports", "refutes")
VERDICTS = ("supports", "refutes", "inconclusive", "unknown")


@dataclass(frozen=True)
class NewBet:
    channel_id: str
    title: str
    hypothesis: str
    signal: str
    owner_id: str
    creator_id: str
    link: str | None = None
    expected_at: datetime | None = None
    coach_notes: str = ""
    pivot_of_id: int | None = None


@dataclass(frozen=True)
class NewEvidence:
    verdict: str
    text: str
    author_id: str
    source: str
    link: str | None = None
    channel_id: str | None = None
    message_ts: str | None = None
    permalink: str | None = None


class NotFound(Exception):
    """No such bet in this workspace (raised only by the get_* helpers)."""


# --- workspace and channels -------------------------------------------------------------


async def _create_once(model: Any, **fields: Any) -> None:
    """Insert a row unless a concurrent writer already did (unique key decides)."""
    with contextlib.suppress(IntegrityError):
        await model.create(**fields)


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


async def evidence_by_id(team_id: str, evidence_id: int) -> Evidence | None:
    return await Evidence.get_or_none(team_id=team_id, id=evidence_id)


async def list_bets(
    team_id: str,
    *,
    scope: str,
    user_id: str,
    channel_id: str | None = None,
    limit: int = 200,
) -> list[Bet]:
    """Bets for `/hypothesis list`: open (default), mine, shipped, all. Oldest activity last."""
    query = Bet.filter(team_id=team_id)
    if channel_id is not None:
        query = query.filter(channel_id=channel_id)
    if scope == "mine":
        query = query.filter(Q(owner_id=user_id) | Q(creator_id=user_id)).filter(
            state__in=list(OPEN_STATES)
        )
    elif scope in ("shipped", "overdue"):
        query = query.filter(state=State.SHIPPED)
    elif scope != "all":
        query = query.filter(state__in=list(OPEN_STATES))
    order = "shipped_at" if scope in ("shipped", "overdue") else "-number"
    return await query.order_by(order, "number").limit(limit)


async def search_open_bets(team_id: str, query: str, *, limit: int = 100) -> list[Bet]:
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
    return found


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


async def evidence_of(team_id: str, bet_id: int) -> list[Evidence]:
    return await Evidence.filter(team_id=team_id, bet_id=bet_id).order_by("-at", "-id")


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


# --- writes -----------------------------------------------------------------------------


def _card_sync(bet: Bet, now: datetime) -> Outbox:
    """An outbox row that makes the bet's card show its current state (post or update)."""
    return Outbox(
        team_id=bet.team_id,
        channel_id=bet.channel_id,
        kind="card",
        bet_id=bet.id,
        payload={},
        next_attempt_at=now,
        created_at=now,
    )


async def _event(
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


async def take_bet_numbers(team_id: str, count: int = 1) -> int:
    """Reserve the next `count` keys of the workspace; returns the first. Call it inside the
    transaction that writes the bets: the UPDATE takes the workspace row's lock, so concurrent
    creates queue here, and a rollback gives the numbers back (keys stay unique, gap-free)."""
    await Workspace.filter(team_id=team_id).update(last_bet_number=F("last_bet_number") + count)
    workspace = await Workspace.get(team_id=team_id)
    return workspace.last_bet_number - count + 1


async def create_bet(team_id: str, new: NewBet, *, now: datetime, timezone: str) -> Bet:
    """Number the bet H-<n> gap-free and write it, its event and its card in one go."""
    if not await Workspace.exists(team_id=team_id):
        await _create_once(Workspace, team_id=team_id, created_at=now)
    await ensure_channel(team_id, new.channel_id, now=now, timezone=timezone)
    async with in_transaction():
        bet = await Bet.create(
            team_id=team_id,
            number=await take_bet_numbers(team_id),
            channel_id=new.channel_id,
            title=new.title,
            hypothesis=new.hypothesis,
            signal=new.signal,
            link=new.link,
            owner_id=new.owner_id,
            creator_id=new.creator_id,
            state=State.PROPOSED,
            coach_notes=new.coach_notes,
            pivot_of_id=new.pivot_of_id,
            expected_at=new.expected_at,
            created_at=now,
            updated_at=now,
        )
        data: dict[str, Any] = {"title": new.title}
        if new.pivot_of_id:
            data["pivot_of"] = new.pivot_of_id
        await _event(
            bet,
            team_id=team_id,
            actor_id=new.creator_id,
            now=now,
            kind="created",
            to_state=State.PROPOSED,
            data=data,
        )
        await _card_sync(bet, now).save()
    return bet


async def _locked_bet(team_id: str, bet_id: int) -> Bet | None:
    return await Bet.filter(team_id=team_id, id=bet_id).select_for_update().first()


def _note_evidence(bet: Bet, verdict: str, now: datetime) -> None:
    bet.evidence_count += 1
    bet.unanswered_nudges = 0  # someone answered: escalation counts from here
    _note_verdict(bet, verdict, now)


def _note_verdict(bet: Bet, verdict: str, now: datetime) -> None:
    """Time to feedback starts at shipping: only decisive evidence after that counts."""
    if verdict in DECISIVE and bet.shipped_at is not None and bet.first_feedback_at is None:
        bet.first_feedback_at = now


async def _add_evidence_row(bet: Bet, new: NewEvidence, now: datetime) -> Evidence:
    evidence = await Evidence.create(
        team_id=bet.team_id,
        bet_id=bet.id,
        text=new.text,
        link=new.link,
        verdict=new.verdict,
        source=new.source,
        author_id=new.author_id,
        at=now,
        channel_id=new.channel_id,
        message_ts=new.message_ts,
        permalink=new.permalink,
    )
    _note_evidence(bet, new.verdict, now)
    return evidence


async def _record_evidence(bet: Bet, new: NewEvidence, now: datetime) -> Evidence:
    """Evidence on a locked bet: the row, the bet's counters, the event, the card sync."""
    evidence = await _add_evidence_row(bet, new, now)
    bet.updated_at = now
    await bet.save()
    await _event(
        bet,
        team_id=bet.team_id,
        actor_id=new.author_id,
        now=now,
        kind="evidence",
        data={"evidence_id": evidence.id, "verdict": new.verdict, "source": new.source},
    )
    await _card_sync(bet, now).save()
    return evidence


async def move_bet(
    team_id: str,
    bet_id: int,
    request: MoveRequest,
    *,
    actor_id: str,
    source: str,
    now: datetime,
    evidence_id: int | None = None,
) -> Change | Refusal:
    """Make one lifecycle move, deciding on the locked row so two clicks can't both win.

    `evidence_id` names a recorded reply whose verdict this move settles (validate from a
    thread reply makes it supporting evidence, invalidate makes it refuting).
    """
    async with in_transaction():
        bet = await _locked_bet(team_id, bet_id)
        if bet is None:
            return Refusal("That bet doesn't exist in this workspace.")
        verdict = {Move.VALIDATE: "supports", Move.INVALIDATE: "refutes"}.get(request.move)
        settled = None
        if evidence_id is not None and verdict and bet.state == State.SHIPPED:
            settled = await Evidence.get_or_none(team_id=team_id, bet_id=bet.id, id=evidence_id)
            if settled is not None and settled.verdict != verdict:
                settled.verdict = verdict
                await settled.save(update_fields=["verdict"])
                _note_verdict(bet, verdict, now)
        change = transition(
            State(bet.state),
            request,
            now=now,
            has_decisive_evidence=bet.first_feedback_at is not None,
        )
        if isinstance(change, Refusal):
            return change
        if verdict and (request.text.strip() or request.link):
            await _add_evidence_row(
                bet,
                NewEvidence(verdict, request.text.strip(), actor_id, source, request.link),
                now,
            )
        bet.state = change.to_state
        for stamp, moment in change.stamps.items():
            setattr(bet, stamp, moment)
        if request.move is Move.SHIP and request.link:
            bet.link = request.link
        if request.move is Move.KILL:
            bet.close_reason = request.text.strip()
        if request.learned.strip():
            bet.learned = request.learned.strip()
        bet.updated_at = now
        await bet.save()
        data = dict(change.data, source=source)
        if settled is not None:
            data["evidence_id"] = settled.id
        await _event(
            bet,
            team_id=team_id,
            actor_id=actor_id,
            now=now,
            kind=str(change.move),
            from_state=change.from_state,
            to_state=change.to_state,
            data=data,
        )
        await _card_sync(bet, now).save()
    return change


async def add_evidence(
    team_id: str, bet_id: int, new: NewEvidence, *, now: datetime
) -> Evidence | Refusal:
    """Record evidence on an open bet; a Slack message (channel, ts) is evidence only once."""
    if new.message_ts is not None and (already := await _recorded_message(team_id, new)):
        return already
    try:
        return await _add_evidence(team_id, bet_id, new, now=now)
    except IntegrityError:  # a concurrent submission of the same message won the unique key
        return await _recorded_message(team_id, new) or Refusal("That message is already evidence.")


async def _recorded_message(team_id: str, new: NewEvidence) -> Refusal | None:
    found = await Evidence.get_or_none(
        team_id=team_id, channel_id=new.channel_id, message_ts=new.message_ts
    ).prefetch_related("bet")
    if found is None:
        return None
    return Refusal(f"That message is already evidence on H-{found.bet.number}.")


async def _add_evidence(
    team_id: str, bet_id: int, new: NewEvidence, *, now: datetime
) -> Evidence | Refusal:
    async with in_transaction():
        bet = await _locked_bet(team_id, bet_id)
        if bet is None:
            return Refusal("That bet doesn't exist in this workspace.")
        if State(bet.state) in FINAL_STATES:
            return Refusal(f"H-{bet.number} is {bet.state}. " + describe_allowed(State(bet.state)))
        evidence = await _record_evidence(bet, new, now)
    return evidence


async def record_thread_reply(
    team_id: str,
    channel_id: str,
    thread_ts: str,
    new: NewEvidence,
    *,
    now: datetime,
    prompt: Any,
) -> tuple[Bet, Evidence] | None:
    """A human reply in a bet's thread becomes evidence, once per (team, channel, ts).

    `prompt(bet, evidence) -> dict` builds the payload of Hypobot's answer in the thread;
    it is queued in the same transaction. Returns None for a reply already recorded
    (Slack's retries) or a thread that is not a bet's.
    """
    if await Evidence.exists(team_id=team_id, channel_id=channel_id, message_ts=new.message_ts):
        return None
    try:
        async with in_transaction():
            bet = (
                await Bet.filter(team_id=team_id, channel_id=channel_id, card_ts=thread_ts)
                .select_for_update()
                .first()
            )
            if bet is None or State(bet.state) in FINAL_STATES:
                return None
            evidence = await _record_evidence(bet, new, now)
            await Outbox.create(
                team_id=team_id,
                channel_id=channel_id,
                kind="reply",
                bet_id=bet.id,
                thread_ts=thread_ts,
                payload=prompt(bet, evidence),
                next_attempt_at=now,
                created_at=now,
            )
    except IntegrityError:
        return None  # a concurrent delivery of the same message won the unique key
    return bet, evidence


async def set_verdict(
    team_id: str, evidence_id: int, verdict: str, *, actor_id: str, now: datetime
) -> tuple[Bet, Evidence] | Refusal:
    """Settle the verdict of recorded evidence (the buttons under a thread reply)."""
    async with in_transaction():
        evidence = await Evidence.get_or_none(team_id=team_id, id=evidence_id)
        if evidence is None:
            return Refusal("That evidence doesn't exist in this workspace.")
        bet = await _locked_bet(team_id, evidence.bet_id)
        assert bet is not None  # evidence cascades with its bet
        if State(bet.state) in FINAL_STATES:
            # A closed bet's history is never rewritten, whatever old buttons are clicked.
            return Refusal(f"H-{bet.number} is {bet.state}; its evidence can no longer change.")
        before = evidence.verdict
        if before != verdict:
            evidence.verdict = verdict
            await evidence.save(update_fields=["verdict"])
            _note_verdict(bet, verdict, now)
            bet.updated_at = now
            await bet.save()
            await _event(
                bet,
                team_id=team_id,
                actor_id=actor_id,
                now=now,
                kind="verdict",
                data={"evidence_id": evidence.id, "from": before, "to": verdict},
            )
            await _card_sync(bet, now).save()
    return bet, evidence


async def update_bet(
    team_id: str,
    bet_id: int,
    *,
    actor_id: str,
    now: datetime,
    kind: str,
    changes: dict[str, Any],
    allowed_states: Sequence[State] = tuple(OPEN_STATES),
) -> Bet | Refusal:
    """Change plain fields of a bet (signal, expected date, snooze) with an event."""
    async with in_transaction():
        bet = await _locked_bet(team_id, bet_id)
        if bet is None:
            return Refusal("That bet doesn't exist in this workspace.")
        state = State(bet.state)
        if state not in allowed_states:
            allowed = " or ".join(str(s) for s in allowed_states)
            return Refusal(f"H-{bet.number} is {state}; only a {allowed} bet can take that.")
        before = {name: _jsonable(getattr(bet, name)) for name in changes}
        for name, value in changes.items():
            setattr(bet, name, value)
        bet.updated_at = now
        await bet.save()
        after = {name: _jsonable(value) for name, value in changes.items()}
        await _event(
            bet,
            team_id=team_id,
            actor_id=actor_id,
            now=now,
            kind=kind,
            data={"before": before, "after": after},
        )
        await _card_sync(bet, now).save()
    return bet


def _jsonable(value: Any) -> Any:
    if isinstance(value, datetime):
        return value.isoformat()
    if isinstance(value, timedelta):
        return value.total_seconds()
    return value


async def set_away(team_id: str, user_id: str, until: datetime | None, *, now: datetime) -> None:
    await _create_once(Person, team_id=team_id, user_id=user_id)
    async with in_transaction():
        await Person.filter(team_id=team_id, user_id=user_id).update(away_until=until)
        await _event(
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
