"""Replicas killed with SIGKILL mid-digest and mid-send, then another one carries on: every
message reaches Slack exactly once, checked against the fake Slack's record."""

from __future__ import annotations

import asyncio
import contextlib
import random
from datetime import UTC, datetime, timedelta
from typing import Any

import pytest

from outbox import queue
from outbox.kinds import Kind
from storage.models import Channel, Claim, Outbox
from tests.conftest import Hypobot
from tests.faults.conftest import (
    POSTGRES_ONLY,
    SQLITE_ONLY,
    assert_each_row_posted_once,
    backend_gone,
    backends_waiting_on_a_lock,
    finish,
    free_port,
    go,
    hypobot_process,
    kill,
    own_connection,
    stored_bet,
    until,
)
from tests.jobs_support import run_job, shipped_bet

# In the past, whatever the machine's clock says: a sender that died mid-send looks for its
# message among those Slack has since its row was written, and the fake Slack stamps
# messages with the real time.
MONDAY = datetime(2024, 11, 4, 10, 0, tzinfo=UTC)
DIGEST_AT = datetime(2024, 11, 5, 9, 30, tzinfo=UTC)  # Tuesday, the channels' digest time
# Past the digest claim's lease (5 minutes) and the outbox lease (60 s), inside the grace (3 h).
AFTER_THE_LEASES = timedelta(minutes=6)


def digests_in_slack(hypobot: Hypobot, channel: str = "C1") -> list[dict[str, Any]]:
    return [
        message
        for message in hypobot.fake.messages.get(channel, [])
        if str(message.get("text", "")).startswith("Hypobot digest")
    ]


def digest_posts(hypobot: Hypobot) -> list[Any]:
    """Digest posts Slack has received (posted or still being posted)."""
    return [
        call
        for call in hypobot.fake.calls_to("chat.postMessage")
        if str(call.text or "").startswith("Hypobot digest")
    ]


def digests_at(moment: datetime) -> tuple[str, ...]:
    return ("jobs", "run", "digests", "--at", moment.isoformat())


# --- mid-digest ------------------------------------------------------------------------------


async def test_replica_killed_while_its_digests_are_in_flight_posts_each_once_after_restart(
    hypobot: Hypobot,
) -> None:
    async with (
        hypobot_process(hypobot, *digests_at(DIGEST_AT)) as doomed,
        hypobot_process(hypobot, *digests_at(DIGEST_AT + AFTER_THE_LEASES)) as restarted,
    ):
        for channel in ("C1", "C2"):
            await shipped_bet(hypobot, MONDAY, channel_id=channel)
        hypobot.fake.delay["chat.postMessage"] = 2.0
        await go(doomed)

        async def both_queued_and_one_posting() -> bool:
            # A channel's digest goes out as soon as it is queued: wait for the other's row.
            queued = await Outbox.filter(kind="digest").count()
            return bool(digest_posts(hypobot)) and queued == 2

        await until(both_queued_and_one_posting, timeout=25)
        await kill(doomed)
        await asyncio.sleep(2.3)  # Slack finishes posting what it was sent before the kill
        hypobot.fake.delay.clear()
        assert await Outbox.filter(kind="digest").count() == 2
        assert await Outbox.filter(kind="digest", status="sent").count() == 0  # never marked

        await finish(await go(restarted))

    for channel in ("C1", "C2"):
        assert len(digests_in_slack(hypobot, channel)) == 1, channel
    assert await Outbox.filter(kind="digest", status="sent").count() == 2
    await assert_each_row_posted_once(hypobot.fake)


# Where the dead replica stops, held there by a lock the test takes on the server:
STAGES = {
    # claiming the run: its INSERT into claims waits, so nothing of the run exists yet
    "before-claiming": "LOCK TABLE claims IN SHARE MODE",
    # settling the run: claim + digest row + channel's last digest in one transaction,
    # which waits on the channel row; the transaction never commits, so the claim goes too
    "before-committing": "SELECT 1 FROM channels WHERE channel_id = 'C1' FOR UPDATE",
    # after Slack posted the digest, marking its row sent waits: posted but not recorded
    "after-posting-before-marking": "SELECT 1 FROM outbox WHERE kind = 'digest' FOR UPDATE",
}
CLAIM_LEFT = {"before-claiming": None, "before-committing": None}


