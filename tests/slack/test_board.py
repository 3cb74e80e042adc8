"""The board: `/hypothesis board` keeps a channel's bets in its canvas, current after every
change from any surface, on both databases, against the fake Slack's canvases."""

from __future__ import annotations

import asyncio
import re
from datetime import UTC, datetime, timedelta

from bot.blocks import ids
from outbox.kinds import Kind, board_lane
from storage.models import Board, Event, Outbox
from tests.conftest import Hypobot, eventually
from tests.flows import posted_bet, settle
from tests.jobs_support import ONE_LINER, run_job

CHANNEL = "C1"


async def board_text(hypobot: Hypobot, channel: str = CHANNEL) -> str:
    board = await Board.get(team_id="T1", channel_id=channel)
    return str(hypobot.fake.canvases[board.canvas_id]["markdown"])


async def board_on(hypobot: Hypobot, channel: str = CHANNEL) -> str:
    status, body = await hypobot.command("board", channel_id=channel)
    assert status == 200, body
    await settle(hypobot)
    return str(body["text"])


def edits(hypobot: Hypobot, channel: str = CHANNEL) -> list[dict]:
    canvas = hypobot.fake.channel_canvas(channel)
    return list(hypobot.fake.canvases[canvas]["edits"]) if canvas else []


async def shows(hypobot: Hypobot, text: str, channel: str = CHANNEL) -> None:
    async def there() -> bool:
        await hypobot.deliver()
        return text in await board_text(hypobot, channel)

    await eventually(there, timeout=10)


# --- turning it on and off --------------------------------------------------------------------


async def test_board_makes_the_channels_canvas_posts_its_link_once_and_lists_the_bets(
    hypobot: Hypobot,
) -> None:
    await posted_bet(hypobot, "shipped")
    answer = await board_on(hypobot)
    canvas = hypobot.fake.channel_canvas(CHANNEL)
    assert canvas is not None
    assert f"https://slack.com/docs/T1/{canvas}" in answer and "this channel's canvas" in answer
    await shows(hypobot, "## ⏳ Awaiting feedback (1)")
    text = await board_text(hypobot)
    assert "A one\\-click export" not in text and "A one-click export" in text
    assert "![](@U1)" in text and "_updated Mon 2 Nov, 10:00 UTC (UTC)_" in text
    notices = [m for m in hypobot.fake.messages[CHANNEL] if "turned on the bets board" in m["text"]]
    assert len(notices) == 1
    again = await board_on(hypobot)
    assert "on already" in again
    assert (
        len([m for m in hypobot.fake.messages[CHANNEL] if "turned on the bets" in m["text"]]) == 1
    )
    assert await Event.filter(kind="board").count() == 1


async def test_a_channel_with_a_canvas_of_its_own_gets_a_board_canvas_shared_with_it(
    hypobot: Hypobot,
) -> None:
    hypobot.fake.invite(CHANNEL)
    theirs = hypobot.fake.add_canvas(CHANNEL, "# Team notes")
    answer = await board_on(hypobot)
    board = await Board.get(team_id="T1", channel_id=CHANNEL)
    assert board.canvas_id != theirs and not board.channel_canvas
    assert "a canvas shared with this channel" in answer
    canvas = hypobot.fake.canvases[board.canvas_id]
    assert canvas["access"]["channels"] == {CHANNEL: "read"}
    assert hypobot.fake.canvases[theirs]["markdown"] == "# Team notes"  # theirs untouched
    await shows(hypobot, "# 📋 Bets board")


async def test_where_canvases_are_unavailable_board_says_why_and_changes_nothing(
    hypobot: Hypobot,
) -> None:
    hypobot.fake.canvases_disabled = True
    answer = await board_on(hypobot)
    assert "canvases are turned off in this workspace" in answer
    assert "Nothing was changed" in answer
    assert await Board.all().count() == 0 and hypobot.fake.canvases == {}
    hypobot.fake.canvases_disabled = False
    hypobot.fake.free_team = True
    answer = await board_on(hypobot)
    assert "Slack plan has no channel canvases" in answer
    assert await Board.all().count() == 0


async def test_a_private_channel_needs_an_invite_then_gets_its_board(hypobot: Hypobot) -> None:
    hypobot.fake.private_channels.add("G1")
    answer = await board_on(hypobot, "G1")
    assert "type `/invite @Hypobot` here first" in answer
    assert await Board.all().count() == 0
    hypobot.fake.invite("G1")
    answer = await board_on(hypobot, "G1")
    assert "The board is on" in answer
    await shows(hypobot, "# 📋 Bets board", "G1")


async def test_board_off_stops_updating_and_leaves_the_canvas(hypobot: Hypobot) -> None:
    await posted_bet(hypobot, "proposed")
    await board_on(hypobot)
    await shows(hypobot, "## 💡 Proposed (1)")
    _, body = await hypobot.command("board off")
    assert "The board is off" in body["text"]
    await hypobot.command("start H-1")
    await settle(hypobot)
    text = await board_text(hypobot)
    assert "## 💡 Proposed (1)" in text  # as it was
    _, body = await hypobot.command("board off")
    assert "off already" in body["text"]
    assert "The board is on" in await board_on(hypobot)  # again, in the same canvas
    await shows(hypobot, "## 🛠️ Building (1)")


