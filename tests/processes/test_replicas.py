"""Two `hypobot serve` processes on one PostgreSQL database, as docker-compose.yml runs them:
either answers any request, bets are numbered without gaps or twins, the schedulers on both
post one nudge and one digest between them, and SIGTERM shuts a replica down gracefully.

The processes use the real clock: the data is arranged so that a nudge and a digest are due
now (a bet shipped ten days ago, working hours and a digest time around the present)."""

from __future__ import annotations

import asyncio
import json
import os
import signal
import socket
import sys
import time
from collections.abc import AsyncIterator, Awaitable, Callable
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any
from zoneinfo import ZoneInfo

import aiohttp
import pytest

from console.fakeslack import FakeSlack
from storage.models import Bet, Outbox
from testkit.signing import SIGNING_SECRET, SlackClient
from tests.conftest import Hypobot
from tests.jobs_support import ONE_LINER, nudges_for
from tests.slack.test_metrics_logs import metric

# Replicas share PostgreSQL (as in docker-compose.yml). Each test starts processes: slow.
pytestmark = [
    pytest.mark.parametrize("database", ["postgres"], indirect=True),
    pytest.mark.slow,
]

REPO = Path(__file__).resolve().parents[2]
START_TIMEOUT_S = 30.0
STOP_TIMEOUT_S = 30.0  # the stop timeout docker-compose.yml gives (server/http.py: ≤ 25 s)


def _free_port() -> int:
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        return int(probe.getsockname()[1])


def _env(database: str, fake: FakeSlack, port: int) -> dict[str, str]:
    """The environment of a replica: only what the test sets (no developer's .env or SLACK_*)."""
    inherited = {
        key: value
        for key, value in os.environ.items()
        if not key.startswith(("SLACK_", "HYPOBOT_", "LOG_", "DATABASE_"))
        and key not in ("HOST", "PORT", "DEFAULT_TIMEZONE")
    }
    return {
        **inherited,
        "PYTHONPATH": str(REPO),
        "DATABASE_URL": database,
        "SLACK_API_URL": fake.base_url,
        "SLACK_BOT_TOKEN": "xoxb-test-token",
        "SLACK_SIGNING_SECRET": SIGNING_SECRET,
        "HOST": "127.0.0.1",
        "PORT": str(port),
        "HYPOBOT_SCHEDULER": "on",
        "LOG_LEVEL": "INFO",
        "LOG_FORMAT": "json",
    }


@dataclass
class Replica:
    """One `hypobot serve` process; its JSON log lines go to a file."""

    name: str
    process: asyncio.subprocess.Process
    url: str
    log_path: Path

    def logs(self) -> list[dict[str, Any]]:
        lines = []
        for line in self.log_path.read_text().splitlines():
            try:
                lines.append(json.loads(line))
            except ValueError:
                lines.append({"event": "(not json)", "text": line})
        return lines

    def events(self, name: str) -> list[dict[str, Any]]:
        return [line for line in self.logs() if line.get("event") == name]

    def replica_id(self) -> str:
        [started] = self.events("server.started")
        return str(started["replica"])

    async def stop(self) -> int:
        """SIGTERM, then wait (bounded) for the exit code."""
        if self.process.returncode is None:
            self.process.send_signal(signal.SIGTERM)
        return await asyncio.wait_for(self.process.wait(), timeout=STOP_TIMEOUT_S)

    def tail(self) -> str:
        return self.log_path.read_text()[-4000:]


Launch = Callable[[str], Awaitable[Replica]]


@pytest.fixture
async def launch(
    database: str, fake_slack: FakeSlack, tmp_path: Path
) -> AsyncIterator[Callable[..., Awaitable[Replica]]]:
    """Start `hypobot serve` replicas on free ports; each is ready (/readyz 200) when returned.
    Whatever is still running at the end gets SIGTERM, then SIGKILL."""
    started: list[Replica] = []

    async def start(name: str) -> Replica:
        port = _free_port()
        log_path = tmp_path / f"{name}.log"
        with log_path.open("wb") as log_file:
            process = await asyncio.create_subprocess_exec(
                sys.executable,
                "-m",
                "console.cli",
                "serve",
                env=_env(database, fake_slack, port),
                cwd=tmp_path,
                stdout=asyncio.subprocess.DEVNULL,
                stderr=log_file,
            )
        replica = Replica(name, process, f"http://127.0.0.1:{port}", log_path)
        started.append(replica)
        await _until_ready(replica)
        return replica

    yield start
    await asyncio.gather(*(_stop_or_kill(replica) for replica in started))


