"""What people do to bets: create, move, add evidence, reply in a thread, settle a verdict,
set a signal or an expected date, snooze, go away; and read them (find, show, list).

Each change is one unit of work: load the bet locked → ask bets/ → write the row, its event
and the card's outbox row together. Every function takes ids and values and answers with
a value (done, or `Refused`), never words.
"""

from __future__ import annotations

from collections.abc import Awaitable, Callable
from dataclasses import dataclass
from datetime import date, datetime, time, timedelta
from typing import Any
from zoneinfo import ZoneInfo

from tortoise.exceptions import IntegrityError

from bets.evidence import EvidenceFacts, Verdict, feedback_moments, verdict_of_move
from bets.flow import forecast_at_shipping
from bets.forecasts import BetForecast, NoForecast
from bets.hypothesis import coach, missing_parts
from bets.lifecycle import (
    CLOSING_MOVES,
    FINAL_STATES,
    OPEN_STATES,
    Change,
    Move,
    MoveRequest,
    Refusal,
    RefusalReason,
    State,
    allowed_moves,
    transition,
)
from bets.metrics import BetFacts
from bets.timing import Expectation, read_expectation
from outbox import queue
from outbox.kinds import Kind
from storage import bets as store
from storage import claims, db
from storage import nudges as nudge_store
from storage.models import Bet, Evidence, Outbox
from usecases import flow, views
from usecases.context import Actor, Context
from usecases.results import Happened, Refused, Why

LIST_LIMIT = 200


# --- results ------------------------------------------------------------------------------


@dataclass(frozen=True)
class BetDraft:
    """A new bet as typed in the form or the one-liner, before it has a key."""

    channel_id: str
    title: str
    hypothesis: str
    signal: str = ""
    owner_id: str | None = None
    link: str | None = None
    expect: str | None = None  # as typed: a duration ("10d": after shipping) or a date
    expect_within: timedelta | None = None  # "within N" of the one-liner's signal (T1)
    pivot_of: int | None = None  # the number of the closed bet this one pivots from


@dataclass(frozen=True)
class Created:
    bet: BetFacts
    coaching: tuple[str, ...]  # what a coach would ask, said once and privately (T11)


@dataclass(frozen=True)
class Wip:
    """A channel's work in progress against its limit."""

    count: int
    limit: int

    @property
    def over(self) -> bool:
        return self.count > self.limit


@dataclass(frozen=True)
class Moved:
    bet: BetFacts
    change: Change
    wip: Wip | None = None  # after a start, when the channel has a WIP limit (T14)


@dataclass(frozen=True)
class EvidenceAdded:
    bet: BetFacts
    evidence: EvidenceFacts


@dataclass(frozen=True)
class VerdictSettled:
    bet: BetFacts
    evidence: EvidenceFacts


@dataclass(frozen=True)
class Updated:
    """A bet's signal, expected date or snooze changed."""

    bet: BetFacts
    kind: str  # signal | expect | snooze
    tz: ZoneInfo  # the channel's zone, for the dates in the answer (T7)


@dataclass(frozen=True)
class Away:
    until: date | None  # None: back, nudges on again
    today: date


@dataclass(frozen=True)
class Shown:
    bet: BetFacts
    evidence: tuple[EvidenceFacts, ...]
    history: tuple[Happened, ...]
    pivot_of_number: int | None
    tz: ZoneInfo
    forecast: BetForecast | NoForecast | None = None  # awaiting feedback: its forecast (F4)


@dataclass(frozen=True)
class Listed:
    scope: str
    bets: tuple[BetFacts, ...]  # the first LIST_LIMIT of them
    total: int  # how many the scope has in all
    forecasts: dict[int, BetForecast | NoForecast]  # of the bets awaiting feedback (F4)
    tz: ZoneInfo  # the zone of the channel it was asked in (T7)


# --- reading ------------------------------------------------------------------------------


async def zone_of(ctx: Context, team_id: str, channel_id: str | None) -> ZoneInfo:
    """The channel's zone (T7), or the default zone for a channel Hypobot doesn't track."""
    channel = await store.get_channel(team_id, channel_id) if channel_id else None
    return ZoneInfo(channel.timezone if channel else ctx.default_timezone)


