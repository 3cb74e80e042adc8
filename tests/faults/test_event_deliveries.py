"""Thread replies as Slack really delivers them: twice, out of order, at once, retried with
X-Slack-Retry-Num 1–3, with edits and deletions before or after the message itself.
Each message becomes exactly one evidence row, with one answer in the thread."""

from __future__ import annotations

import asyncio
import itertools
from dataclasses import dataclass
from typing import Any

from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from console.signing import message_event
from storage.models import Bet, Event, Evidence, Outbox
from tests.conftest import Hypobot
from tests.faults.conftest import outbox_id_of
from tests.flows import posted_bet, settle

AUTHOR = "U3"


def original_text(ts: str) -> str:
    return f"finding {ts}: 12 admins exported this week"


def reply(bet: Bet, ts: str) -> dict[str, Any]:
    return message_event(original_text(ts), ts=ts, thread_ts=bet.card_ts, user=AUTHOR)


def edit(bet: Bet, ts: str, at: str, *, flat: bool = False) -> dict[str, Any]:
    """A message_changed event: as Slack sends it (the message nested), or flattened."""
    if flat:
        return {**reply(bet, ts), "subtype": "message_changed", "text": "edited away"}
    return {
        "type": "message",
        "subtype": "message_changed",
        "hidden": True,
        "channel": "C1",
        "ts": at,
        "event_ts": at,
        "channel_type": "channel",
        "message": {**reply(bet, ts), "text": "edited away", "edited": {"user": AUTHOR, "ts": at}},
        "previous_message": reply(bet, ts),
    }


def delete(bet: Bet, ts: str, at: str, *, flat: bool = False) -> dict[str, Any]:
    if flat:
        return {**reply(bet, ts), "subtype": "message_deleted"}
    return {
        "type": "message",
        "subtype": "message_deleted",
        "hidden": True,
        "channel": "C1",
        "ts": at,
        "event_ts": at,
        "deleted_ts": ts,
        "channel_type": "channel",
        "previous_message": reply(bet, ts),
    }


@dataclass(frozen=True)
class Delivery:
    """One POST to /slack/events: what happened to which message, and how Slack sent it."""

    kind: str  # reply | edit | edit-flat | delete | delete-flat
    message: int
    retry_num: int | None
    event_id: str

    def event(self, bet: Bet, ts: str, at: str) -> dict[str, Any]:
        if self.kind == "reply":
            return reply(bet, ts)
        change = edit if self.kind.startswith("edit") else delete
        return change(bet, ts, at, flat=self.kind.endswith("flat"))


async def deliver_all(
    hypobot: Hypobot, bet: Bet, stamps: list[str], batches: list[list[Delivery]]
) -> None:
    """Each batch at once, batches one after another; every delivery is acknowledged."""
    later = itertools.count(1)
    for batch in batches:
        sent = await asyncio.gather(
            *(
                hypobot.slack.event(
                    delivery.event(bet, stamps[delivery.message], f"1794000000.{next(later):06d}"),
                    event_id=delivery.event_id,
                    retry_num=delivery.retry_num,
                )
                for delivery in batch
            )
        )
        assert [status for status, _ in sent] == [200] * len(batch)
    await settle(hypobot)


def button_values(payload: dict[str, Any]) -> set[str]:
    """What the buttons of Hypobot's answer to a reply carry: the evidence row's id."""
    return {
        element["value"]
        for block in payload.get("blocks", [])
        if block.get("type") == "actions"
        for element in block["elements"]
    }


async def assert_each_message_recorded_once(hypobot: Hypobot, bet: Bet, stamps: list[str]) -> None:
    prompts = [
        message
        for message in hypobot.fake.messages.get("C1", [])
        if message.get("thread_ts") == bet.card_ts and outbox_id_of(message) is not None
    ]
    for ts in stamps:
        [evidence] = await Evidence.filter(team_id="T1", channel_id="C1", message_ts=ts)
        assert (evidence.text, evidence.author_id, evidence.verdict) == (
            original_text(ts),
            AUTHOR,
            "unknown",
        )
        events = await Event.filter(bet_id=bet.id, kind="evidence")
        assert [e.data["evidence_id"] for e in events].count(evidence.id) == 1
        [row] = [
            row
            for row in await Outbox.filter(bet_id=bet.id, kind="reply")
            if button_values(row.payload) == {str(evidence.id)}
        ]
        assert [outbox_id_of(message) for message in prompts].count(row.id) == 1
    recorded = await Evidence.filter(bet_id=bet.id).count()
    assert (await Bet.get(id=bet.id)).evidence_count == recorded


# --- the cases, spelled out -----------------------------------------------------------------