@POSTGRES_ONLY
@pytest.mark.parametrize("stage", list(STAGES))
async def test_replica_killed_at_each_stage_of_a_digest_run_never_loses_or_doubles_it(
    hypobot: Hypobot, stage: str
) -> None:
    posted_first = stage == "after-posting-before-marking"
    async with contextlib.AsyncExitStack() as stack:
        replica = await stack.enter_async_context(hypobot_process(hypobot, *digests_at(DIGEST_AT)))
        await shipped_bet(hypobot, MONDAY)
        # One connection holds the lock; pg_stat_activity is read on another, since a
        # transaction sees one frozen snapshot of it.
        holder = await own_connection(hypobot.database)
        stack.push_async_callback(holder.close)
        watcher = await own_connection(hypobot.database)
        stack.push_async_callback(watcher.close)
        hold = holder.transaction()
        await hold.start()
        if posted_first:
            hypobot.fake.delay["chat.postMessage"] = 1.0
        else:
            await holder.execute(STAGES[stage])
        await go(replica)
        if posted_first:
            await until(lambda: digest_posts(hypobot), timeout=25)
            await holder.execute(STAGES[stage])
            await until(lambda: digests_in_slack(hypobot), timeout=5)
        blocked: list[int] = []

        async def blocked_on_our_lock() -> bool:
            assert replica.returncode is None, "the replica finished instead of waiting"
            blocked[:] = await backends_waiting_on_a_lock(watcher, hypobot.database)
            return bool(blocked)

        await until(blocked_on_our_lock, timeout=25, every=0.02)
        await kill(replica)
        await hold.rollback()
        # The dead replica's backend finishes its statement, finds no client and rolls back.
        for pid in blocked:
            await until(lambda pid=pid: backend_gone(watcher, pid), timeout=10, every=0.02)
    hypobot.fake.delay.clear()

    claim = await Claim.get_or_none(job="digest")
    assert (claim.status if claim else None) == CLAIM_LEFT.get(stage, "done")
    assert len(digests_in_slack(hypobot)) == (1 if posted_first else 0)
    assert await Outbox.filter(kind="digest").count() == (1 if posted_first else 0)

    await run_job(hypobot, "digests", DIGEST_AT + AFTER_THE_LEASES, owner="replica-2")

    assert len(digests_in_slack(hypobot)) == 1
    assert (await Claim.get(job="digest")).status == "done"
    await assert_each_row_posted_once(hypobot.fake)


@SQLITE_ONLY
async def test_replica_killed_at_random_early_moments_never_loses_or_doubles_a_digest(
    hypobot: Hypobot,
) -> None:
    """SQLite has no lock a test can hold on one row, so kill at random moments instead: up
    to 25 ms after the run is claimed, which lands before the run commits, mid-send or just
    after, on four digest days in a row."""
    days = [DIGEST_AT + timedelta(days=n) for n in range(4)]
    chance = random.Random(20261103)
    async with contextlib.AsyncExitStack() as stack:
        replicas = [
            await stack.enter_async_context(hypobot_process(hypobot, *digests_at(at)))
            for at in days
        ]
        await shipped_bet(hypobot, MONDAY)
        for n, (at, replica) in enumerate(zip(days, replicas, strict=True)):
            await go(replica)
            claimed = Claim.filter(job="digest", period=at.date().isoformat())
            await until(claimed.exists, timeout=25, every=0.001)
            await asyncio.sleep(chance.uniform(0, 0.025))
            await kill(replica)
            left = [(c.status, c.owner) for c in await claimed]
            await asyncio.sleep(0.3)  # a post in flight lands
            await run_job(hypobot, "digests", at + AFTER_THE_LEASES, owner=f"replica-{n}")
            assert len(digests_in_slack(hypobot)) == n + 1, (n, left)
            await assert_each_row_posted_once(hypobot.fake)


# --- mid-outbox-send -------------------------------------------------------------------------

CHANNELS = ("C1", "C2", "C3")


async def _pending_rows(now: datetime) -> int:
    """Cards of new bets and plain notices, due now by the real clock, in three channels."""
    for channel in CHANNELS:
        for n in range(3):
            await stored_bet(channel, n, now)
            await queue.enqueue(Kind.REPORT, "T1", channel, {"text": f"notice {n}"}, now=now)
    # No digest of the real day gets in the way of counting.
    await Channel.all().update(digest_enabled=False)
    return await Outbox.filter(status="pending").count()


async def test_serve_replica_killed_mid_send_then_another_sends_every_row_exactly_once(
    hypobot: Hypobot,
) -> None:
    now = datetime.now(UTC).replace(microsecond=0) - timedelta(seconds=2)
    # Past the lease of anything the first replica claims (60 s from its claim).
    later = now + timedelta(minutes=2)
    serve = {"HOST": "127.0.0.1", "PORT": str(free_port()), "HYPOBOT_SCHEDULER": "on"}
    async with (
        hypobot_process(hypobot, "serve", **serve) as doomed,
        hypobot_process(hypobot, "jobs", "run", "outbox", "--at", later.isoformat()) as second,
    ):
        rows = await _pending_rows(now)
        hypobot.fake.delay["chat.postMessage"] = 1.5
        await go(doomed)
        posts = hypobot.fake.calls_to
        await until(lambda: len(posts("chat.postMessage")) >= 2, timeout=25, every=0.02)
        await kill(doomed)
        await asyncio.sleep(1.8)  # Slack finishes posting what it was sent before the kill
        hypobot.fake.delay.clear()
        assert await Outbox.filter(status="sending").count() > 0  # held by the dead replica
        assert await Outbox.filter(status="sent").count() < rows

        await finish(await go(second))

    assert await Outbox.filter(status="sent").count() == rows
    assert len(hypobot.fake.calls_to("chat.postMessage")) == rows  # none posted twice
    await assert_each_row_posted_once(hypobot.fake)
