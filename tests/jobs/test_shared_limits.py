"""Slack's limits are the workspace's, not the process's: replicas on one database share the
nudge budget, the API's per-token rate and the sending of a workspace's messages (one sender
at a time, under a lease another replica takes over when it lapses). Both databases."""

from __future__ import annotations

import asyncio
from datetime import UTC, datetime, timedelta

from console.fakeslack import FakeSlack
from outbox import queue, rows
from outbox.kinds import Kind
from outbox.sender import LEASE, SENDING_LEASE, Sender
from storage import shared
from storage.models import Event, Outbox
from storage.shared import Lease
from tests.conftest import Clock, Hypobot, served
from tests.jobs_support import shipped_bet
from tests.slack.test_api import call, token_for
from usecases import chasing

OURS, NOT_OURS, TAKEN_OVER = Lease.OURS, Lease.NOT_OURS, Lease.TAKEN_OVER


async def test_two_replicas_recording_nudges_at_once_never_exceed_the_channels_budget(
    hypobot: Hypobot,
) -> None:
    await hypobot.command("settings nudges-per-day 2")
    start = hypobot.clock.now - timedelta(days=10)
    for _ in range(4):
        await shipped_bet(hypobot, start)
    hypobot.clock.now = start + timedelta(days=10)
    [channel] = await chasing.channels_to_sweep(hypobot.clock.now)
    decided = await chasing.decide(channel, hypobot.clock.now)
    plans = [
        chasing.nudge_plan(bet, decision, {"text": f"nudge {bet.number}"})
        for bet, decision in decided.decisions
    ]
    assert len(plans) == 4  # due, in hours; the budget is what holds them back
    # Two replicas, each having decided on two of them (they swept a moment apart):
    done = await asyncio.gather(
        chasing.record(decided, plans[:2], now=hypobot.clock.now, owner="replica-a"),
        chasing.record(decided, plans[2:], now=hypobot.clock.now, owner="replica-b"),
    )
    assert sum(len(got) for got in done) == 2
    assert await Event.filter(kind="nudge").count() == 2
    assert await Outbox.filter(kind=Kind.NUDGE).count() == 2


async def test_two_replicas_serving_one_api_token_hold_its_rate(
    database: str, fake_slack: FakeSlack, clock: Clock
) -> None:
    limits = {"hypobot_api_rate": 0.001, "hypobot_api_burst": 3}
    async with (
        served(database, fake_slack, clock, **limits) as a,
        served(database, fake_slack, clock, **limits) as b,
    ):
        token = await token_for(a)
        answers = [
            await call(replica, "GET", "/api/v1/bets", token=token) for replica in (a, b, a, b, a)
        ]
        assert [answer.status for answer in answers] == [200, 200, 200, 429, 429]
        assert int(answers[3].headers["Retry-After"]) >= 1


async def test_one_replica_sends_a_workspaces_messages_and_a_dead_ones_lease_is_taken_over(
    hypobot: Hypobot,
) -> None:
    sender = hypobot.runtime.sender
    sender.stop_hearing()  # the rows below are queued as by another replica
    now = hypobot.clock.now
    # A replica that took the workspace's lease and died: no sender of ours may post for it.
    assert await shared.lease("T1", "dead-replica", now=now, length=SENDING_LEASE) is OURS
    hypobot.fake.invite("C1")
    for n in range(3):
        await queue.draft(Kind.REPORT, "T1", "C1", payload={"text": f"n {n}"}, now=now).save()
    report = await sender.deliver(now=now)
    assert report.sent == 0
    assert await Outbox.filter(status="pending").count() == 3  # untouched, not lost
    # Once the dead replica's lease lapses, this one takes the workspace over.
    hypobot.clock.advance(seconds=SENDING_LEASE.total_seconds() + 1)
    report = await sender.deliver(now=hypobot.clock.now)
    assert report.sent == 3
    assert [m["text"] for m in hypobot.fake.messages["C1"]] == ["n 0", "n 1", "n 2"]
    holder = await shared.holder("T1")
    assert holder is None or holder.owner == sender.owner  # given back once it was done


async def test_a_live_replica_keeps_its_workspace_while_another_waits(hypobot: Hypobot) -> None:
    other = Sender(hypobot.runtime.sender.clients, renderers={}, clock=hypobot.clock)
    now = hypobot.clock.now
    assert await shared.lease("T1", other.owner, now=now, length=SENDING_LEASE) is OURS
    assert await shared.lease("T1", "someone-else", now=now, length=SENDING_LEASE) is NOT_OURS
    # renewed by its holder, it stays its holder's
    later = now + SENDING_LEASE - timedelta(seconds=1)
    assert await shared.lease("T1", other.owner, now=later, length=SENDING_LEASE) is OURS
    lapsed = now + SENDING_LEASE + timedelta(seconds=1)  # but renewed at `later`
    assert await shared.lease("T1", "someone-else", now=lapsed, length=SENDING_LEASE) is NOT_OURS


async def test_the_rows_a_dead_replica_had_claimed_go_out_once_its_workspace_is_taken_over(
    hypobot: Hypobot,
) -> None:
    """Its rows' own leases (60 s) need not lapse: a holder starts no send in the last
    HOLD_MARGIN_S of its workspace's lease, so the replica that takes the workspace over
    takes its rows at once."""
    sender = hypobot.runtime.sender
    sender.stop_hearing()
    now = hypobot.clock.now
    hypobot.fake.invite("C1")
    for n in range(3):
        await queue.draft(Kind.REPORT, "T1", "C1", payload={"text": f"n {n}"}, now=now).save()
    assert await shared.lease("T1", "dead-replica", now=now, length=SENDING_LEASE) is OURS
    claimed = await rows.claim(now=now, lease=LEASE, limit=10, channel=("T1", "C1"), team_id="T1")
    assert len(claimed) == 3  # and then it died, holding them
    hypobot.clock.advance(seconds=SENDING_LEASE.total_seconds() + 1)
    assert hypobot.clock.now < now + LEASE  # the rows' own leases still run
    report = await sender.deliver(now=hypobot.clock.now)
    assert report.sent == 3
    assert [m["text"] for m in hypobot.fake.messages["C1"]] == ["n 0", "n 1", "n 2"]
    assert await Outbox.filter(status="sent").count() == 3


async def test_a_lease_taken_from_a_lapsed_holder_says_so_once(database: str) -> None:
    now = datetime(2026, 11, 2, 9, 0, tzinfo=UTC)
    assert await shared.lease("T1", "a", now=now, length=SENDING_LEASE) is OURS
    later = now + SENDING_LEASE + timedelta(seconds=1)
    assert await shared.lease("T1", "b", now=later, length=SENDING_LEASE) is TAKEN_OVER
    assert await shared.lease("T1", "b", now=later, length=SENDING_LEASE) is OURS  # renewed
    await shared.release("b", team_id="T1")
    assert await shared.lease("T1", "a", now=later, length=SENDING_LEASE) is OURS  # given back