async def find(
    ctx: Context, actor: Actor, *, bet_id: int | None = None, number: int | None = None
) -> BetFacts | Refused:
    """A bet of the actor's workspace by id (buttons, forms) or key number (commands)."""
    row = None
    if bet_id is not None:
        row = await store.bet_by_id(actor.team_id, bet_id)
    elif number is not None:
        row = await store.bet_by_number(actor.team_id, number)
    if row is None:
        return Refused(Why.NO_SUCH_BET, number=number)
    return store.bet_value(row)


async def find_evidence(
    ctx: Context, actor: Actor, evidence_id: int
) -> tuple[BetFacts, EvidenceFacts] | Refused:
    evidence = await store.evidence_by_id(actor.team_id, evidence_id)
    bet = await store.bet_by_id(actor.team_id, evidence.bet_id) if evidence else None  # type: ignore[attr-defined]
    if evidence is None or bet is None:
        return Refused(Why.NO_SUCH_EVIDENCE)
    return store.bet_value(bet), store.evidence_value(evidence)


async def search(ctx: Context, team_id: str, query: str, *, limit: int = 100) -> list[BetFacts]:
    """Open bets for a type-ahead (`H-12`, `12` or words of the title)."""
    return await store.search_open_bets(team_id, query, limit=limit)


async def show(ctx: Context, actor: Actor, number: int) -> Shown | Refused:
    page = await store.bet_page(actor.team_id, number)
    if page is None:
        return Refused(Why.NO_SUCH_BET, number=number)
    bet = page.bet
    evidence = await store.evidence_of(actor.team_id, bet.id) if bet.evidence_count else []
    return Shown(
        bet=bet,
        evidence=tuple(evidence),
        history=tuple(
            Happened(e.kind, e.actor_id, e.at, e.from_state, e.to_state, dict(e.data or {}))
            for e in page.history
        ),
        pivot_of_number=page.pivot_of_number,
        tz=ZoneInfo(page.timezone or ctx.default_timezone),
        forecast=(await flow.forecasts_of(actor.team_id, [bet], now=ctx.clock())).get(bet.number),
    )


async def list_bets(ctx: Context, actor: Actor, scope: str) -> Listed:
    """`list [mine|shipped|overdue|all]`; "shipped" is awaiting feedback (T13) and
    "overdue" is awaiting and escalated (docs/rules.md, F7: `bets.metrics.is_overdue`)."""
    found = await store.list_bets(
        actor.team_id, scope=scope, user_id=actor.user_id, limit=LIST_LIMIT
    )
    total = await store.count_bets(actor.team_id, scope=scope, user_id=actor.user_id)
    forecasts = await flow.forecasts_of(actor.team_id, found, now=ctx.clock())
    zone = await zone_of(ctx, actor.team_id, actor.channel_id)
    return Listed(scope, tuple(found), max(total, len(found)), forecasts, zone)


# --- creating -----------------------------------------------------------------------------


async def create(
    ctx: Context, actor: Actor, draft: BetDraft, *, once: str | None = None
) -> Created | Refused:
    """A new bet, numbered gap-free, with its event and its card. `once` names a request
    that may be delivered again (a workflow step's execution id): the bet it created is
    claimed with it in the same unit of work, so a retry on any replica answers with that
    bet instead of making a second one. A hypothesis without a change or an outcome is
    refused, whatever surface it came from (`bets.hypothesis.missing_parts`)."""
    if missing := missing_parts(draft.hypothesis):
        return Refused(Why.NO_HYPOTHESIS, missing=missing)
    now = ctx.clock()
    expectation = Expectation(within=draft.expect_within)
    if draft.expect:
        zone = await zone_of(ctx, actor.team_id, draft.channel_id)
        parsed = read_expectation(draft.expect, shipped_at=None, now=now, tz=zone)
        if parsed is None:
            return Refused(Why.BAD_WHEN, quoted=draft.expect)
        expectation = parsed
    pivot_of_id = None
    if draft.pivot_of is not None:
        original = await store.bet_by_number(actor.team_id, draft.pivot_of)
        if original is None:
            return Refused(Why.NO_SUCH_BET, number=draft.pivot_of)
        if State(original.state) not in FINAL_STATES:
            return Refused(Why.NOT_PIVOTABLE, number=original.number, state=State(original.state))
        pivot_of_id = original.id
    notes = tuple(coach(draft.hypothesis, draft.signal))
    await store.ensure_channel_row(
        actor.team_id, draft.channel_id, now=now, timezone=ctx.default_timezone
    )
    async with db.unit_of_work():
        if once is not None and not await claims.take(
            "create", [(f"team:{actor.team_id}", once)], team_id=actor.team_id, owner="", now=now
        ):
            earlier = await store.created_once(actor.team_id, once)
            if earlier is not None:
                return Created(store.bet_value(earlier), ())
        data: dict[str, Any] = {"title": draft.title}
        if pivot_of_id:
            data["pivot_of"] = pivot_of_id
        # The workspace's key lock is taken here and held to commit: the bet, its event
        # and its views' outbox rows are written with the number (one statement on
        # PostgreSQL), and nothing else before commit.
        new_views = await views.new_bet(actor.team_id, draft.channel_id, now=now)
        bet = await store.create_bet(
            actor.team_id,
            now=now,
            views=new_views,
            event={
                "actor_id": actor.user_id,
                "kind": "created",
                "to_state": State.PROPOSED,
                "data": data,
            },
            channel_id=draft.channel_id,
            title=draft.title,
            hypothesis=draft.hypothesis,
            signal=draft.signal,
            link=draft.link,
            owner_id=draft.owner_id or actor.user_id,
            creator_id=actor.user_id,
            state=State.PROPOSED,
            coach_notes="\n".join(notes),
            pivot_of_id=pivot_of_id,
            expected_at=expectation.at,
            expect_within_s=_seconds(expectation.within),
            created_at=now,
            updated_at=now,
        )
        if once is not None:
            await store.note_created(actor.team_id, once, bet)
        views.created(new_views)
    return Created(store.bet_value(bet), notes)


