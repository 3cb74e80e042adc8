"""The "Record as evidence" message shortcut end to end: the modal, its bet picker's
type-ahead (block_suggestion), and the submission that records the message once."""

from __future__ import annotations

import json
from datetime import UTC, datetime
from typing import Any

from bot.blocks import ids
from console.fakeslack import PERMALINK_ROOT
from storage.models import Bet, Event, Evidence
from tests.conftest import Hypobot
from tests.flows import ONE_LINER, posted_bet, settle
from tests.payloads import block_suggestion_body, message_shortcut_body, post_signed

MESSAGE_TS = "1790000000.000100"
MESSAGE = "Support says export tickets fell from 40 to 12 this week &amp; nobody asked &lt;why&gt;"


async def open_shortcut(
    hypobot: Hypobot, *, text: str = MESSAGE, ts: str = MESSAGE_TS, **kw: Any
) -> dict[str, Any]:
    """Run the shortcut on a message; returns the modal Slack was asked to open."""
    hypobot.fake.reset()
    status, _ = await post_signed(
        hypobot.slack,
        message_shortcut_body(ids.RECORD_EVIDENCE, text=text, message_ts=ts, **kw),
    )
    assert status == 200
    await settle(hypobot)
    [opened] = hypobot.fake.calls_to("views.open")
    assert opened.view is not None
    return opened.view


async def suggest(hypobot: Hypobot, typed: str, **kw: Any) -> list[dict[str, Any]]:
    status, body = await post_signed(hypobot.slack, block_suggestion_body(ids.F_BET, typed, **kw))
    assert status == 200, body
    return list(body["options"])


async def submit(
    hypobot: Hypobot,
    view: dict[str, Any],
    bet: Bet,
    verdict: str = "supports",
    note: str | None = None,
    **kw: Any,
) -> tuple[int, Any]:
    label = {"type": "plain_text", "text": f"H-{bet.number}"}
    values = {
        ids.F_BET: {
            ids.F_BET: {
                "type": "external_select",
                "selected_option": {"text": label, "value": str(bet.id)},
            }
        },
        ids.F_VERDICT: {
            ids.F_VERDICT: {"type": "radio_buttons", "selected_option": {"value": verdict}}
        },
        ids.F_NOTE: {ids.F_NOTE: {"type": "plain_text_input", "value": note}},
    }
    return await hypobot.slack.submit_view(
        ids.RECORD_EVIDENCE_VIEW, values, private_metadata=view["private_metadata"], **kw
    )


async def test_shortcut_opens_a_modal_with_a_bet_picker_and_the_message_quoted(
    hypobot: Hypobot,
) -> None:
    view = await open_shortcut(hypobot)
    assert view["callback_id"] == ids.RECORD_EVIDENCE_VIEW
    picker = next(b for b in view["blocks"] if b.get("block_id") == ids.F_BET)["element"]
    assert picker["type"] == "external_select" and picker["action_id"] == ids.F_BET
    assert "export tickets fell" in json.dumps(view["blocks"])
    meta = json.loads(view["private_metadata"])
    assert meta["channel_id"] == "C1" and meta["message_ts"] == MESSAGE_TS
    assert meta["permalink"].startswith(PERMALINK_ROOT)
    assert not hypobot.fake.block_errors


async def test_long_message_is_cut_to_fit_private_metadata(hypobot: Hypobot) -> None:
    view = await open_shortcut(hypobot, text="🧪 " * 3000)
    assert len(view["private_metadata"]) <= 3000
    assert json.loads(view["private_metadata"])["text"].endswith("…")
    assert not hypobot.fake.block_errors


async def test_picker_finds_open_bets_by_key_and_title_words_ignoring_case(
    hypobot: Hypobot,
) -> None:
    for line in (
        "We believe one-click export for admins will cut tickets",
        "We believe dark mode for night owls will raise retention",
        "We believe CSV export for finance will save hours",
    ):
        await hypobot.command(f"new {line}")
    await hypobot.command("kill H-3 finance uses the API")

    by_key = await suggest(hypobot, "h-2")
    assert by_key[0]["value"] == str((await Bet.get(team_id="T1", number=2)).id)
    assert by_key[0]["text"]["text"].startswith("H-2 · ")
    assert [o["text"]["text"][:3] for o in await suggest(hypobot, "2")] == ["H-2"]
    assert [o["text"]["text"][:3] for o in await suggest(hypobot, "EXPORT one-CLICK")] == ["H-1"]
    # Killed bets take no evidence: H-3 is not offered, whatever is typed.
    assert [o["text"]["text"][:3] for o in await suggest(hypobot, "")] == ["H-2", "H-1"]
    assert await suggest(hypobot, "nothing like this") == []


async def test_picker_offers_only_the_clickers_workspace(hypobot: Hypobot) -> None:
    await hypobot.command(f"new {ONE_LINER}", team_id="TA")
    assert await suggest(hypobot, "", team_id="TB", user_id="UB") == []
    assert len(await suggest(hypobot, "", team_id="TA")) == 1


