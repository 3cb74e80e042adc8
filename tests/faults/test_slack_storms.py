"""The outbox through storms of 429s (Retry-After 1–5 s) and bursts of 5xx from Slack: every
message ends delivered exactly once or recorded failed with its reason, and no message is
retried before Slack said it may be. Passes run at advancing clock moments, never sleeping: the
sender puts a rate-limited row back for a later pass, as it does in production when Slack
asks for a longer wait than a pass waits out (tests/test_outbox.py covers the waiting)."""

from __future__ import annotations

import itertools
import random
from collections import defaultdict
from dataclasses import dataclass, field
from datetime import datetime, timedelta

import pytest

from bets.lifecycle import Move, MoveRequest
from outbox import queue
from outbox import rows as outbox_store
from outbox.kinds import Kind
from outbox.pacing import Limits
from outbox.sender import MAX_ATTEMPTS
from storage.models import Bet, Outbox
from tests.conftest import Hypobot
from tests.faults.conftest import assert_each_row_posted_once, outbox_id_of, stored_bet
from tests.jobs_support import run_job
from tests.stored import moved

LIVE = ("C1", "C2", "C4")
ARCHIVED = "C3"
METHODS = ("chat.postMessage", "chat.update")


async def _queue_messages(hypobot: Hypobot, channels: tuple[str, ...] = (*LIVE, ARCHIVED)) -> None:
    """Cards (posts, then updates waiting for their post) and notices in `channels`, queued
    as by another replica: the passes the test runs send them."""
    hypobot.runtime.sender.stop_hearing()
    now = hypobot.clock()
    for channel in channels:
        for n in range(3 if channel != ARCHIVED else 1):
            bet = await stored_bet(channel, n, now)
            if n == 0:  # a second card row: an update that must wait for the post
                await moved("T1", bet.id, MoveRequest(Move.START), now=now)
            await queue.enqueue(
                Kind.REPORT, "T1", channel, {"text": f"notice {n} in {channel}"}, now=now
            )
    hypobot.fake.archived_channels.add(ARCHIVED)


@dataclass
class Storm:
    """What the fake Slack does in one pass, and what each attempt then met."""

    server_errors: dict[str, int] = field(default_factory=dict)
    rate_limit: dict[str, int] = field(default_factory=dict)
    retry_after: int = 1
    status: int = 500

    def arm(self, hypobot: Hypobot) -> None:
        fake = hypobot.fake
        fake.server_errors, fake.rate_limit = dict(self.server_errors), dict(self.rate_limit)
        fake.retry_after, fake.server_error_status = self.retry_after, self.status

    def outcomes(self, methods: list[str]) -> list[str]:
        """The fake answers each method's calls in arrival order: the configured 5xx first,
        then the 429s, then normally."""
        left = {"5xx": dict(self.server_errors), "429": dict(self.rate_limit)}
        answered = []
        for method in methods:
            for outcome in ("5xx", "429"):
                if left[outcome].get(method, 0) > 0:
                    left[outcome][method] -= 1
                    answered.append(outcome)
                    break
            else:
                answered.append("answered")
        return answered


def _attempt_key(call: object, cards: dict[str, int]) -> str:
    """Posts carry their outbox row; an update is known by the card it changes."""
    params = call.params  # type: ignore[attr-defined]
    if call.method == "chat.postMessage":  # type: ignore[attr-defined]
        return f"row {outbox_id_of(params)}"
    return f"card of bet {cards.get(params.get('ts'), '?')}"