def _seconds(delta: timedelta | None) -> int | None:
    return int(delta.total_seconds()) if delta is not None else None


# --- moves --------------------------------------------------------------------------------


async def _note_evidence(bet: Bet) -> None:
    """Recompute the bet's feedback moments from its evidence as it stands (T5, T9)."""
    verdicts = await store.evidence_verdicts(bet.team_id, bet.id)
    bet.first_feedback_at, bet.first_decisive_at = feedback_moments(verdicts, bet.shipped_at)


def _refused(bet: Bet, refusal: Refusal) -> Refused:
    why = {
        RefusalReason.ILLEGAL: Why.ILLEGAL_MOVE,
        RefusalReason.NEEDS_EVIDENCE: Why.NEEDS_EVIDENCE,
        RefusalReason.NEEDS_REASON: Why.NEEDS_REASON,
    }[refusal.reason]
    return Refused(
        why, number=bet.number, state=refusal.state, move=refusal.move, allowed=refusal.allowed
    )


async def move(
    ctx: Context,
    actor: Actor,
    request: MoveRequest,
    *,
    source: str,
    bet_id: int | None = None,
    number: int | None = None,
    evidence_id: int | None = None,
    alongside: Callable[[Moved], Awaitable[None]] | None = None,
) -> Moved | Refused:
    """Make one lifecycle move, deciding on the locked row so two clicks can't both win.

    `evidence_id` names a recorded reply whose verdict this move settles (validate from a
    thread reply makes it supporting evidence, invalidate makes it refuting). A move that
    is not legal from the bet's state is refused before anything else (T12: an old button
    on a closed bet answers what the bet is now). `alongside(result)` writes what the
    caller keeps with the result in the same unit of work (see `add_evidence`).
    """
    found = await find(ctx, actor, bet_id=bet_id, number=number)
    if isinstance(found, Refused):
        return found
    state = found.state
    if request.move not in allowed_moves(state):
        return Refused(
            Why.ILLEGAL_MOVE,
            number=found.number,
            state=state,
            move=request.move,
            allowed=allowed_moves(state),
        )
    if request.move in CLOSING_MOVES and not await ctx.may_close(
        actor, found.owner_id, found.creator_id
    ):
        return Refused(
            Why.NOT_YOURS_TO_CLOSE,
            number=found.number,
            move=request.move,
            owner_id=found.owner_id,
            creator_id=found.creator_id,
        )
    now = ctx.clock()
    wip: Wip | None = None
    forecast_at: datetime | None = None
    if request.move is Move.SHIP:  # its forecast now, to keep score of (F6)
        shipped = await nudge_store.sle_sample(actor.team_id, found.channel_id, now=now)
        forecast_at = forecast_at_shipping(shipped, number=found.number, now=now)
    async with db.unit_of_work():
        bet = await store.locked_bet(actor.team_id, bet_id=found.id)
        if bet is None:
            return Refused(Why.NO_SUCH_BET, number=found.number)
        verdict = verdict_of_move(request.move)
        settled: Evidence | None = None
        if evidence_id is not None and verdict and bet.state == State.SHIPPED:
            settled = await store.evidence_by_id(actor.team_id, evidence_id)
            if settled is not None and settled.bet_id != bet.id:  # type: ignore[attr-defined]
                settled = None
            if settled is not None and settled.verdict != verdict:
                await store.save_verdict(settled, verdict)
                await _note_evidence(bet)
        change = _transition(bet, request, now)
        if isinstance(change, Refusal):
            return _refused(bet, change)
        if verdict and (request.text.strip() or request.link):
            await store.insert_evidence(
                bet,
                text=request.text.strip(),
                link=request.link,
                verdict=verdict,
                source=source,
                author_id=actor.user_id,
                at=now,
            )
            bet.evidence_count += 1
            bet.unanswered_nudges = 0
        bet.state = change.to_state
        for stamp, moment in change.stamps.items():
            setattr(bet, stamp, moment)
        await _note_evidence(bet)  # shipping or new evidence moves the moments
        if request.move is Move.SHIP:
            bet.forecast_at_ship = forecast_at
            if request.link:
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
        await views.changed(
            bet,
            actor_id=actor.user_id,
            now=now,
            kind=str(change.move),
            from_state=change.from_state,
            to_state=change.to_state,
            data=data,
        )
        if request.move is Move.START:
            wip = await _wip(bet)
        moved = Moved(store.bet_value(bet), change, wip)
        if alongside is not None:
            await alongside(moved)
    return moved


