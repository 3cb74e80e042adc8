"""The outbox against a misbehaving Slack: rate limits, server errors, archived channels;
every message ends delivered or recorded failed with its reason, never lost or doubled. And
the outbox's own pace: a channel's burst then one post a second, a workspace's rate, and a
429 that holds back the whole workspace (never another one)."""

from __future__ import annotations

import itertools
from datetime import datetime, timedelta
from typing import Any

from outbox import queue
from outbox.kinds import Kind
from outbox.pacing import Limits
from storage.models import Bet, Outbox
from tests.conftest import Hypobot
from tests.jobs_support import ONE_LINER, run_job


async def _new_bet(hypobot: Hypobot, channel: str = "C1") -> None:
    status, _ = await hypobot.command(f"new {ONE_LINER}", channel_id=channel)
    assert status == 200
    await hypobot.runtime.sender.drain()


async def queued_elsewhere(
    kind: Kind, team_id: str, channel_id: str, payload: dict[str, Any], *, now: datetime
) -> None:
    """A row queued by another replica: this process's sender hears no doorbell for it, and
    sends it when a pass (`deliver`) finds it."""
    await queue.draft(kind, team_id, channel_id, payload=payload, now=now).save()


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
    hypobot.runtime.sender.pacer.limits = Limits()  # Slack's: a post a second per channel
    hypobot.fake.invite("C1")
    hypobot.fake.rate_limit["chat.postMessage"] = 1
    hypobot.fake.retry_after = 1
    now = hypobot.clock()
    for n in range(3):
        await queued_elsewhere(Kind.REPORT, "T1", "C1", {"text": f"notice {n}"}, now=now)
    await hypobot.runtime.sender.deliver(now=now)
    assert [m["text"] for m in hypobot.fake.messages["C1"]] == [f"notice {n}" for n in range(3)]
    calls = hypobot.fake.calls_to("chat.postMessage")
    assert [call.status for call in calls] == [429, 200, 200, 200]  # one 429, then paced
    gaps = [later.at - earlier.at for earlier, later in itertools.pairwise(calls)]
    assert min(gaps) >= 0.95


async def test_a_retry_after_longer_than_a_pass_waits_puts_the_row_back_until_then(
    hypobot: Hypobot,
) -> None:
    hypobot.runtime.sender.most_wait_s = 2
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
    hypobot.runtime.sender.most_wait_s = 0  # a 429 sends the card post to a later pass
    hypobot.fake.rate_limit["chat.postMessage"] = 1
    await _new_bet(hypobot)
    await hypobot.command("start H-1")
    await hypobot.runtime.sender.drain()
    assert hypobot.fake.calls_to("chat.update") == []
    await run_job(hypobot, "outbox", hypobot.clock() + timedelta(seconds=2))
    await run_job(hypobot, "outbox", hypobot.clock() + timedelta(seconds=2))
    assert len(hypobot.fake.messages["C1"]) == 1
    [update] = hypobot.fake.calls_to("chat.update")
    assert "building" in str(update.blocks)


async def test_a_post_refused_as_not_in_channel_even_after_joining_is_recorded_failed(
    hypobot: Hypobot,
) -> None:
    hypobot.fake.fail["chat.postMessage"] = "not_in_channel"
    await _new_bet(hypobot)
    assert (await Outbox.get(kind="card")).status == "failed"
    assert hypobot.fake.calls_to("conversations.join")


# --- pacing ----------------------------------------------------------------------------------


async def _queue_notices(hypobot: Hypobot, channels: list[str], each: int = 1, team: str = "T1"):
    now = hypobot.clock()
    for channel in channels:
        hypobot.fake.invite(channel)
        for n in range(each):
            await queued_elsewhere(Kind.REPORT, team, channel, {"text": f"{channel} {n}"}, now=now)


def _answered(hypobot: Hypobot, status: int) -> int:
    return sum(call.status == status for call in hypobot.fake.calls_to("chat.postMessage"))


