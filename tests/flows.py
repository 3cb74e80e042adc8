"""Steps the end-to-end Slack tests share: a bet whose card is in the channel, and waiting
for listeners that keep working after they have acked."""

from __future__ import annotations

import asyncio
from typing import Any

from storage.models import Bet, Event, Evidence, Outbox
from tests.conftest import Hypobot

ONE_LINER = (
    "We believe a one-click export for admins will cut support tickets. "
    "We'll know when export tickets drop 30% within 10 days"
)
# Commands that take a fresh bet H-1 to each state.
_ROUTE = {
    "proposed": (),
    "building": ("start H-1",),
    "shipped": ("ship H-1",),
    "validated": ("ship H-1", "validate H-1 tickets fell 35%"),
    "killed": ("kill H-1 superseded by the API",),
}
# Bolt runs a listener that acks early as a task with this name (slack_bolt AsyncioListenerRunner).
_BOLT_LISTENER_TASK = "run_ack_function_asynchronously"


def _running_listeners() -> list[asyncio.Task[Any]]:
    return [
        task
        for task in asyncio.all_tasks()
        if not task.done() and _BOLT_LISTENER_TASK in getattr(task.get_coro(), "__qualname__", "")
    ]


async def settle(hypobot: Hypobot) -> None:
    """Wait until every listener has finished its work after the ack, then flush the outbox."""
    async with asyncio.timeout(10):
        while running := _running_listeners():
            await asyncio.wait(running)
    await hypobot.deliver()


async def posted_bet(
    hypobot: Hypobot, state: str = "proposed", *, team_id: str = "T1", user_id: str = "U1"
) -> Bet:
    """Bet H-1 of `team_id`, owned by `user_id`, in `state`, with its card posted in C1.

    The fake's record of calls is cleared afterwards, so a test sees only what it caused.
    """
    for text in (f"new {ONE_LINER}", *_ROUTE[state]):
        status, body = await hypobot.command(text, team_id=team_id, user_id=user_id)
        assert status == 200, body
    await hypobot.deliver()
    assert not hypobot.fake.block_errors
    hypobot.fake.reset()
    bet = await Bet.get(team_id=team_id, number=1)
    assert bet.state == state and bet.card_ts is not None
    return bet


def action_ids(blocks: list[dict[str, Any]] | None) -> list[str]:
    """The action_id of every button in `blocks`, in order."""
    return [
        element["action_id"]
        for block in blocks or []
        if block.get("type") == "actions"
        for element in block["elements"]
    ]


async def row_counts() -> tuple[int, int, int, int]:
    """How many bets, events, pieces of evidence and outbox rows there are, all workspaces."""
    return (
        await Bet.all().count(),
        await Event.all().count(),
        await Evidence.all().count(),
        await Outbox.all().count(),
    )


def texts(blocks: Any) -> str:
    """Every text string inside Block Kit `blocks`, one a line (mrkdwn as Slack receives it)."""
    found: list[str] = []

    def walk(node: Any) -> None:
        if isinstance(node, dict):
            for key, value in node.items():
                if key == "text" and isinstance(value, str):
                    found.append(value)
                else:
                    walk(value)
        elif isinstance(node, list):
            for item in node:
                walk(item)

    walk(blocks)
    return "\n".join(found)


def said(call: Any) -> str:
    """A call's notification text and all the text of its blocks."""
    return f"{call.params.get('text') or ''}\n{texts(call.blocks)}"


def digest_of(hypobot: Any) -> str:
    """The text of the one digest Hypobot posted."""
    [digest] = [
        call
        for call in hypobot.fake.calls_to("chat.postMessage")
        if "Hypobot digest" in str(call.params.get("text", ""))
    ]
    return said(digest)
