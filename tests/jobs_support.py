"""Driving jobs in tests: run a pass as if the clock read a moment, and make shipped bets."""

from __future__ import annotations

from datetime import datetime
from typing import Any

from jobs.scheduler import Jobs
from storage.models import Bet
from tests.conftest import Hypobot

ONE_LINER = (
    "We believe a one-click export for admins will cut support tickets. "
    "We'll know when export tickets drop 30%"
)


async def run_job(hypobot: Hypobot, name: str, at: datetime, owner: str = "test") -> dict[str, Any]:
    """One pass of `name` at `at`, then whatever the outbox holds is delivered."""
    hypobot.clock.now = at
    jobs = Jobs(hypobot.runtime.sender, clock=lambda: at, owner=owner)
    return await jobs.run(name, at)


async def shipped_bet(hypobot: Hypobot, at: datetime, **command: Any) -> Bet:
    """A bet created and shipped at `at`, its card posted (so it has a thread)."""
    hypobot.clock.now = at
    _, body = await hypobot.command(f"new {ONE_LINER}", **command)
    number = int(body["text"].split("*H-")[1].split("*")[0])
    await hypobot.command(f"ship H-{number}", **command)
    await hypobot.deliver()
    team = command.get("team_id", "T1")
    return await Bet.get(team_id=team, number=number)


def nudges_for(hypobot: Hypobot, bet: Bet) -> list[Any]:
    """The nudges Slack received in the bet's thread."""
    return [
        call
        for call in hypobot.fake.calls_to("chat.postMessage")
        if call.thread_ts == bet.card_ts and "evidence is overdue" in call.params.get("text", "")
    ]
