"""The board after a change from each surface tests/slack/test_board.py does not drive: the
New bet form, a reply in a bet's thread, the message shortcut, the HTTP API, a workflow step
and an import; each changes a bet, lets the outbox deliver, and reads the canvas from the
fake Slack, on both databases. (Commands, buttons and a job's escalation are in
test_board.py, with a private channel, a channel with a canvas of its own and 300 bets.)"""

from __future__ import annotations

import io
from pathlib import Path

from bot.blocks import ids
from bot.listeners.functions.steps import CREATE_BET, RECORD_EVIDENCE
from console.csv_import import import_file
from storage.models import Bet, Evidence
from tests.conftest import Hypobot, eventually
from tests.flows import posted_bet
from tests.slack.test_api import EVIDENCE as API_EVIDENCE
from tests.slack.test_api import call, token_for
from tests.slack.test_board import board_on, board_text, edits, shows
from tests.slack.test_modals import close_values, new_bet_values, submit_new_bet
from tests.slack.test_shortcut import open_shortcut, submit
from tests.slack.test_threads import click_under_prompt, deliver_event, reply_to
from tests.slack.test_workflow_steps import EVIDENCE as STEP_EVIDENCE
from tests.slack.test_workflow_steps import NEW_BET, run_step
from tests.storage.test_import import GOOD, csv_text, write

AWAITING = "## ⏳ Awaiting feedback"
BUILDING = "## 🛠️ Building"
PROPOSED = "## 💡 Proposed"
LEARNED = "## 🎓 Learned in the last 30 days"
HEARD_ONE = "of the 1 bet heard: median"


def lane(text: str, heading: str) -> list[str]:
    """The rows under the board's `heading` (up to the next heading or the footer)."""
    lines = text.splitlines()
    start = next(n for n, line in enumerate(lines) if line.startswith(heading))
    rows = []
    for line in lines[start + 1 :]:
        if line.startswith(("## ", "---", "and ")):
            break
        rows.append(line)
    return rows


def row_of(text: str, heading: str, key: str) -> str:
    """The one row of bet `key` under `heading`; fails naming where it is instead."""
    rows = [row for row in lane(text, heading) if f"{key}**" in row or f"[{key}]" in row]
    assert len(rows) == 1, (heading, key, text)
    return rows[0]


async def shipped_with_board(hypobot: Hypobot) -> Bet:
    """H-1 shipped in C1, on the board's Awaiting feedback lane."""
    bet = await posted_bet(hypobot, "shipped")
    await board_on(hypobot)
    await shows(hypobot, f"{AWAITING} (1)")
    return bet


async def rewritten_after(hypobot: Hypobot, before: int) -> None:
    """Wait until the board has been rewritten since it had `before` edits."""

    async def rewritten() -> bool:
        await hypobot.deliver()
        return len(edits(hypobot)) > before

    await eventually(rewritten, timeout=10)


# --- the New bet form ---------------------------------------------------------------------------


async def test_a_bet_made_in_the_new_bet_form_shows_on_its_channels_board(
    hypobot: Hypobot,
) -> None:
    await board_on(hypobot, "C7")  # the channel the form picks
    await shows(hypobot, f"{PROPOSED} (0)", "C7")
    status, _ = await submit_new_bet(hypobot, new_bet_values())
    assert status == 200
    await shows(hypobot, f"{PROPOSED} (1)", "C7")
    row = row_of(await board_text(hypobot, "C7"), PROPOSED, "H-1")
    assert "One-click export" in row and "![](@U2)" in row  # its title, its owner


# --- a reply in the bet's thread ----------------------------------------------------------------


async def test_a_reply_in_the_thread_and_what_was_learned_from_it_reach_the_board(
    hypobot: Hypobot,
) -> None:
    bet = await shipped_with_board(hypobot)
    before = len(edits(hypobot))
    await deliver_event(hypobot, reply_to(bet))
    evidence = await Evidence.get(bet_id=bet.id)
    await rewritten_after(hypobot, before)  # the reply is evidence of no verdict yet:
    text = await board_text(hypobot)  # still awaiting feedback
    assert "shipped 0m ago" in row_of(text, AWAITING, "H-1")
    # Invalidate under Hypobot's answer to the reply, saying what was learned
    await click_under_prompt(hypobot, ids.REPLY_INVALIDATE, evidence)
    [opened] = hypobot.fake.calls_to("views.open")
    assert opened.view is not None
    values = close_values("invalidate", None, learned="admins use the API")
    status, _ = await hypobot.slack.submit_view(
        ids.CLOSE_VIEW, values, private_metadata=opened.view["private_metadata"]
    )
    assert status == 200
    await shows(hypobot, f"{LEARNED} (1)")
    text = await board_text(hypobot)
    row = row_of(text, LEARNED, "H-1")
    assert "❌ invalidated" in row and "learned: admins use the API" in row
    assert f"{AWAITING} (0)" in text