def _transition(bet: Bet, request: MoveRequest, now: datetime) -> Change | Refusal:
    return transition(
        State(bet.state),
        request,
        now=now,
        has_decisive_evidence=bet.first_feedback_at is not None,
    )


async def _wip(bet: Bet) -> Wip | None:
    channel = await store.get_channel(bet.team_id, bet.channel_id)
    if channel is None or channel.wip_limit is None:
        return None
    return Wip(await store.open_in_building(bet.team_id, bet.channel_id), channel.wip_limit)


# --- evidence -----------------------------------------------------------------------------


@dataclass(frozen=True)
class NewEvidence:
    verdict: Verdict
    text: str
    source: str  # command | button | modal | thread | shortcut | api
    link: str | None = None
    channel_id: str | None = None  # the Slack message it came from, if any: evidence once
    message_ts: str | None = None
    permalink: str | None = None
    posted_at: datetime | None = None  # when it was posted (T5); default now
    source_name: str = ""  # who sent it from elsewhere (the API caller's "source")


async def _record(
    bet: Bet,
    new: NewEvidence,
    *,
    author_id: str,
    now: datetime,
    say: Callable[[BetFacts, EvidenceFacts], Outbox | None] = lambda bet, evidence: None,
) -> Evidence:
    """Evidence on a locked bet: the row, the bet's counters, the event, its views, and
    what Hypobot says of it (`say`: a message built from the bet and the evidence)."""
    evidence = await store.insert_evidence(
        bet,
        text=new.text,
        link=new.link,
        verdict=new.verdict,
        source=new.source,
        author_id=author_id,
        at=new.posted_at or now,
        channel_id=new.channel_id,
        message_ts=new.message_ts,
        permalink=new.permalink,
        source_name=new.source_name,
    )
    bet.evidence_count += 1
    bet.unanswered_nudges = 0  # someone answered: escalation counts from here
    await _note_evidence(bet)
    bet.updated_at = now
    await bet.save()
    message = say(store.bet_value(bet), store.evidence_value(evidence))
    await views.changed(
        bet,
        actor_id=author_id,
        now=now,
        kind="evidence",
        data={"evidence_id": evidence.id, "verdict": new.verdict, "source": new.source},
        messages=[message] if message is not None else [],
    )
    return evidence


def _in_thread(
    bet: Bet, kind: Kind, payload: dict[str, Any], now: datetime, thread_ts: str | None
) -> Outbox:
    """A message in the bet's thread (`thread_ts`: its card, or a reply's thread)."""
    return queue.draft(
        kind,
        bet.team_id,
        bet.channel_id,
        bet_id=bet.id,
        thread_ts=thread_ts,
        payload=payload,
        now=now,
    )


