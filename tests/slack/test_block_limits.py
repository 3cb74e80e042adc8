"""A channel with 300 bets: every surface (list all, show with 60 pieces of evidence, the
digest, the report, App Home) stays inside Block Kit's limits and says how many it left out.

The fake Slack validates each message and view with slack_sdk.models (text lengths, header
150, section 3000 …) and records it; the 50 blocks of a message and 100 of a view are
asserted here too, since slack_sdk does not check them. The bets are imported in one
transaction (`hypobot import`), not made by 300 slash commands. Both databases."""

from __future__ import annotations

import io
import json
import re
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

import pytest

from bets.evidence import Verdict
from bets.lifecycle import Move, MoveRequest
from bot.blocks.text import MAX_BLOCKS_MESSAGE, MAX_BLOCKS_VIEW
from console.csv_import import import_file
from console.fakeslack import check_blocks
from storage.models import Bet, Outbox
from tests.conftest import Hypobot
from tests.flows import settle
from tests.jobs_support import run_job
from tests.stored import evidence, moved, stored_bet

NOW = datetime(2026, 11, 2, 10, 0, tzinfo=UTC)  # the hypobot fixture's clock: a Monday
HEADER = (
    "channel_id,title,hypothesis,signal,owner_id,state,created_at,shipped_at,closed_at,close_reason"
)
# A long title full of characters that escaping makes longer (& → &amp;).
TITLE = "Bulk export & import <for> admins, with a very long name that keeps going " * 2
AWAITING, BUILDING, PROPOSED, VALIDATED, INVALIDATED, KILLED = 120, 60, 60, 40, 10, 10
EVIDENCE = 60
MORE = re.compile(r"and (\d+) (?:more|older)")


def _day(moment: datetime) -> str:
    return moment.strftime("%Y-%m-%dT%H:%M:%SZ")


def shipped_at(n: int) -> datetime:
    """When the n-th bet awaiting feedback shipped: 1 to 20 days and n hours ago."""
    return NOW - timedelta(days=1 + n % 20, hours=n)


def _rows() -> list[str]:
    """300 bets of UALICE in C1: awaiting feedback, building, proposed and closed ones."""
    created = _day(NOW - timedelta(days=80))
    rows = []

    def row(n: int, state: str, shipped: str = "", closed: str = "", reason: str = "") -> str:
        title = f"{n} {TITLE}"[:150].strip()
        # Unique per row: the import skips a row whose channel, hypothesis and created_at
        # match a bet it has.
        hypothesis = f"We believe {TITLE.lower()} for {state} admins will cut tickets by {n}%"
        return (
            f'C1,"{title}","{hypothesis}",tickets drop {n}%,UALICE,{state},{created},'
            f"{shipped},{closed},{reason}"
        )

    for n in range(AWAITING):
        rows.append(row(n, "shipped", _day(shipped_at(n))))
    rows += [row(n, "building") for n in range(BUILDING)]
    rows += [row(n, "proposed") for n in range(PROPOSED)]
    for n in range(VALIDATED + INVALIDATED + KILLED):
        shipped = NOW - timedelta(days=40 + n % 20)
        closed = _day(shipped + timedelta(days=5 + n % 15))
        if n < VALIDATED:
            rows.append(row(n, "validated", _day(shipped), closed))
        elif n < VALIDATED + INVALIDATED:
            rows.append(row(n, "invalidated", _day(shipped), closed))
        else:
            rows.append(row(n, "killed", "", closed, "nobody needed it"))
    return rows


@pytest.fixture
async def busy(hypobot: Hypobot, tmp_path: Path) -> Hypobot:
    """Hypobot with 300 bets in C1 and H-301 in C2: shipped, with 60 pieces of evidence."""
    path = tmp_path / "bets.csv"
    path.write_text("\n".join([HEADER, *_rows()]) + "\n", encoding="utf-8")
    out, err = io.StringIO(), io.StringIO()
    assert await import_file(path, "T1", apply=True, now=NOW, out=out, err=err) == 0, err.getvalue()
    assert await Bet.filter(team_id="T1", channel_id="C1").count() == 300
    shown = await stored_bet("T1", now=NOW - timedelta(days=30), channel="C2", title=TITLE)
    await moved("T1", shown.id, MoveRequest(Move.SHIP), now=NOW - timedelta(days=29))
    for n in range(EVIDENCE):
        verdict = (Verdict.INCONCLUSIVE, Verdict.SUPPORTS)[n % 2]
        text = f"Observation {n}: " + "tickets & <numbers> moved a little " * 25
        await evidence("T1", shown.id, verdict, text, now=NOW - timedelta(days=28, minutes=-n))
    # H-301's 62 card syncs would go out at Slack's pace (one a second in a channel); no
    # surface here needs its card, so they are dropped rather than delivered.
    await Outbox.filter(team_id="T1", bet_id=shown.id, kind="card").delete()
    hypobot.clock.now = NOW
    hypobot.fake.reset()
    return hypobot


def posted(hypobot: Hypobot) -> list[Any]:
    """The messages Slack took (not a try it refused, say before Hypobot joined)."""
    return [
        call
        for call in hypobot.fake.calls_to("chat.postMessage")
        if call.result is not None and call.result.get("ok")
    ]


