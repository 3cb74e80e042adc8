"""A link attached to a bet, pasted in a channel: Hypobot answers in that message's thread
with the bet's key, title and state (the no-new-scope alternative to link_shared unfurls)."""

from __future__ import annotations

import json
from typing import Any

from console.signing import BOT_ID, message_event
from storage.models import Bet, Evidence, Outbox
from tests.conftest import Hypobot
from tests.flows import posted_bet, settle

PR = "https://git.test/acme/app/pull/7"
MESSAGE_TS = "1794000000.000100"


async def shipped_with_link(hypobot: Hypobot, **kw: Any) -> Bet:
    bet = await posted_bet(hypobot, "building", **kw)
    status, body = await hypobot.command(f"ship H-1 {PR}", **kw)
    assert status == 200, body
    await hypobot.deliver()
    hypobot.fake.reset()
    return await Bet.get(id=bet.id)


async def say(hypobot: Hypobot, text: str, *, team_id: str = "T1", **kw: Any) -> None:
    fields: dict[str, Any] = {"ts": MESSAGE_TS, "user": "U3", "team": team_id}
    status, _ = await hypobot.slack.event(message_event(text, **(fields | kw)), team_id=team_id)
    assert status == 200
    await settle(hypobot)


def notices(hypobot: Hypobot) -> list[Any]:
    return hypobot.fake.calls_to("chat.postMessage")


async def test_pasted_bet_link_gets_the_bets_key_and_state_in_the_thread(
    hypobot: Hypobot,
) -> None:
    await shipped_with_link(hypobot)
    await say(hypobot, f"Have a look: <{PR}>")
    [notice] = notices(hypobot)
    assert notice.channel == "C1" and notice.thread_ts == MESSAGE_TS
    assert notice.text == "This link belongs to H-1"
    shown = json.dumps(notice.blocks, ensure_ascii=False)
    assert "H-1 · " in shown and "shipped" in shown
    assert not hypobot.fake.block_errors


async def test_labelled_link_with_escaped_query_and_trailing_slash_still_matches(
    hypobot: Hypobot,
) -> None:
    bet = await posted_bet(hypobot, "proposed")
    await Bet.filter(id=bet.id).update(link="https://docs.test/plan?a=1&b=2")
    await say(hypobot, "the plan: <https://docs.test/plan?a=1&amp;b=2/|our plan>")
    assert [n.text for n in notices(hypobot)] == ["This link belongs to H-1"]


async def test_evidence_link_counts_as_attached(hypobot: Hypobot) -> None:
    await posted_bet(hypobot, "shipped")
    await hypobot.command("evidence H-1 + https://metrics.test/dash/42")
    await hypobot.deliver()
    assert await Evidence.filter(link="https://metrics.test/dash/42").exists()
    hypobot.fake.reset()
    await say(hypobot, "<https://metrics.test/dash/42>")
    [notice] = notices(hypobot)
    assert "H-1" in notice.text


async def test_one_message_with_links_of_two_bets_gets_one_notice(hypobot: Hypobot) -> None:
    await shipped_with_link(hypobot)
    await hypobot.command("new We believe dark mode for night owls will raise retention")
    await Bet.filter(team_id="T1", number=2).update(link="https://figma.test/dark")
    await hypobot.deliver()
    hypobot.fake.reset()
    await say(hypobot, f"<{PR}> and <https://figma.test/dark>")
    [notice] = notices(hypobot)
    assert notice.text == "These links belong to H-1, H-2"


async def test_a_retried_delivery_gets_no_second_notice(hypobot: Hypobot) -> None:
    await shipped_with_link(hypobot)
    event = message_event(f"<{PR}>", ts=MESSAGE_TS, user="U3")
    for retry in (None, 1):
        status, _ = await hypobot.slack.event(event, retry_num=retry)
        assert status == 200
        await settle(hypobot)
    assert len(notices(hypobot)) == 1
    assert await Outbox.filter(kind="link").count() == 1


async def test_links_attached_to_no_bet_get_no_notice(hypobot: Hypobot) -> None:
    await shipped_with_link(hypobot)
    await say(hypobot, "<https://git.test/acme/app/pull/8> and <https://elsewhere.test>")
    assert notices(hypobot) == []


async def test_bot_messages_and_edits_are_ignored(hypobot: Hypobot) -> None:
    await shipped_with_link(hypobot)
    await say(hypobot, f"<{PR}>", bot_id=BOT_ID, subtype="bot_message")
    await say(hypobot, f"<{PR}>", subtype="message_changed")
    assert notices(hypobot) == []


async def test_a_link_of_another_workspace_is_not_told(hypobot: Hypobot) -> None:
    await shipped_with_link(hypobot, team_id="TA")
    await say(hypobot, f"<{PR}>", team_id="TB")
    assert notices(hypobot) == []


async def test_reply_in_a_bets_thread_with_its_link_is_evidence_not_a_notice(
    hypobot: Hypobot,
) -> None:
    bet = await shipped_with_link(hypobot)
    await say(hypobot, f"merged: <{PR}>", thread_ts=bet.card_ts)
    [evidence] = await Evidence.filter(bet_id=bet.id)
    assert evidence.source == "thread"
    assert await Outbox.filter(kind="link").count() == 0
    [answer] = notices(hypobot)
    assert answer.thread_ts == bet.card_ts and "Recorded as evidence" in answer.text


async def test_reply_in_another_thread_with_a_bet_link_is_left_alone(hypobot: Hypobot) -> None:
    await shipped_with_link(hypobot)
    await say(hypobot, f"<{PR}>", thread_ts="1790000000.000001")
    assert notices(hypobot) == []
    assert await Evidence.all().count() == 0