async def test_a_deleted_canvas_turns_the_board_off_and_tells_its_owner_once(
    hypobot: Hypobot,
) -> None:
    await posted_bet(hypobot, "proposed")
    await board_on(hypobot)
    hypobot.fake.delete_canvas(hypobot.fake.channel_canvas(CHANNEL) or "")
    for move in ("start H-1", "ship H-1"):
        await hypobot.command(move)
        await settle(hypobot)

    async def turned_off() -> bool:
        await hypobot.deliver()
        return not (await Board.get(team_id="T1", channel_id=CHANNEL)).enabled

    await eventually(turned_off)
    told = [m for m in hypobot.fake.messages.get("U1", []) if "board of <#C1> is off" in m["text"]]
    assert len(told) == 1
    failed = await Outbox.filter(kind=Kind.BOARD, status="failed").values_list(
        "last_error", flat=True
    )
    assert set(failed) == {"canvas_not_found"}


# --- kept current -----------------------------------------------------------------------------


async def test_changes_from_commands_buttons_replies_the_api_and_jobs_reach_the_board(
    hypobot: Hypobot,
) -> None:
    await board_on(hypobot)
    await hypobot.command(f"new {ONE_LINER}")
    await shows(hypobot, "## 💡 Proposed (1)")
    await settle(hypobot)
    bet_id = (await Outbox.filter(kind=Kind.CARD).first()).bet_id  # type: ignore[union-attr]
    await hypobot.action(ids.START, str(bet_id))
    await shows(hypobot, "## 🛠️ Building (1)")
    await hypobot.command("ship H-1")
    await shows(hypobot, "## ⏳ Awaiting feedback (1)")
    # a nudge and an escalation (a job): overdue
    await hypobot.command("settings lead <@ULEAD|lena> sle 4d")
    for day in (5, 7, 9, 11, 13):
        await run_job(
            hypobot, "nudges", datetime(2026, 11, day, 10, tzinfo=UTC) + timedelta(days=2)
        )
    await shows(hypobot, "## ⏰ Overdue (1)")
    await hypobot.command("validate H-1 tickets fell 35%")
    await shows(hypobot, "## 🎓 Learned in the last 30 days (1)")


async def test_changes_within_the_boards_interval_go_out_as_one_edit(
    hypobot: Hypobot,
) -> None:
    await board_on(hypobot)
    await shows(hypobot, "# 📋 Bets board")
    hypobot.runtime.sender.pacer.limits = type(hypobot.runtime.sender.pacer.limits)(
        channel_burst=1000, workspace_burst=1000, board_every_s=3.0
    )
    hypobot.runtime.sender.pacer._boards.clear()
    await hypobot.runtime.sender.drain()
    before = len(edits(hypobot))
    for n in range(8):
        await hypobot.command(
            f"new We believe change {n} for admins will cut tickets. We'll know when x"
        )
    await settle(hypobot)
    await shows(hypobot, "## 💡 Proposed (8)")
    made = len(edits(hypobot)) - before
    assert 1 <= made <= 3, made  # eight changes, at most one edit per 3 s
    assert await Outbox.filter(channel_id=board_lane(CHANNEL), kind=Kind.BOARD).count() < 8


async def test_user_text_cannot_smuggle_markdown_onto_the_board(hypobot: Hypobot) -> None:
    await board_on(hypobot)
    title = "# Hi <!channel> @here [ ] | x | https://evil.example **b** ![](@U9)"
    await hypobot.command(f"new We believe {title} for admins will cut tickets. We'll know when x")
    await shows(hypobot, "## 💡 Proposed (1)")
    text = await board_text(hypobot)
    line = next(line for line in text.splitlines() if "H-1" in line).split(") ", 1)[1]
    unescaped = re.sub(r"\\.", "", line)  # what is left once escaped characters are gone
    for raw in ("<!channel>", " @here", "[ ]", "| x |", "https://", "**b**", "![](@U9)", "# Hi"):
        assert raw not in unescaped, raw
    assert "\\@here" in line and "https\\://evil.example" in line and "\\# Hi" in line
    assert "\n# Hi" not in text


async def test_a_board_with_300_bets_lists_200_and_counts_the_rest(hypobot: Hypobot) -> None:
    from tests.stored import stored_bet

    for n in range(300):
        await stored_bet(
            "T1", now=datetime(2026, 10, 1, tzinfo=UTC), channel=CHANNEL, title=f"Bet {n}"
        )
    await board_on(hypobot)
    await shows(hypobot, "and 100 more — `/hypothesis list`")
    text = await board_text(hypobot)
    assert text.count("\n- **H-") + text.count("\n- [H-") == 200
    assert len(text) < 1024 * 1024


async def test_the_board_moves_once_a_day_at_the_digest_hour(hypobot: Hypobot) -> None:
    await posted_bet(hypobot, "shipped")
    await board_on(hypobot)
    await shows(hypobot, "shipped 0m ago")
    before = len(edits(hypobot))
    await run_job(hypobot, "digests", datetime(2026, 11, 3, 9, 30, tzinfo=UTC))
    await shows(hypobot, "shipped 24h ago")
    await run_job(hypobot, "digests", datetime(2026, 11, 3, 9, 31, tzinfo=UTC))
    await asyncio.sleep(0.3)
    await hypobot.deliver()
    assert len(edits(hypobot)) == before + 1  # once that day
