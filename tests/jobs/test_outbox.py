"""The outbox against a misbehaving Slack: rate limits, server errors, archived channels;
every message ends delivered or recorded failed with its reason, never lost or doubled."""

from __future__ import annotations

import itertools
from datetime import timedelta

from storage import outbox as outbox_store
from storage.models import Bet, Outbox
from tests.conftest import Hypobot
from tests.jobs_support import ONE_LINER, run_job


async def _new_bet(hypobot: Hypobot, channel: str = "C1") -> None:
    status, _ = await hypobot.command(f"new {ONE_LINER}", channel_id=channel)
    assert status == 200
    await hypobot.runtime.courier.drain()


async def test_rate_limited_post_waits_retry_after_in_the_pass_then_is_sent_once(
    hypobot: Hypobot,
) -> None:
    hypobot.fake.rate_limit["chat.postMessage"] = 1
    hypobot.fake.retry_after = 1
    await _new_bet(hypobot)
    row = await Outbox.get(kind="card")
    assert (row.status, row.last_error) == ("sent", "")
    assert len(hypobot.fake.messages["C1"]) == 1
    limited, posted = hypobot.fake.calls_to("chat.postMessage")
    assert limited.status == 429 and posted.status == 200
    assert posted.at - limited.at >= 1.0  # not before Slack said it may


async def test_a_channel_limited_once_posts_the_rest_of_its_queue_a_second_apart(
    hypobot: Hypobot,
) -> None:
    hypobot.fake.rate_limit["chat.postMessage"] = 1
    hypobot.fake.retry_after = 1
    now = hypobot.clock()
    for n in range(3):
        await outbox_store.enqueue("T1", "C1", "notice", {"text": f"notice {n}"}, now=now)
    await hypobot.runtime.courier.deliver(now=now)
    assert [m["text"] for m in hypobot.fake.messages["C1"]] == [f"notice {n}" for n in range(3)]
    calls = hypobot.fake.calls_to("chat.postMessage")
    assert [call.status for call in calls] == [429, 200, 200, 200]  # one 429, then paced
    gaps = [later.at - earlier.at for earlier, later in itertools.pairwise(calls)]
    assert min(gaps) >= 0.95


async def test_a_retry_after_longer_than_a_pass_waits_puts_the_row_back_until_then(
    hypobot: Hypobot,
) -> None:
    hypobot.runtime.courier.most_wait_s = 2
    hypobot.fake.rate_limit["chat.postMessage"] = 1
    hypobot.fake.retry_after = 4
    await _new_bet(hypobot)
    row = await Outbox.get(kind="card")
    assert row.status == "pending" and row.last_error == "ratelimited"
    assert row.next_attempt_at == hypobot.clock() + timedelta(seconds=4)
    await run_job(hypobot, "outbox", hypobot.clock() + timedelta(seconds=3))
    assert (await Outbox.get(kind="card")).status == "pending"
    await run_job(hypobot, "outbox", hypobot.clock() + timedelta(seconds=1))
    assert (await Outbox.get(kind="card")).status == "sent"
    assert len(hypobot.fake.messages["C1"]) == 1


async def test_server_errors_retry_with_backoff_until_sent(hypobot: Hypobot) -> None:
    hypobot.fake.server_errors["chat.postMessage"] = 3
    await _new_bet(hypobot)
    for _ in range(6):
        await run_job(hypobot, "outbox", hypobot.clock() + timedelta(minutes=5))
    row = await Outbox.get(kind="card")
    assert row.status == "sent"
    assert len(hypobot.fake.messages["C1"]) == 1
    assert (await Bet.get(number=1)).card_ts == row.message_ts


async def test_archived_channel_is_recorded_failed_with_reason(hypobot: Hypobot) -> None:
    hypobot.fake.archived_channels.add("C9")
    await _new_bet(hypobot, channel="C9")
    row = await Outbox.get(kind="card")
    assert (row.status, row.last_error) == ("failed", "is_archived")
    await run_job(hypobot, "outbox", hypobot.clock() + timedelta(hours=1))
    assert hypobot.fake.messages.get("C9", []) == []


async def test_card_updates_wait_for_the_card_post(hypobot: Hypobot) -> None:
    hypobot.runtime.courier.most_wait_s = 0  # a 429 sends the card post to a later pass
    hypobot.fake.rate_limit["chat.postMessage"] = 1
    await _new_bet(hypobot)
    await hypobot.command("start H-1")
    await hypobot.runtime.courier.drain()
    assert hypobot.fake.calls_to("chat.update") == []
    await run_job(hypobot, "outbox", hypobot.clock() + timedelta(seconds=2))
    await run_job(hypobot, "outbox", hypobot.clock() + timedelta(seconds=2))
    assert len(hypobot.fake.messages["C1"]) == 1
    [update] = hypobot.fake.calls_to("chat.update")
    assert "building" in str(update.blocks)


async def test_not_in_channel_tries_joining_then_records_the_failure(hypobot: Hypobot) -> None:
    hypobot.fake.fail["chat.postMessage"] = "not_in_channel"
    await _new_bet(hypobot)
    assert (await Outbox.get(kind="card")).status == "failed"
    assert hypobot.fake.calls_to("conversations.join")
