"""Shared fixtures: a real database per test (SQLite file and PostgreSQL), a fixed clock,
the fake Slack Web API, and Hypobot itself served on loopback."""

from __future__ import annotations

import asyncio
from collections.abc import AsyncIterator, Iterator
from contextlib import asynccontextmanager
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

import aiohttp
import pytest

from bot.runtime import Runtime
from console.fakeslack import FakeSlack, serve_on_loopback
from ops.settings import Settings
from server.process import assemble
from storage import db
from testkit.faults import FaultySlack, serve_faulty_slack
from testkit.signing import SIGNING_SECRET, SlackClient
from tests.databases import Templates, drop_database, fresh_database

DATABASES = ("sqlite", "postgres")


@pytest.fixture(scope="session")
def templates(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Templates]:
    made = Templates(tmp_path_factory.mktemp("templates"))
    yield made
    made.drop()


@pytest.fixture(params=DATABASES)
async def database(
    request: pytest.FixtureRequest, templates: Templates, tmp_path: Path
) -> AsyncIterator[str]:
    """A connected, migrated, empty database of each kind; yields its URL."""
    url = await fresh_database(request.param, templates, tmp_path)
    await db.connect(url, upgrade=False)
    try:
        yield url
    finally:
        await db.disconnect()
        await drop_database(url)


class Clock:
    """A clock tests move by hand."""

    def __init__(self, start: datetime) -> None:
        self.now = start

    def __call__(self) -> datetime:
        return self.now

    def advance(self, **delta: float) -> datetime:
        self.now += timedelta(**delta)
        return self.now


@pytest.fixture
def clock() -> Clock:
    return Clock(datetime(2026, 11, 2, 10, 0, tzinfo=UTC))  # a Monday, 10:00 UTC


# --- Slack: a fake Web API on loopback and Hypobot served on loopback ----------------------


@pytest.fixture
async def fake_slack() -> AsyncIterator[FaultySlack]:
    async with serve_faulty_slack() as fake:
        yield fake


@dataclass
class Hypobot:
    """Hypobot served over HTTP on loopback, talking to the fake Slack."""

    url: str
    fake: FaultySlack
    slack: SlackClient
    runtime: Runtime
    clock: Clock
    database: str

    async def command(self, text: str, **kw: Any) -> tuple[int, dict[str, Any]]:
        """Send a signed slash command; a plain-text ack comes back as {"text": …}."""
        kw.setdefault("response_url", self.fake.response_url("command"))
        status, body = await self.slack.command(text, **kw)
        return status, body if isinstance(body, dict) else {"text": body}

    async def action(self, action_id: str, value: str, **kw: Any) -> tuple[int, Any]:
        kw.setdefault("response_url", self.fake.response_url(action_id))
        return await self.slack.action(action_id, value, **kw)

    async def deliver(self) -> None:
        """Let background work finish, then send whatever the outbox holds now."""
        await asyncio.sleep(0)
        await self.runtime.sender.drain()
        await self.runtime.sender.deliver(now=self.clock())


def hypobot_settings(fake: FakeSlack, database: str, **overrides: Any) -> Settings:
    values: dict[str, Any] = {
        "slack_bot_token": "xoxb-test-token",
        "slack_signing_secret": SIGNING_SECRET,
        "slack_api_url": fake.base_url,
        "database_url": database,
        "hypobot_admins": frozenset({"UADMIN"}),
        # The fake enforces no rate limit unless a test sets one, and the outbox's own pace
        # (a post a second per channel) would only make tests wait in real time; the tests of
        # pacing (tests/jobs/test_outbox.py) set Slack's limits.
        "slack_channel_post_burst": 1000,
        "slack_workspace_post_burst": 1000,
        # Boards: a rewrite at most every 0.2 s instead of 10 s, for the same reason; the
        # tests of coalescing set their own.
        "hypobot_board_every_s": 0.2,
    }
    return Settings(**(values | overrides))


@asynccontextmanager
async def served(
    database: str, fake: FaultySlack, clock: Clock, **overrides: Any
) -> AsyncIterator[Hypobot]:
    """Hypobot as `hypobot serve` mounts it: Slack at /slack/events, the API at /api/v1."""
    process = assemble(hypobot_settings(fake, database, **overrides), clock=clock)
    runtime = process.runtime
    await runtime.warm_up()
    application = process.web_app()
    async with serve_on_loopback(application) as url, aiohttp.ClientSession() as session:
        yield Hypobot(url, fake, SlackClient(url, session), runtime, clock, database)
        await runtime.sender.drain()
        await runtime.close()


@pytest.fixture
async def hypobot(database: str, fake_slack: FaultySlack, clock: Clock) -> AsyncIterator[Hypobot]:
    async with served(database, fake_slack, clock) as app:
        yield app


async def eventually(check: Any, timeout: float = 5.0) -> None:
    """Wait until the async `check()` is truthy: for work Bolt does after its ack (events)."""
    deadline = asyncio.get_running_loop().time() + timeout
    while not await check():
        if asyncio.get_running_loop().time() > deadline:
            raise AssertionError(f"still false after {timeout}s: {check.__name__}")
        await asyncio.sleep(0.02)


# --- kinds ---------------------------------------------------------------------------------

SLOW_KINDS = ("processes", "faults")  # start processes, kill them, or storm the app


def pytest_collection_modifyitems(items: list[pytest.Item]) -> None:
    """Tests under tests/processes/ and tests/faults/ are marked `slow`:
    `pytest -m "not slow"` runs the rest in about a minute."""
    for item in items:
        if any(kind in item.path.parts for kind in SLOW_KINDS):
            item.add_marker(pytest.mark.slow)