async def add_evidence(
    ctx: Context,
    actor: Actor,
    new: NewEvidence,
    *,
    bet_id: int | None = None,
    number: int | None = None,
    announce: Callable[[BetFacts, EvidenceFacts], dict[str, Any]] | None = None,
    alongside: Callable[[EvidenceAdded], Awaitable[None]] | None = None,
) -> EvidenceAdded | Refused:
    """Record evidence on an open bet; a Slack message (channel, ts) is evidence only once.

    `announce(bet, evidence)` builds a message for the bet's thread (evidence from
    elsewhere), and `alongside(result)` writes what the caller keeps with the result (the
    HTTP API's idempotency record): both in the same unit of work as the evidence, so a
    failure of either leaves nothing written."""
    if not new.text.strip() and not new.link:
        return Refused(Why.EMPTY_EVIDENCE, number=number)
    if new.message_ts is not None:
        other = await store.evidence_of_message(actor.team_id, new.channel_id, new.message_ts)
        if other is not None:
            return Refused(Why.ALREADY_EVIDENCE, other_number=other)
    found = await find(ctx, actor, bet_id=bet_id, number=number)
    if isinstance(found, Refused):
        return found
    now = ctx.clock()
    try:
        async with db.unit_of_work():
            bet = await store.locked_bet(actor.team_id, bet_id=found.id)
            if bet is None:
                return Refused(Why.NO_SUCH_BET, number=found.number)
            state = State(bet.state)
            if state in FINAL_STATES:
                return Refused(Why.CLOSED, number=bet.number, state=state)

            def say(facts: BetFacts, evidence: EvidenceFacts) -> Outbox | None:
                if announce is None:
                    return None
                return _in_thread(bet, Kind.EVIDENCE, announce(facts, evidence), now, bet.card_ts)

            evidence = await _record(bet, new, author_id=actor.user_id, now=now, say=say)
            added = EvidenceAdded(store.bet_value(bet), store.evidence_value(evidence))
            if alongside is not None:
                await alongside(added)
    except IntegrityError:  # a concurrent submission of the same message won the unique key
        if new.message_ts is None:
            raise  # not a message's key: what `alongside` wrote collided (its caller decides)
        other = await store.evidence_of_message(actor.team_id, new.channel_id, new.message_ts)
        return Refused(Why.ALREADY_EVIDENCE, other_number=other)
    return added


async def thread_reply(
    ctx: Context,
    *,
    team_id: str,
    channel_id: str,
    thread_ts: str,
    user_id: str,
    new: NewEvidence,
    prompt: Callable[[BetFacts, EvidenceFacts], dict[str, Any]],
) -> bool:
    """A human reply in a bet's thread becomes evidence (verdict unknown), once per
    (team, channel, ts); `prompt(bet, evidence)` builds Hypobot's answer in the thread,
    queued in the same unit of work. False for a reply already recorded (Slack's
    retries), a thread that is not a bet's, or a closed bet."""
    if await store.evidence_of_message(team_id, channel_id, new.message_ts) is not None:
        return False
    now = ctx.clock()
    try:
        async with db.unit_of_work():
            bet = await store.locked_bet(team_id, thread=(channel_id, thread_ts))
            if bet is None or State(bet.state) in FINAL_STATES:
                return False
            await _record(
                bet,
                new,
                author_id=user_id,
                now=now,
                say=lambda facts, evidence: _in_thread(
                    bet, Kind.REPLY, prompt(facts, evidence), now, thread_ts
                ),
            )
    except IntegrityError:
        return False  # a concurrent delivery of the same message won the unique key
    return True


async def settle_verdict(
    ctx: Context, actor: Actor, evidence_id: int, verdict: Verdict
) -> VerdictSettled | Refused:
    """Settle what recorded evidence says (the buttons under a thread reply). Time to
    feedback ends at the evidence's own posted time, not at the label's (T5)."""
    now = ctx.clock()
    async with db.unit_of_work():
        evidence = await store.evidence_by_id(actor.team_id, evidence_id)
        if evidence is None:
            return Refused(Why.NO_SUCH_EVIDENCE)
        bet = await store.locked_bet(actor.team_id, bet_id=evidence.bet_id)  # type: ignore[attr-defined]
        assert bet is not None  # evidence cascades with its bet
        state = State(bet.state)
        if state in FINAL_STATES:
            # A closed bet's history is never rewritten, whatever old buttons are clicked.
            return Refused(Why.CLOSED, number=bet.number, state=state)
        before = evidence.verdict
        if before != verdict:
            await store.save_verdict(evidence, verdict)
            await _note_evidence(bet)
            bet.updated_at = now
            await bet.save()
            await views.changed(
                bet,
                actor_id=actor.user_id,
                now=now,
                kind="verdict",
                data={"evidence_id": evidence.id, "from": before, "to": verdict},
            )
    return VerdictSettled(store.bet_value(bet), store.evidence_value(evidence))


