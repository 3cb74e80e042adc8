"""Storage on both databases: keys, moves, events, evidence dedupe, workspace scoping."""

from __future__ import annotations

import asyncio
from datetime import UTC, datetime

import pytest

from bets.lifecycle import Move, MoveRequest, Refusal, State
from storage import bets as store
from storage.models import Bet, Event, Evidence, Outbox

NOW = datetime(2026, 11, 2, 10, 0, tzinfo=UTC)


def draft(channel: str = "C1", owner: str = "U1", title: str = "Faster search") -> store.NewBet:
    return store.NewBet(
        channel_id=channel,
        title=title,
        hypothesis="We believe faster search for admins will cut tickets",
        signal="tickets drop 20%",
        owner_id=owner,
        creator_id=owner,
    )


async def test_keys_are_numbered_per_workspace_from_one(database: str) -> None:
    a1 = await store.create_bet("TA", draft(), now=NOW, timezone="UTC")
    a2 = await store.create_bet("TA", draft(), now=NOW, timezone="UTC")
    b1 = await store.create_bet("TB", draft(), now=NOW, timezone="UTC")
    assert (a1.number, a2.number, b1.number) == (1, 2, 1)


async def test_concurrent_creates_get_gap_free_unique_keys(database: str) -> None:
    made = await asyncio.gather(
        *(store.create_bet("T1", draft(), now=NOW, timezone="UTC") for _ in range(50))
    )
    assert sorted(bet.number for bet in made) == list(range(1, 51))
    assert await Bet.filter(team_id="T1").count() == 50


async def test_creating_writes_bet_event_and_card_outbox_row(database: str) -> None:
    bet = await store.create_bet("T1", draft(), now=NOW, timezone="UTC")
    events = await Event.filter(team_id="T1", bet_id=bet.id)
    assert [(e.kind, e.to_state) for e in events] == [("created", "proposed")]
    assert await Outbox.filter(team_id="T1", bet_id=bet.id, kind="card").count() == 1


async def test_move_writes_state_stamp_and_event_together(database: str) -> None:
    bet = await store.create_bet("T1", draft(), now=NOW, timezone="UTC")
    change = await store.move_bet(
        "T1",
        bet.id,
        MoveRequest(Move.SHIP, link="https://x.test/pr/1"),
        actor_id="U1",
        source="command",
        now=NOW,
    )
    assert not isinstance(change, Refusal)
    fresh = await Bet.get(id=bet.id)
    assert fresh.state == State.SHIPPED and fresh.shipped_at == NOW
    assert fresh.link == "https://x.test/pr/1"
    kinds = [e.kind for e in await Event.filter(bet_id=bet.id).order_by("id")]
    assert kinds == ["created", "ship"]


async def test_illegal_move_is_refused_and_changes_nothing(database: str) -> None:
    bet = await store.create_bet("T1", draft(), now=NOW, timezone="UTC")
    refusal = await store.move_bet(
        "T1",
        bet.id,
        MoveRequest(Move.VALIDATE, "looks good"),
        actor_id="U1",
        source="command",
        now=NOW,
    )
    assert isinstance(refusal, Refusal)
    assert "start" in refusal.message and "ship" in refusal.message
    assert (await Bet.get(id=bet.id)).state == State.PROPOSED
    assert await Event.filter(bet_id=bet.id).count() == 1
    assert await Evidence.filter(bet_id=bet.id).count() == 0


async def test_validate_with_text_records_supporting_evidence_and_feedback_time(
    database: str,
) -> None:
    bet = await store.create_bet("T1", draft(), now=NOW, timezone="UTC")
    await store.move_bet("T1", bet.id, MoveRequest(Move.SHIP), actor_id="U1", source="c", now=NOW)
    later = NOW.replace(day=5)
    await store.move_bet(
        "T1",
        bet.id,
        MoveRequest(Move.VALIDATE, "tickets fell 30%"),
        actor_id="U1",
        source="command",
        now=later,
    )
    fresh = await Bet.get(id=bet.id)
    assert fresh.state == State.VALIDATED and fresh.closed_at == later
    assert fresh.first_feedback_at == later and fresh.evidence_count == 1
    evidence = await Evidence.get(bet_id=bet.id)
    assert (evidence.verdict, evidence.text) == ("supports", "tickets fell 30%")


async def test_thread_reply_is_recorded_once_however_often_it_is_delivered(
    database: str,
) -> None:
    bet = await store.create_bet("T1", draft(), now=NOW, timezone="UTC")
    await Bet.filter(id=bet.id).update(card_ts="100.1")
    reply = store.NewEvidence(
        verdict="unknown",
        text="users love it",
        author_id="U2",
        source="thread",
        channel_id="C1",
        message_ts="100.2",
    )

    async def deliver() -> object:
        return await store.record_thread_reply(
            "T1", "C1", "100.1", reply, now=NOW, prompt=lambda b, e: {"text": "noted"}
        )

    results = await asyncio.gather(deliver(), deliver(), deliver())
    assert sum(result is not None for result in results) == 1
    assert await Evidence.filter(team_id="T1", bet_id=bet.id).count() == 1
    assert await Outbox.filter(team_id="T1", kind="reply").count() == 1


async def test_other_workspace_cannot_see_or_move_a_bet(database: str) -> None:
    bet = await store.create_bet("TA", draft(), now=NOW, timezone="UTC")
    assert await store.bet_by_number("TB", bet.number) is None
    assert await store.bet_by_id("TB", bet.id) is None
    refusal = await store.move_bet(
        "TB", bet.id, MoveRequest(Move.KILL, "nope"), actor_id="UX", source="c", now=NOW
    )
    assert isinstance(refusal, Refusal)
    assert (await Bet.get(id=bet.id)).state == State.PROPOSED


@pytest.mark.parametrize("verdict", ["supports", "refutes"])
async def test_decisive_evidence_before_shipping_is_not_feedback(
    database: str, verdict: str
) -> None:
    bet = await store.create_bet("T1", draft(), now=NOW, timezone="UTC")
    await store.add_evidence(
        "T1", bet.id, store.NewEvidence(verdict, "early read", "U1", "command"), now=NOW
    )
    assert (await Bet.get(id=bet.id)).first_feedback_at is None
