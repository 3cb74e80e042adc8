"""Jobs as operators run them: `hypobot jobs run` processes, two at once on PostgreSQL, and
one killed with SIGKILL mid-send then run again. Checked against the fake Slack's record."""

from __future__ import annotations

import asyncio
import os
import signal
import sys
from datetime import UTC, datetime, timedelta

from storage.models import Outbox
from tests.conftest import Hypobot
from tests.jobs_support import shipped_bet

MONDAY = datetime(2026, 11, 2, 10, 0, tzinfo=UTC)
DIGEST_AT = datetime(2026, 11, 3, 9, 30, tzinfo=UTC)


def _env(hypobot: Hypobot) -> dict[str, str]:
    return {
        **os.environ,
        "DATABASE_URL": hypobot.database,
        "SLACK_API_URL": hypobot.fake.base_url,
        "SLACK_BOT_TOKEN": "xoxb-test-token",
        "SLACK_SIGNING_SECRET": "test-signing-secret",
        "LOG_LEVEL": "WARNING",
    }


async def _start(hypobot: Hypobot, *args: str) -> asyncio.subprocess.Process:
    return await asyncio.create_subprocess_exec(
        sys.executable,
        "-m",
        "console.cli",
        "jobs",
        "run",
        *args,
        env=_env(hypobot),
        stdout=asyncio.subprocess.PIPE,
        stderr=asyncio.subprocess.PIPE,
    )


async def _finish(process: asyncio.subprocess.Process) -> bytes:
    out, err = await asyncio.wait_for(process.communicate(), timeout=60)
    assert process.returncode == 0, err.decode()
    return out


def _posted_digests(hypobot: Hypobot) -> list[dict[str, object]]:
    return [
        message
        for message in hypobot.fake.messages.get("C1", [])
        if "digest" in str(message.get("text", "")).lower()
    ]


async def test_two_processes_running_the_same_passes_post_one_digest_and_one_nudge(
    hypobot: Hypobot,
) -> None:
    await shipped_bet(hypobot, MONDAY - timedelta(days=3))
    at = DIGEST_AT.isoformat()
    for job in ("digests", "nudges"):
        first, second = (
            await _start(hypobot, job, "--at", at),
            await _start(hypobot, job, "--at", at),
        )
        await asyncio.gather(_finish(first), _finish(second))
    assert len(_posted_digests(hypobot)) == 1
    nudges = [c for c in hypobot.fake.calls_to("chat.postMessage") if "overdue" in c.params["text"]]
    assert len(nudges) == 1


async def test_sigkill_mid_send_then_rerun_posts_the_digest_exactly_once(
    hypobot: Hypobot,
) -> None:
    await shipped_bet(hypobot, MONDAY)
    hypobot.fake.delay["chat.postMessage"] = 3.0
    process = await _start(hypobot, "digests", "--at", DIGEST_AT.isoformat())
    await hypobot.fake.wait_for("chat.postMessage", count=2, timeout=30)  # card, then digest
    process.send_signal(signal.SIGKILL)
    await process.wait()
    await asyncio.sleep(3.5)  # Slack finishes posting what it was sent
    hypobot.fake.delay.clear()
    assert await Outbox.filter(kind="digest", status="sending").count() == 1
    later = (DIGEST_AT + timedelta(minutes=5)).isoformat()  # the dead sender's lease lapsed
    await _finish(await _start(hypobot, "outbox", "--at", later))
    await _finish(await _start(hypobot, "digests", "--at", later))
    assert len(_posted_digests(hypobot)) == 1
    assert await Outbox.filter(kind="digest", status="sent").count() == 1