STAMPS = ["1793000000.000200", "1793000000.000300"]


async def test_reply_two_before_reply_one_each_twice_at_once_with_retries_records_each_once(
    hypobot: Hypobot,
) -> None:
    bet = await posted_bet(hypobot, "shipped")
    second, first = (
        [Delivery("reply", n, retry, f"Ev{n}") for retry in (None, 1, 2, 3)] for n in (1, 0)
    )
    await deliver_all(hypobot, bet, STAMPS, [second[:2], [*first, *second[2:]]])
    await assert_each_message_recorded_once(hypobot, bet, STAMPS)
    assert await Evidence.filter(bet_id=bet.id).count() == 2


async def test_the_same_message_in_two_different_deliveries_records_it_once(
    hypobot: Hypobot,
) -> None:
    bet = await posted_bet(hypobot, "shipped")
    # Slack may deliver one message under two event ids (say, to two subscriptions).
    deliveries = [Delivery("reply", 0, None, "EvA"), Delivery("reply", 0, None, "EvB")]
    await deliver_all(hypobot, bet, STAMPS[:1], [deliveries])
    await assert_each_message_recorded_once(hypobot, bet, STAMPS[:1])


async def test_edits_and_deletions_before_the_message_are_ignored_and_it_still_counts(
    hypobot: Hypobot,
) -> None:
    bet = await posted_bet(hypobot, "shipped")
    early = [Delivery(kind, 0, None, f"Ev{kind}") for kind in ("edit", "delete-flat")]
    await deliver_all(hypobot, bet, STAMPS[:1], [early])
    assert await Evidence.filter(bet_id=bet.id).count() == 0
    await deliver_all(hypobot, bet, STAMPS[:1], [[Delivery("reply", 0, 2, "EvR")]])
    await assert_each_message_recorded_once(hypobot, bet, STAMPS[:1])


async def test_edits_and_deletions_after_the_message_change_nothing(hypobot: Hypobot) -> None:
    bet = await posted_bet(hypobot, "shipped")
    await deliver_all(hypobot, bet, STAMPS[:1], [[Delivery("reply", 0, None, "EvR")]])
    later = [
        Delivery(kind, 0, retry, f"Ev{kind}")
        for kind in ("edit", "edit-flat", "delete", "delete-flat")
        for retry in (None, 1)
    ]
    await deliver_all(hypobot, bet, STAMPS[:1], [later])
    await assert_each_message_recorded_once(hypobot, bet, STAMPS[:1])


# --- generated schedules --------------------------------------------------------------------

CHANGES = ("edit", "edit-flat", "delete", "delete-flat")
FRESH = itertools.count(1000)


@st.composite
def schedules(draw: st.DrawFn) -> tuple[int, list[list[Delivery]]]:
    """Some messages, each delivered 1–3 times (retries sharing the event id, or not) with
    edits and deletions, shuffled and cut into batches that arrive at once."""
    messages = draw(st.integers(min_value=1, max_value=3))
    deliveries: list[Delivery] = []
    for n in range(messages):
        copies = draw(st.integers(min_value=1, max_value=3))
        shared = draw(st.booleans())
        for copy in range(copies):
            retry = draw(st.none() | st.integers(min_value=1, max_value=3))
            deliveries.append(Delivery("reply", n, retry, f"Ev{n}" if shared else f"Ev{n}-{copy}"))
        for kind in draw(st.lists(st.sampled_from(CHANGES), max_size=2)):
            retry = draw(st.none() | st.integers(min_value=1, max_value=3))
            deliveries.append(Delivery(kind, n, retry, f"Ev{n}-{kind}"))
    order = draw(st.permutations(deliveries))
    cuts = sorted(set(draw(st.lists(st.integers(1, len(order)), max_size=3))))
    edges = [0, *cuts, len(order)]
    batches = [order[a:b] for a, b in itertools.pairwise(edges) if order[a:b]]
    return messages, batches


@settings(
    max_examples=15,
    deadline=None,
    database=None,
    suppress_health_check=[HealthCheck.function_scoped_fixture, HealthCheck.too_slow],
)
@given(schedule=schedules())
async def test_any_schedule_of_deliveries_records_each_message_exactly_once(
    hypobot: Hypobot, schedule: tuple[int, list[list[Delivery]]]
) -> None:
    bet = await Bet.get_or_none(team_id="T1", number=1) or await posted_bet(hypobot, "shipped")
    messages, batches = schedule
    # Fresh message timestamps for every example: the bet and the database are shared.
    stamps = [f"1793000000.{next(FRESH):06d}" for _ in range(messages)]
    await deliver_all(hypobot, bet, stamps, batches)
    await assert_each_message_recorded_once(hypobot, bet, stamps)