async def _stop_or_kill(replica: Replica) -> None:
    try:
        await replica.stop()
    except TimeoutError:
        replica.process.kill()
        await replica.process.wait()


async def _until_ready(replica: Replica) -> None:
    deadline = time.monotonic() + START_TIMEOUT_S
    async with aiohttp.ClientSession() as session:
        while time.monotonic() < deadline:
            if replica.process.returncode is not None:
                raise AssertionError(f"{replica.name} exited early:\n{replica.tail()}")
            try:
                async with session.get(replica.url + "/readyz") as response:
                    if response.status == 200 and replica.events("server.started"):
                        return
            except aiohttp.ClientError:
                pass
            await asyncio.sleep(0.1)
    raise AssertionError(f"{replica.name} not ready in {START_TIMEOUT_S}s:\n{replica.tail()}")


@pytest.fixture
async def session() -> AsyncIterator[aiohttp.ClientSession]:
    async with aiohttp.ClientSession() as made:
        yield made


async def _command(
    client: SlackClient, fake: FakeSlack, text: str, **kw: Any
) -> tuple[int, dict[str, Any]]:
    status, body = await client.command(text, response_url=fake.response_url("command"), **kw)
    return status, body if isinstance(body, dict) else {"text": body}


async def _scrape(session: aiohttp.ClientSession, replica: Replica) -> str:
    async with session.get(replica.url + "/metrics") as response:
        assert response.status == 200
        return await response.text()


# --- serving ---------------------------------------------------------------------------------


async def test_two_replicas_share_one_database_and_number_bets_without_gaps_or_twins(
    launch: Launch, fake_slack: FakeSlack, session: aiohttp.ClientSession
) -> None:
    a, b = await asyncio.gather(launch("a"), launch("b"))
    for replica in (a, b):
        async with session.get(replica.url + "/readyz") as response:
            assert response.status == 200
    clients = [SlackClient(a.url, session), SlackClient(b.url, session)]

    replies = await asyncio.gather(
        *(
            _command(clients[n % 2], fake_slack, f"new {ONE_LINER}", user_id=f"U{n}")
            for n in range(30)
        )
    )

    # On a 2-core machine the slowest of these acks can pass Bolt's 3 s (it then answers 404);
    # the listener still finishes, so the numbering is what this part is about.
    assert all(status in (200, 404) for status, _ in replies), replies
    deadline = time.monotonic() + 10
    while await Bet.filter(team_id="T1").count() < 30 and time.monotonic() < deadline:
        await asyncio.sleep(0.1)
    numbers = sorted(bet.number for bet in await Bet.filter(team_id="T1"))
    assert numbers == list(range(1, 31))
    # A bet created through replica A moves through replica B.
    created_by_a = await Bet.get(team_id="T1", creator_id="U0")
    status, body = await _command(clients[1], fake_slack, f"start H-{created_by_a.number}")
    assert status == 200, body
    assert (await Bet.get(id=created_by_a.id)).state == "building"


# --- the schedulers on both replicas -----------------------------------------------------------


def _a_zone_at_midday(now: datetime) -> str:
    """A zone whose local time is far from midnight now, so working hours 00:00-23:59 and a
    digest time a minute ago fall on the same local day."""
    return "UTC" if 2 <= now.hour < 22 else "Asia/Tokyo"


async def _due_now(hypobot: Hypobot) -> Bet:
    """In the real present: channel C1's digest is due, and H-1 was shipped ten days ago."""
    now = datetime.now(UTC)
    hypobot.clock.now = now
    zone = _a_zone_at_midday(now)
    digest_at = (now.astimezone(ZoneInfo(zone)) - timedelta(minutes=1)).strftime("%H:%M")
    status, body = await hypobot.command(
        f"settings hours 00:00-23:59 days daily digest {digest_at} {zone} daily"
    )
    assert status == 200, body
    status, body = await hypobot.command(f"new {ONE_LINER}")
    assert status == 200 and "H-1" in body["text"], body
    await hypobot.command("ship H-1")
    await hypobot.deliver()
    long_ago = now - timedelta(days=10)
    await Bet.filter(team_id="T1", number=1).update(created_at=long_ago, shipped_at=long_ago)
    hypobot.fake.reset()
    return await Bet.get(team_id="T1", number=1)


def _digests(fake: FakeSlack) -> list[Any]:
    return [
        call
        for call in fake.calls_to("chat.postMessage")
        if call.channel == "C1" and not call.thread_ts and "digest" in (call.text or "").lower()
    ]


