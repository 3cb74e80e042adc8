"""Use cases over storage on both databases: keys, moves, events, evidence dedupe,
workspace scoping, and the moments that end time to feedback."""

from __future__ import annotations

import asyncio
from datetime import UTC, datetime, timedelta

import pytest

from bets.evidence import Verdict
from bets.lifecycle import Move, MoveRequest, State
from storage import bets as store
from storage.models import Bet, Event, Evidence, Outbox
from usecases import bets as usecase
from usecases.bets import BetDraft, Created, Moved, NewEvidence
from usecases.context import Actor, Context
from usecases.results import Refused, Why

NOW = datetime(2026, 11, 2, 10, 0, tzinfo=UTC)


class Clock:
    def __init__(self) -> None:
        self.now = NOW

    def __call__(self) -> datetime:
        return self.now


def context(clock: Clock | None = None) -> Context:
    return Context(clock=clock or Clock())


def draft(channel: str = "C1", title: str = "Faster search") -> BetDraft:
    return BetDraft(
        channel_id=channel,
        title=title,
        hypothesis="We believe faster search for admins will cut tickets",
        signal="tickets drop 20%",
    )


async def create(team: str = "T1", ctx: Context | None = None) -> Created:
    made = await usecase.create(ctx or context(), Actor(team, "U1", "C1"), draft())
    assert isinstance(made, Created)
    return made


async def test_keys_are_numbered_per_workspace_from_one(database: str) -> None:
    a1, a2, b1 = await create("TA"), await create("TA"), await create("TB")
    assert (a1.bet.number, a2.bet.number, b1.bet.number) == (1, 2, 1)


async def test_concurrent_creates_get_gap_free_unique_keys(database: str) -> None:
    made = await asyncio.gather(*(create() for _ in range(50)))
    assert sorted(created.bet.number for created in made) == list(range(1, 51))
    assert await Bet.filter(team_id="T1").count() == 50


async def test_creating_writes_bet_event_and_card_outbox_row(database: str) -> None:
    bet = (await create()).bet
    events = await Event.filter(team_id="T1", bet_id=bet.id)
    assert [(e.kind, e.to_state) for e in events] == [("created", "proposed")]
    assert await Outbox.filter(team_id="T1", bet_id=bet.id, kind="card").count() == 1


async def test_move_writes_state_stamp_and_event_together(database: str) -> None:
    bet = (await create()).bet
    moved = await usecase.move(
        context(),
        Actor("T1", "U1"),
        MoveRequest(Move.SHIP, link="https://x.test/pr/1"),
        source="command",
        bet_id=bet.id,
    )
    assert isinstance(moved, Moved)
    fresh = await Bet.get(id=bet.id)
    assert fresh.state == State.SHIPPED and fresh.shipped_at == NOW
    assert fresh.link == "https://x.test/pr/1"
    kinds = [e.kind for e in await Event.filter(bet_id=bet.id).order_by("id")]
    assert kinds == ["created", "ship"]


async def test_illegal_move_is_refused_with_the_legal_ones_and_changes_nothing(
    database: str,
) -> None:
    bet = (await create()).bet
    refusal = await usecase.move(
        context(),
        Actor("T1", "U1"),
        MoveRequest(Move.VALIDATE, "looks good"),
        source="command",
        number=bet.number,
    )
    assert isinstance(refusal, Refused) and refusal.why is Why.ILLEGAL_MOVE
    assert refusal.state is State.PROPOSED
    assert refusal.allowed == (Move.START, Move.SHIP, Move.KILL)
    assert (await Bet.get(id=bet.id)).state == State.PROPOSED
    assert await Event.filter(bet_id=bet.id).count() == 1
    assert await Evidence.filter(bet_id=bet.id).count() == 0


async def test_validate_with_text_records_supporting_evidence_and_feedback_time(
    database: str,
) -> None:
    clock = Clock()
    ctx = context(clock)
    bet = (await create(ctx=ctx)).bet
    actor = Actor("T1", "U1")
    await usecase.move(ctx, actor, MoveRequest(Move.SHIP), source="c", bet_id=bet.id)
    clock.now = NOW + timedelta(days=3)
    await usecase.move(
        ctx, actor, MoveRequest(Move.VALIDATE, "tickets fell 30%"), source="c", bet_id=bet.id
    )
    fresh = await Bet.get(id=bet.id)
    assert fresh.state == State.VALIDATED and fresh.closed_at == clock.now
    assert fresh.first_feedback_at == clock.now and fresh.evidence_count == 1
    evidence = await Evidence.get(bet_id=bet.id)
    assert (evidence.verdict, evidence.text) == ("supports", "tickets fell 30%")