# --- the message shortcut -----------------------------------------------------------------------


async def test_a_message_recorded_with_the_shortcut_takes_its_bet_off_awaiting_feedback(
    hypobot: Hypobot,
) -> None:
    bet = await shipped_with_board(hypobot)
    hypobot.clock.advance(minutes=5)
    view = await open_shortcut(hypobot, ts="1793613660.000100")  # 10:01, after shipping
    status, _ = await submit(hypobot, view, bet, "supports")
    assert status == 200
    await shows(hypobot, f"{AWAITING} (0)")
    text = await board_text(hypobot)
    assert HEARD_ONE in text and "1 bet shipped in the last 30 days, 1 heard" in text


# --- the HTTP API -------------------------------------------------------------------------------


async def test_shipping_and_evidence_through_the_api_reach_the_board(hypobot: Hypobot) -> None:
    await posted_bet(hypobot, "building")
    await board_on(hypobot)
    await shows(hypobot, f"{BUILDING} (1)")
    token = await token_for(hypobot)
    answer = await call(hypobot, "POST", "/api/v1/bets/H-1/ship", token=token)
    assert answer.status == 200, answer.text
    await shows(hypobot, f"{AWAITING} (1)")
    text = await board_text(hypobot)
    assert "shipped 0m ago" in row_of(text, AWAITING, "H-1")
    assert f"{BUILDING} (0)" in text
    answer = await call(
        hypobot, "POST", "/api/v1/bets/H-1/evidence", token=token, body=API_EVIDENCE
    )
    assert answer.status == 201, answer.text
    await shows(hypobot, f"{AWAITING} (0)")
    assert HEARD_ONE in await board_text(hypobot)


# --- workflow steps -----------------------------------------------------------------------------


async def test_evidence_from_a_workflow_step_takes_its_bet_off_awaiting_feedback(
    hypobot: Hypobot,
) -> None:
    await shipped_with_board(hypobot)
    outcome = await run_step(hypobot, RECORD_EVIDENCE, STEP_EVIDENCE)
    assert outcome[0] == "success", outcome
    await shows(hypobot, f"{AWAITING} (0)")
    assert HEARD_ONE in await board_text(hypobot)


async def test_a_bet_made_by_a_workflow_step_shows_on_its_channels_board(
    hypobot: Hypobot,
) -> None:
    await board_on(hypobot, NEW_BET["channel"])
    outcome = await run_step(hypobot, CREATE_BET, NEW_BET)
    assert outcome == ("success", {"key": "H-1"})
    await shows(hypobot, f"{PROPOSED} (1)", NEW_BET["channel"])
    row = row_of(await board_text(hypobot, NEW_BET["channel"]), PROPOSED, "H-1")
    assert "![](@UOWNER)" in row


# --- an import ----------------------------------------------------------------------------------


async def test_imported_bets_show_on_their_channels_board(hypobot: Hypobot, tmp_path: Path) -> None:
    await board_on(hypobot)
    await shows(hypobot, "Nothing awaits feedback.")
    path = write(tmp_path, csv_text(*GOOD))  # H-1 shipped and H-3 proposed in C1, H-2 in C2
    out, err = io.StringIO(), io.StringIO()
    status = await import_file(path, "T1", apply=True, now=hypobot.clock(), out=out, err=err)
    assert status == 0, err.getvalue()
    await shows(hypobot, f"{PROPOSED} (1)")
    text = await board_text(hypobot)
    row = row_of(text, AWAITING, "H-1")
    assert "Export" in row and "![](@UALICE)" in row and "shipped 43d ago" in row
    assert "Tour" in row_of(text, PROPOSED, "H-3")
    assert "night owls" not in text  # C2's bet: C2 has no board