async def _drive(
    hypobot: Hypobot,
    storms: list[Storm],
    chance: random.Random,
    *,
    steps: tuple[float, float] = (1, 6),
) -> dict[str, list[tuple[datetime, str, int]]]:
    """Run outbox passes, a storm per pass while they last, then calm, until nothing is due.
    Checks after each pass that nothing was tried again before its Retry-After.
    Here Slack's storms alone hold messages back: the outbox's own pace (a post a second per
    channel, tests/jobs/test_outbox.py) would make each pass wait in real time while the
    clock stands still."""
    hypobot.runtime.sender.most_wait_s = 0
    hypobot.runtime.sender.pacer.limits = Limits(1000, 1000, 1000, 1000)
    attempts: dict[str, list[tuple[datetime, str, int]]] = defaultdict(list)
    at = hypobot.clock()
    passes = 0
    while passes < 80:
        storm = storms[passes] if passes < len(storms) else Storm()
        storm.arm(hypobot)
        seen = len(hypobot.fake.calls)
        await run_job(hypobot, "outbox", at, owner=f"pass-{passes}")
        passes += 1
        calls = [c for c in hypobot.fake.calls[seen:] if c.method in METHODS]
        cards = {b.card_ts: b.id for b in await Bet.filter(card_ts__isnull=False)}
        for call, outcome in zip(calls, storm.outcomes([c.method for c in calls]), strict=True):
            attempts[_attempt_key(call, cards)].append((at, outcome, storm.retry_after))
        for waiting in await Outbox.filter(status="pending"):
            assert waiting.next_attempt_at > at, waiting.id  # whatever was due was taken
            if waiting.last_error == "ratelimited":  # Slack said 1–5 s: no longer than that
                assert waiting.next_attempt_at <= at + timedelta(seconds=5), waiting.id
        due = await outbox_store.next_due_at()
        if due is None and not await Outbox.filter(status="sending").exists():
            break
        # The next pass a few seconds on, or later still when nothing is due before then.
        at = max(at + timedelta(seconds=chance.uniform(*steps)), due or at)
    for key, tries in attempts.items():
        for (when, outcome, retry_after), (later, _, _) in itertools.pairwise(tries):
            if outcome == "429":
                assert later >= when + timedelta(seconds=retry_after), (key, tries)
    return attempts


async def _assert_settled() -> None:
    for row in await Outbox.all():
        if row.channel_id == ARCHIVED:
            assert (row.status, row.last_error) == ("failed", "is_archived"), row.id
        elif row.status == "failed":
            assert row.last_error.startswith(f"gave up after {MAX_ATTEMPTS}"), row.last_error
        else:
            assert row.status == "sent", (row.id, row.status, row.last_error)


@pytest.mark.parametrize("seed", [5, 429])
async def test_429_storms_and_5xx_bursts_end_with_each_message_sent_once_or_failed_with_reason(
    hypobot: Hypobot, seed: int
) -> None:
    chance = random.Random(seed)
    await _queue_messages(hypobot)
    storms = [
        Storm(
            server_errors={
                "chat.postMessage": chance.randint(0, 3),
                "chat.update": chance.randint(0, 1),
            },
            rate_limit={
                "chat.postMessage": chance.randint(1, 6),
                "chat.update": chance.randint(0, 2),
            },
            retry_after=chance.randint(1, 5),
            status=chance.choice((500, 502, 503, 504)),
        )
        for _ in range(10)
    ]
    attempts = await _drive(hypobot, storms, chance)
    met = {outcome for tries in attempts.values() for _, outcome, _ in tries}
    assert met == {"5xx", "429", "answered"}  # the storms really hit
    await _assert_settled()
    await assert_each_row_posted_once(hypobot.fake)
    # Per live channel: three card posts, one card update, three notices.
    assert await Outbox.filter(status="sent").count() == 3 * 7
    # Every update reached its card: the cards show "building".
    for bet in await Bet.filter(state="building", channel_id__in=list(LIVE)):
        [card] = [m for m in hypobot.fake.messages[bet.channel_id] if m["ts"] == bet.card_ts]
        assert "building" in str(card["blocks"])
    assert not hypobot.fake.block_errors


async def test_a_5xx_outage_longer_than_the_retries_records_each_message_failed_with_reason(
    hypobot: Hypobot,
) -> None:
    await _queue_messages(hypobot, ("C1",))
    outage = Storm(server_errors={"chat.postMessage": 10_000, "chat.update": 10_000}, status=503)
    chance = random.Random(503)
    # Minutes between passes: the outage outlasts every retry (backoff up to 15 minutes).
    await _drive(hypobot, [outage] * 80, chance, steps=(60, 300))
    rows = await Outbox.all()
    assert len(rows) == 7
    for row in rows:
        assert (row.status, row.attempts) == ("failed", MAX_ATTEMPTS), row.id
        assert row.last_error == f"gave up after {MAX_ATTEMPTS}: server error 503", row.id
    assert hypobot.fake.messages == {}