async def test_thread_reply_is_recorded_once_however_often_it_is_delivered(
    database: str,
) -> None:
    bet = (await create()).bet
    await Bet.filter(id=bet.id).update(card_ts="100.1")
    reply = NewEvidence(
        Verdict.UNKNOWN, "users love it", source="thread", channel_id="C1", message_ts="100.2"
    )

    async def deliver() -> bool:
        return await usecase.thread_reply(
            context(),
            team_id="T1",
            channel_id="C1",
            thread_ts="100.1",
            user_id="U2",
            new=reply,
            prompt=lambda b, e: {"text": "noted"},
        )

    results = await asyncio.gather(deliver(), deliver(), deliver())
    assert sum(results) == 1
    assert await Evidence.filter(team_id="T1", bet_id=bet.id).count() == 1
    assert await Outbox.filter(team_id="T1", kind="reply").count() == 1


async def test_other_workspace_cannot_see_or_move_a_bet(database: str) -> None:
    bet = (await create("TA")).bet
    assert await store.bet_by_number("TB", bet.number) is None
    assert await store.bet_by_id("TB", bet.id) is None
    refusal = await usecase.move(
        context(), Actor("TB", "UX"), MoveRequest(Move.KILL, "nope"), source="c", bet_id=bet.id
    )
    assert isinstance(refusal, Refused) and refusal.why is Why.NO_SUCH_BET
    assert (await Bet.get(id=bet.id)).state == State.PROPOSED


@pytest.mark.parametrize("verdict", [Verdict.SUPPORTS, Verdict.REFUTES])
async def test_t5_decisive_evidence_before_shipping_is_learning_not_feedback(
    database: str, verdict: Verdict
) -> None:
    clock = Clock()
    ctx = context(clock)
    bet = (await create(ctx=ctx)).bet
    actor = Actor("T1", "U1")
    await usecase.add_evidence(ctx, actor, NewEvidence(verdict, "early read", "c"), bet_id=bet.id)
    clock.now = NOW + timedelta(hours=1)
    await usecase.move(ctx, actor, MoveRequest(Move.SHIP), source="c", bet_id=bet.id)
    fresh = await Bet.get(id=bet.id)
    assert fresh.first_feedback_at is None  # the shipped change still waits (T5)
    assert fresh.first_decisive_at == NOW  # but the team learned something (T9)


async def test_t5_a_reply_labelled_later_counts_from_when_it_was_posted(database: str) -> None:
    clock = Clock()
    ctx = context(clock)
    bet = (await create(ctx=ctx)).bet
    actor = Actor("T1", "U1")
    await usecase.move(ctx, actor, MoveRequest(Move.SHIP), source="c", bet_id=bet.id)
    await Bet.filter(id=bet.id).update(card_ts="100.1")
    posted = NOW + timedelta(days=1)
    clock.now = posted
    await usecase.thread_reply(
        ctx,
        team_id="T1",
        channel_id="C1",
        thread_ts="100.1",
        user_id="U2",
        new=NewEvidence(
            Verdict.UNKNOWN,
            "it works",
            "thread",
            channel_id="C1",
            message_ts="100.2",
            posted_at=posted,
        ),
        prompt=lambda b, e: {"text": "noted"},
    )
    evidence = await Evidence.get(bet_id=bet.id)
    clock.now = NOW + timedelta(days=4)
    await usecase.settle_verdict(ctx, actor, evidence.id, Verdict.SUPPORTS)
    assert (await Bet.get(id=bet.id)).first_feedback_at == posted  # 1 day, not 4
    await usecase.settle_verdict(ctx, actor, evidence.id, Verdict.INCONCLUSIVE)
    assert (await Bet.get(id=bet.id)).first_feedback_at is None  # no longer decisive