def within_limits(blocks: list[dict[str, Any]], limit: int = MAX_BLOCKS_MESSAGE) -> None:
    assert 0 < len(blocks) <= limit
    assert check_blocks(blocks, limit) == []


def left_out(blocks: list[dict[str, Any]]) -> list[int]:
    """Every "and N more" / "and N older" count the blocks say."""
    return [int(n) for n in MORE.findall(json.dumps(blocks, ensure_ascii=False))]


async def command_blocks(hypobot: Hypobot, text: str) -> list[dict[str, Any]]:
    """The blocks a command answered with: in its ack, or later through its response_url."""
    status, body = await hypobot.command(text)
    assert status == 200
    if "blocks" in body:
        return list(body["blocks"])
    [answer] = await hypobot.fake.wait_for("response_url", timeout=30)
    return list(answer.blocks or [])


async def home_blocks(hypobot: Hypobot, user: str) -> list[dict[str, Any]]:
    """The App Home view Hypobot publishes when `user` opens it."""
    event = {"type": "app_home_opened", "user": user, "channel": "D1", "tab": "home"}
    status, _ = await hypobot.slack.event(event | {"event_ts": "1.0"})
    assert status == 200
    await settle(hypobot)
    [published] = hypobot.fake.calls_to("views.publish")
    assert not hypobot.fake.block_errors
    return list((published.view or {})["blocks"])


def section_texts(blocks: list[dict[str, Any]]) -> list[str]:
    return [
        block["text"]["text"] for block in blocks if block["type"] == "section" and "text" in block
    ]


def sections_starting(blocks: list[dict[str, Any]], prefix: str) -> int:
    return sum(1 for text in section_texts(blocks) if text.startswith(prefix))


async def test_list_all_shows_what_fits_and_counts_the_rest(busy: Hypobot) -> None:
    blocks = await command_blocks(busy, "list all")
    within_limits(blocks)
    shown = sections_starting(blocks, "*H-")
    [rest] = left_out(blocks)
    assert shown + rest == 301
    assert "`/hypothesis list all`" in json.dumps(blocks)


async def test_show_with_sixty_pieces_of_evidence_counts_the_older_ones(busy: Hypobot) -> None:
    blocks = await command_blocks(busy, "show H-301")
    within_limits(blocks)
    text = json.dumps(blocks, ensure_ascii=False)
    shown = text.count("Observation ")
    [older] = left_out(blocks)
    assert shown + older == EVIDENCE and older > 0
    assert "Observation 59:" in text  # the newest first
    assert "&amp; &lt;numbers&gt;" in text and "<numbers>" not in text


async def test_the_digest_lists_what_fits_and_counts_the_rest(busy: Hypobot) -> None:
    digest_at = NOW.replace(hour=9, minute=30)
    await run_job(busy, "digests", digest_at)
    [digest] = [call for call in posted(busy) if (call.text or "").startswith("Hypobot digest")]
    assert not busy.fake.block_errors
    blocks = digest.blocks or []
    within_limits(blocks)
    listed = [text for text in section_texts(blocks) if text.startswith(("⏰ *Over", "⏳ *Await"))]
    assert listed
    shown = sum(text.count("*H-") for text in listed)
    counted = sum(int(n) for text in listed for n in MORE.findall(text))
    assert counted > 0
    assert shown + counted == AWAITING  # H-301 is in C2
    # Due a nudge (3 days after shipping), 5 nudges a day: the digest counts the rest.
    due = sum(1 for n in range(AWAITING) if shipped_at(n) + timedelta(days=3) <= digest_at)
    held = f"💤 {due - 5} more awaiting feedback are due a nudge"
    assert held in json.dumps(blocks, ensure_ascii=False)


async def test_the_report_shows_the_oldest_and_counts_the_rest(busy: Hypobot) -> None:
    status, _ = await busy.command("report 90d")
    assert status == 200
    await busy.fake.wait_for("files.completeUploadExternal", timeout=30)
    [report] = [call for call in posted(busy) if "Flow report" in json.dumps(call.blocks or [])]
    assert not busy.fake.block_errors
    blocks = report.blocks or []
    within_limits(blocks)
    shown = sections_starting(blocks, "*H-")
    [rest] = left_out(blocks)
    assert shown + rest == AWAITING


async def test_list_all_stays_within_50_blocks(busy: Hypobot) -> None:
    blocks = await command_blocks(busy, "list all")
    within_limits(blocks)
    [rest] = left_out(blocks)
    assert rest > 0 and "`/hypothesis list all`" in json.dumps(blocks)


async def test_app_home_stays_within_100_blocks(busy: Hypobot) -> None:
    blocks = await home_blocks(busy, "UALICE")
    within_limits(blocks, MAX_BLOCKS_VIEW)
    [rest] = left_out(blocks)
    assert rest > 0 and "`/hypothesis list mine`" in json.dumps(blocks)


async def test_app_home_shows_my_bets_within_100_blocks_and_counts_the_rest(
    busy: Hypobot,
) -> None:
    blocks = await home_blocks(busy, "UALICE")
    within_limits(blocks, MAX_BLOCKS_VIEW)
    shown = sections_starting(blocks, "*H-")
    [rest] = left_out(blocks)
    open_bets = AWAITING + BUILDING + PROPOSED  # H-301 is U1's
    assert shown + rest == open_bets