# --- plain fields -------------------------------------------------------------------------


async def _update(
    ctx: Context,
    actor: Actor,
    *,
    kind: str,
    bet_id: int | None,
    number: int | None,
    changes: Callable[[Bet, ZoneInfo], dict[str, Any] | Refused],
    allowed_states: frozenset[State] = OPEN_STATES,
) -> Updated | Refused:
    """Change plain fields of a bet (signal, expected date, snooze) with an event."""
    found = await find(ctx, actor, bet_id=bet_id, number=number)
    if isinstance(found, Refused):
        return found
    zone = await zone_of(ctx, actor.team_id, found.channel_id)
    now = ctx.clock()
    async with db.unit_of_work():
        bet = await store.locked_bet(actor.team_id, bet_id=found.id)
        if bet is None:
            return Refused(Why.NO_SUCH_BET, number=found.number)
        state = State(bet.state)
        if state not in allowed_states:
            return Refused(
                Why.WRONG_STATE,
                number=bet.number,
                state=state,
                needs=tuple(s for s in State if s in allowed_states),
            )
        values = changes(bet, zone)
        if isinstance(values, Refused):
            return values
        before = {name: store.jsonable(getattr(bet, name)) for name in values}
        for name, value in values.items():
            setattr(bet, name, value)
        bet.updated_at = now
        await bet.save()
        after = {name: store.jsonable(value) for name, value in values.items()}
        await views.changed(
            bet,
            actor_id=actor.user_id,
            now=now,
            kind=kind,
            data={"before": before, "after": after},
        )
    return Updated(store.bet_value(bet), kind, zone)


async def set_signal(
    ctx: Context, actor: Actor, text: str, *, bet_id: int | None = None, number: int | None = None
) -> Updated | Refused:
    return await _update(
        ctx,
        actor,
        kind="signal",
        bet_id=bet_id,
        number=number,
        changes=lambda bet, zone: {"signal": text},
    )


async def expect(
    ctx: Context, actor: Actor, when: str, *, bet_id: int | None = None, number: int | None = None
) -> Updated | Refused:
    """When the signal should show (T1, T2): it moves the next nudge, even after nudging
    began. A date is absolute; a duration counts from shipping (from now once shipped)."""
    now = ctx.clock()

    def changes(bet: Bet, zone: ZoneInfo) -> dict[str, Any] | Refused:
        parsed = read_expectation(when, shipped_at=bet.shipped_at, now=now, tz=zone)
        if parsed is None:
            return Refused(Why.BAD_WHEN, number=bet.number, quoted=when)
        return {"expected_at": parsed.at, "expect_within_s": _seconds(parsed.within)}

    return await _update(ctx, actor, kind="expect", bet_id=bet_id, number=number, changes=changes)


async def snooze(
    ctx: Context,
    actor: Actor,
    duration: timedelta,
    *,
    bet_id: int | None = None,
    number: int | None = None,
) -> Updated | Refused:
    """No nudge and no escalation until the snooze ends (T4)."""
    until = ctx.clock() + duration
    return await _update(
        ctx,
        actor,
        kind="snooze",
        bet_id=bet_id,
        number=number,
        changes=lambda bet, zone: {"snoozed_until": until},
        allowed_states=frozenset({State.SHIPPED}),
    )


async def away(ctx: Context, actor: Actor, until: date | None) -> Away | Refused:
    """Pause my nudges until a date (in my channel's zone), or end the pause."""
    now = ctx.clock()
    zone = await zone_of(ctx, actor.team_id, actor.channel_id)
    today = now.astimezone(zone).date()
    moment = None
    if until is not None:
        moment = datetime.combine(until, time(0, 0), tzinfo=zone)
        if moment <= now:
            return Refused(Why.PAST_DATE)
    async with db.unit_of_work():
        await store.set_away(actor.team_id, actor.user_id, moment, now=now)
    return Away(until, today)