async def _until(check: Callable[[], bool], timeout: float, what: str) -> None:
    deadline = time.monotonic() + timeout
    while not check():
        if time.monotonic() > deadline:
            raise AssertionError(f"{what}: still not true after {timeout}s")
        await asyncio.sleep(0.1)


async def test_schedulers_on_two_replicas_post_one_nudge_and_one_digest(
    hypobot: Hypobot, launch: Launch, session: aiohttp.ClientSession
) -> None:
    bet = await _due_now(hypobot)

    a, b = await asyncio.gather(launch("a"), launch("b"))

    # Both replicas run their first nudge and digest passes on start; wait until both have.
    def passes_done() -> bool:
        return all(
            {line.get("job") for line in replica.events("job.ran")} >= {"nudges", "digests"}
            for replica in (a, b)
        )

    await _until(passes_done, 20, "a nudge and a digest pass on both replicas")
    await _until(
        lambda: len(_digests(hypobot.fake)) >= 1 and len(nudges_for(hypobot, bet)) >= 1,
        10,
        "a digest and a nudge posted",
    )
    assert len(_digests(hypobot.fake)) == 1
    assert len(nudges_for(hypobot, bet)) == 1
    scraped = [await _scrape(session, replica) for replica in (a, b)]
    for job in ("nudge", "digest"):
        taken = sum(
            metric(text, "hypobot_claims_total", job=job, result="taken") for text in scraped
        )
        assert taken == 1, (job, taken)
    lagged = sum(metric(text, "hypobot_job_lag_seconds_count", job="digest") for text in scraped)
    assert lagged == 1
    for text in scraped:
        assert metric(text, "hypobot_job_runs_total", job="digests", result="ok") >= 1
        assert metric(text, "hypobot_outbox_rows", status="sent") >= 3  # card, nudge, digest


# --- graceful shutdown ---------------------------------------------------------------------------


async def _refuses_connections(url: str) -> bool:
    host, port = url.removeprefix("http://").split(":")
    try:
        _, writer = await asyncio.open_connection(host, int(port))
    except ConnectionRefusedError:
        return True
    writer.close()
    await asyncio.sleep(0.05)
    return False


async def test_sigterm_finishes_in_flight_work_and_exits_0(
    launch: Launch, fake_slack: FakeSlack, session: aiohttp.ClientSession
) -> None:
    replica = await launch("a")
    fake_slack.delay.update({"chat.postMessage": 2.0, "users.info": 2.0})
    client = SlackClient(replica.url, session)
    status, body = await _command(client, fake_slack, f"new {ONE_LINER}")
    assert status == 200 and "H-1" in body["text"], body  # acked; the card goes out slowly
    # Someone who is neither owner nor admin: Hypobot asks Slack (slowly) before it answers.
    kill = asyncio.create_task(_command(client, fake_slack, "kill H-1 superseded", user_id="U9"))
    await fake_slack.wait_for("users.info", timeout=5)

    replica.process.send_signal(signal.SIGTERM)
    signalled = time.monotonic()
    refused = False
    while not refused and time.monotonic() - signalled < 3:
        refused = await _refuses_connections(replica.url)
    assert refused, "still accepting connections 3 s after SIGTERM"
    assert replica.process.returncode is None  # … while the request in flight is pending
    status, body = await asyncio.wait_for(kill, timeout=10)
    exit_code = await asyncio.wait_for(replica.process.wait(), timeout=STOP_TIMEOUT_S)
    stopped_in = time.monotonic() - signalled

    assert status == 200 and body["text"], body  # the request in flight got its answer
    assert exit_code == 0, replica.tail()
    assert stopped_in < 10, stopped_in
    # The card's slow delivery, started after the ack, finished before the process exited.
    assert await Outbox.filter(kind="card", status="sent").count() == 1
    assert len(fake_slack.calls_to("chat.postMessage")) == 1
    steps = [
        line["event"]
        for line in replica.logs()
        if str(line.get("event", "")).startswith(("shutdown.", "server.stopped"))
    ]
    assert steps == [
        "shutdown.started",
        "shutdown.http_stopped",
        "shutdown.work_finished",
        "shutdown.scheduler_stopped",
        "shutdown.sender_stopped",
        "shutdown.database_closed",
        "server.stopped",
    ]
    [finished] = replica.events("shutdown.work_finished")
    [http_stopped] = replica.events("shutdown.http_stopped")
    assert finished["unfinished"] == 0
    assert http_stopped["elapsed_s"] < 5  # the request finished; aiohttp did not cut it off
