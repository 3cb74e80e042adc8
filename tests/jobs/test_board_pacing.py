"""Boards against canvases.edit's limit: 60 boards of one workspace all changing at once,
through a fake Slack that enforces Slack's tier 3 per workspace (a burst, then a steady rate,
429 with Retry-After beyond), end current with at most 2 % of the edits answered 429. Both
databases. Slack's rate (50 edits a minute, a burst of 5, one rewrite of a board every 10 s)
is scaled up 24 times on both sides, so that the test takes seconds: 20 edits a second, a
burst of 5, and the tests' rewrite of a board at most every 0.2 s (bench/board_staleness.py
measures Slack's own figures). With the outbox's canvas pacing off, most edits are 429s."""

from __future__ import annotations

import asyncio
from datetime import UTC, datetime

from storage.models import Bet, Board
from testkit.faults import FaultySlack
from tests.conftest import Clock, Hypobot, eventually, served
from tests.jobs_support import ONE_LINER

BOARDS = 60
EDITS_PER_MINUTE = 50 * 24  # Slack's tier 3, 24 times faster
EDIT_BURST = 5
MOST_LIMITED = 0.02  # of the canvases.edit calls


class RealTime(Clock):
    """The wall clock: a 429's Retry-After and the outbox's schedule run in real time."""

    def __call__(self) -> datetime:
        return datetime.now(UTC)


def channels() -> list[str]:
    return [f"C{n:03d}" for n in range(BOARDS)]


async def canvases_of(hypobot: Hypobot) -> dict[str, str]:
    """Each board's canvas, as the fake Slack holds it now, by channel."""
    boards = await Board.filter(team_id="T1").values_list("channel_id", "canvas_id")
    return {channel: str(hypobot.fake.canvases[canvas]["markdown"]) for channel, canvas in boards}


async def all_at_once(hypobot: Hypobot, command: str) -> None:
    """`command` in every channel at once, as 60 people typing it in the same second."""
    answers = await asyncio.gather(
        *(hypobot.command(command, channel_id=channel) for channel in channels())
    )
    assert {status for status, _ in answers} == {200}, answers


async def until(hypobot: Hypobot, shown: str) -> None:
    """Until every board's canvas shows `shown`."""

    async def current() -> bool:
        await hypobot.deliver()
        canvases = await canvases_of(hypobot)
        return len(canvases) == BOARDS and all(shown in text for text in canvases.values())

    await eventually(current, timeout=60)


async def test_sixty_boards_changing_at_once_end_current_within_canvases_edit_limit(
    database: str, fake_slack: FaultySlack
) -> None:
    fake_slack.canvas_edit_rate = EDITS_PER_MINUTE
    fake_slack.canvas_edit_burst = EDIT_BURST
    limits = {
        "slack_canvas_edits_per_minute": EDITS_PER_MINUTE,
        "slack_canvas_edit_burst": EDIT_BURST,
    }
    async with served(database, fake_slack, RealTime(datetime.now(UTC)), **limits) as hypobot:
        # Turned on at once: 60 canvases made, 60 first rewrites queued together.
        await all_at_once(hypobot, "board")
        await until(hypobot, "# 📋 Bets board")
        # A bet in each channel at once: every board changes.
        await all_at_once(hypobot, f"new {ONE_LINER}")
        await until(hypobot, "## 💡 Proposed (1)")
        keys = dict(await Bet.filter(team_id="T1").values_list("channel_id", "number"))
        for channel, text in (await canvases_of(hypobot)).items():
            key = f"H-{keys[channel]}"
            assert f"\n- **{key}** " in text or f"\n- [{key}](" in text, channel  # its own bet
        edits = hypobot.fake.calls_to("canvases.edit")
        limited = [call for call in edits if call.status == 429]
        assert len(edits) >= 2 * BOARDS
        assert len(limited) <= MOST_LIMITED * len(edits), (len(limited), len(edits))