async def test_a_channel_posts_its_burst_at_once_then_one_a_second_and_meets_no_429(
    hypobot: Hypobot,
) -> None:
    hypobot.fake.per_channel_rate = 1.0  # Slack's: a burst of 3, then one a second
    hypobot.runtime.sender.pacer.limits = Limits()  # the outbox keeps to the same
    await _queue_notices(hypobot, ["C1"], each=6)
    report = await hypobot.runtime.sender.deliver(now=hypobot.clock())
    assert report.sent == 6 and _answered(hypobot, 429) == 0
    assert [m["text"] for m in hypobot.fake.messages["C1"]] == [f"C1 {n}" for n in range(6)]


async def test_a_workspace_is_paced_to_its_limit_across_channels_and_meets_no_429(
    hypobot: Hypobot,
) -> None:
    hypobot.fake.per_workspace_rate, hypobot.fake.workspace_burst = 10.0, 5
    hypobot.runtime.sender.pacer.limits = Limits(workspace_rate=10.0, workspace_burst=5)
    hypobot.fake.per_channel_rate = 1.0
    channels = [f"C{n}" for n in range(12)]
    await _queue_notices(hypobot, channels)
    report = await hypobot.runtime.sender.deliver(now=hypobot.clock())
    assert report.sent == 12 and _answered(hypobot, 429) == 0
    assert all(len(hypobot.fake.messages[channel]) == 1 for channel in channels)


async def test_the_fake_slack_answers_a_workspace_over_its_limit_with_429_and_retry_after(
    hypobot: Hypobot,
) -> None:
    hypobot.fake.per_workspace_rate, hypobot.fake.workspace_burst = 1.0, 2
    hypobot.runtime.sender.most_wait_s = 0
    hypobot.runtime.sender.pacer.limits = Limits(workspace_rate=100.0, workspace_burst=100)
    await _queue_notices(hypobot, ["C1", "C2", "C3"])
    await hypobot.runtime.sender.deliver(now=hypobot.clock())
    [limited] = [c for c in hypobot.fake.calls_to("chat.postMessage") if c.status == 429]
    assert limited.result == {"ok": False, "error": "ratelimited"}
    assert await Outbox.filter(status="sent").count() == 2


async def test_a_429_holds_back_every_channel_of_the_workspace_for_its_retry_after(
    hypobot: Hypobot,
) -> None:
    sender = hypobot.runtime.sender
    sender.most_wait_s = 0  # a 429 sends the rows to a later pass
    hypobot.fake.rate_limit["chat.postMessage"] = 1
    hypobot.fake.retry_after = 3
    await _queue_notices(hypobot, ["C1"])
    await sender.deliver(now=hypobot.clock())
    await _queue_notices(hypobot, ["C2", "C3"])
    await sender.deliver(now=hypobot.clock())
    assert len(hypobot.fake.calls_to("chat.postMessage")) == 1  # only the 429: C2, C3 wait
    for row in await Outbox.all():
        assert row.status == "pending"
        assert hypobot.clock() < row.next_attempt_at <= hypobot.clock() + timedelta(seconds=3)
    await run_job(hypobot, "outbox", hypobot.clock() + timedelta(seconds=3))
    assert await Outbox.filter(status="sent").count() == 3
    assert _answered(hypobot, 429) == 1


async def test_a_429_in_one_workspace_never_holds_back_another(hypobot: Hypobot) -> None:
    sender = hypobot.runtime.sender
    sender.most_wait_s = 0
    hypobot.fake.rate_limit["chat.postMessage"] = 1
    hypobot.fake.retry_after = 30
    await _queue_notices(hypobot, ["C1"])
    await sender.deliver(now=hypobot.clock())
    await _queue_notices(hypobot, ["C2"])
    await _queue_notices(hypobot, ["C5"], team="T2")
    await sender.deliver(now=hypobot.clock())
    assert (await Outbox.get(team_id="T2")).status == "sent"
    assert {row.status for row in await Outbox.filter(team_id="T1")} == {"pending"}