async def test_picker_offers_at_most_100_bets(hypobot: Hypobot) -> None:
    from bot.answers import Actor, BetDraft

    actor = Actor("T1", "U1", "C1")
    for n in range(105):
        draft = BetDraft(channel_id="C1", title=f"bet {n}", hypothesis=f"We believe {n} will help")
        await hypobot.runtime.answers.create(actor, draft)
    options = await suggest(hypobot, "bet")
    assert len(options) == 100
    assert options[0]["text"]["text"].startswith("H-105 · ")


async def test_submission_records_the_message_with_its_permalink_once(hypobot: Hypobot) -> None:
    bet = await posted_bet(hypobot, "shipped")
    view = await open_shortcut(hypobot)
    status, body = await submit(hypobot, view, bet, "supports")
    assert status == 200
    assert body["response_action"] == "update"
    assert "Recorded *supports* evidence on *H-1" in json.dumps(body["view"])
    [evidence] = await Evidence.filter(bet_id=bet.id)
    assert evidence.source == "shortcut" and evidence.verdict == "supports"
    assert evidence.text == (
        "Support says export tickets fell from 40 to 12 this week & nobody asked <why>"
    )
    assert evidence.link == evidence.permalink
    assert evidence.link == f"{PERMALINK_ROOT}/archives/C1/p{MESSAGE_TS.replace('.', '')}"
    assert (evidence.channel_id, evidence.message_ts) == ("C1", MESSAGE_TS)
    refreshed = await Bet.get(id=bet.id)
    # T5: the message's own time is the evidence's; it was posted before the bet shipped,
    # so it is learning (T9) but not feedback on the shipped change
    assert evidence.at == datetime.fromtimestamp(float(MESSAGE_TS), tz=UTC)
    assert refreshed.evidence_count == 1 and refreshed.first_feedback_at is None
    assert refreshed.first_decisive_at == evidence.at
    kinds = [e.kind for e in await Event.filter(bet_id=bet.id).order_by("id")]
    assert kinds[-1] == "evidence"
    await settle(hypobot)
    [update] = hypobot.fake.calls_to("chat.update")
    assert "1 evidence" in json.dumps(update.blocks)
    assert not hypobot.fake.block_errors


async def test_recording_the_same_message_again_is_refused_kindly(hypobot: Hypobot) -> None:
    bet = await posted_bet(hypobot, "shipped")
    view = await open_shortcut(hypobot)
    await submit(hypobot, view, bet)
    again = await open_shortcut(hypobot)
    status, body = await submit(hypobot, again, bet, "refutes")
    assert status == 200
    assert body["response_action"] == "errors"
    assert body["errors"][ids.F_BET] == "That message is already evidence on H-1."
    assert await Evidence.filter(bet_id=bet.id).count() == 1


async def test_note_is_kept_after_the_message_text(hypobot: Hypobot) -> None:
    bet = await posted_bet(hypobot, "building")
    view = await open_shortcut(hypobot, text="Finance asked for it twice")
    await submit(hypobot, view, bet, "inconclusive", note="only <b>two</b> people")
    evidence = await Evidence.get(bet_id=bet.id)
    assert evidence.text == "Finance asked for it twice\n\nNote: only <b>two</b> people"
    assert evidence.verdict == "inconclusive"


async def test_closed_bet_takes_no_evidence_and_says_why(hypobot: Hypobot) -> None:
    bet = await posted_bet(hypobot, "killed")
    view = await open_shortcut(hypobot)
    _, body = await submit(hypobot, view, bet)
    assert body["response_action"] == "errors"
    assert "H-1 is already killed" in body["errors"][ids.F_BET]
    assert await Evidence.filter(bet_id=bet.id).count() == 0


async def test_a_bet_of_another_workspace_cannot_be_picked(hypobot: Hypobot) -> None:
    bet = await posted_bet(hypobot, "shipped", team_id="TA")
    view = await open_shortcut(hypobot, team_id="TB", user_id="UB")
    _, body = await submit(hypobot, view, bet, team_id="TB", user_id="UB")
    assert body["errors"][ids.F_BET] == "That bet doesn't exist in this workspace."
    assert await Evidence.all().count() == 0


async def test_a_message_without_text_or_permalink_asks_for_a_note(hypobot: Hypobot) -> None:
    bet = await posted_bet(hypobot, "shipped")
    hypobot.fake.fail["chat.getPermalink"] = "channel_not_found"
    view = await open_shortcut(hypobot, text="")
    _, body = await submit(hypobot, view, bet)
    assert body["response_action"] == "errors" and ids.F_NOTE in body["errors"]
    _, body = await submit(hypobot, view, bet, note="a screenshot of the funnel")
    assert body["response_action"] == "update"
    evidence = await Evidence.get(bet_id=bet.id)
    assert evidence.text == "a screenshot of the funnel" and evidence.link is None
