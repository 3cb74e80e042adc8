"""Hypobot hears the replies in its cards' threads because it is a member of the channel:
it joins a public channel before a bet's first card goes up there; in a private channel it
asks the bet's creator (once per channel) to invite it, keeps the card queued, and posts it
when Slack says it was invited. The fake Slack models membership as Slack does."""

from __future__ import annotations

from datetime import timedelta
from typing import Any

import pytest
from slack_sdk.errors import SlackApiError
from slack_sdk.web.async_client import AsyncWebClient

from console.fakeslack import FakeSlack
from console.signing import message_event
from outbox.rows import AWAITING_INVITE, INVITE_ASKED
from outbox.sender import INVITE_RECHECK
from storage.models import Bet, Evidence, Outbox
from tests.conftest import Hypobot
from tests.flows import ONE_LINER, settle
from tests.jobs_support import run_job

PRIVATE = "GPRIVATE"


async def _new_bet(hypobot: Hypobot, channel: str, user: str = "U1") -> None:
    status, _ = await hypobot.command(f"new {ONE_LINER}", channel_id=channel, user_id=user)
    assert status == 200
    await settle(hypobot)


async def _event(hypobot: Hypobot, event: dict[str, Any]) -> None:
    status, _ = await hypobot.slack.event(event)
    assert status == 200
    await settle(hypobot)


def _invite_asks(hypobot: Hypobot) -> list[Any]:
    return [
        call
        for call in hypobot.fake.calls
        if call.method in ("chat.postEphemeral", "chat.postMessage")
        and "/invite @Hypobot" in str(call.params.get("text"))
    ]


# --- public channels: join first ---------------------------------------------------------------


async def test_hypobot_joins_a_public_channel_before_posting_a_bets_first_card(
    hypobot: Hypobot,
) -> None:
    await _new_bet(hypobot, "C7")
    methods = [call.method for call in hypobot.fake.calls if call.channel == "C7"]
    assert methods[:2] == ["conversations.join", "chat.postMessage"]
    assert hypobot.fake.is_member("C7")
    assert (await Outbox.get(kind="card")).status == "sent"


async def test_a_reply_in_the_first_cards_thread_reaches_hypobot_and_becomes_evidence(
    hypobot: Hypobot,
) -> None:
    await _new_bet(hypobot, "C7")
    bet = await Bet.get(number=1)
    reply = message_event(
        "export tickets fell",
        channel="C7",
        user="U3",
        ts="1793613660.000200",
        thread_ts=bet.card_ts,
    )
    assert hypobot.fake.would_deliver(reply)
    await _event(hypobot, reply)
    assert await Evidence.filter(bet_id=bet.id).count() == 1


async def test_a_later_card_in_a_joined_channel_joins_no_more(hypobot: Hypobot) -> None:
    await _new_bet(hypobot, "C7")
    await _new_bet(hypobot, "C7")
    assert len(hypobot.fake.calls_to("conversations.join")) == 1
    assert len(hypobot.fake.messages["C7"]) == 2


async def test_removed_from_a_public_channel_hypobot_joins_again_and_posts(
    hypobot: Hypobot,
) -> None:
    await _new_bet(hypobot, "C7")
    hypobot.fake.members.discard(("T1", "C7"))  # someone removed Hypobot
    hypobot.fake.reset()
    await hypobot.command("start H-1", channel_id="C7")
    await settle(hypobot)
    answers = [
        (call.method, (call.result or {}).get("error"))
        for call in hypobot.fake.calls
        if call.channel == "C7"
    ]
    assert answers == [
        ("chat.update", "not_in_channel"),
        ("conversations.join", None),
        ("chat.update", None),
    ]
    assert await Outbox.filter(status="sent").count() == 2


# --- private channels: ask once, wait for the invite --------------------------------------------


async def test_in_a_private_channel_the_card_waits_and_the_creator_is_asked_to_invite_hypobot(
    hypobot: Hypobot,
) -> None:
    hypobot.fake.private_channels.add(PRIVATE)
    await _new_bet(hypobot, PRIVATE, user="U5")
    card = await Outbox.get(kind="card")
    assert (card.status, card.last_error) == ("pending", INVITE_ASKED)
    assert card.next_attempt_at == hypobot.clock() + INVITE_RECHECK
    assert PRIVATE not in hypobot.fake.messages
    # Slack shows no ephemeral message where Hypobot cannot see the channel: the ask goes to
    # the creator's direct message with Hypobot instead.
    ephemeral, direct = _invite_asks(hypobot)
    assert ephemeral.method == "chat.postEphemeral" and ephemeral.status == 200
    assert ephemeral.result == {"ok": False, "error": "channel_not_found"}
    assert (direct.method, direct.channel, direct.result["ok"]) == ("chat.postMessage", "U5", True)
    assert f"<#{PRIVATE}>" in direct.text


async def test_the_creator_is_asked_once_per_channel_however_many_bets_wait(
    hypobot: Hypobot,
) -> None:
    hypobot.fake.private_channels.add(PRIVATE)
    for user in ("U5", "U6", "U5"):
        await _new_bet(hypobot, PRIVATE, user=user)
    assert len([call for call in _invite_asks(hypobot) if call.result["ok"]]) == 1
    rows = await Outbox.filter(kind="card").order_by("id")
    assert [row.status for row in rows] == ["pending"] * 3
    assert [row.last_error for row in rows] == [INVITE_ASKED, AWAITING_INVITE, AWAITING_INVITE]
    # A recheck later tries again, and asks nobody again.
    await run_job(hypobot, "outbox", hypobot.clock() + INVITE_RECHECK)
    assert len([call for call in _invite_asks(hypobot) if call.result["ok"]]) == 1
    assert {row.status for row in await Outbox.filter(kind="card")} == {"pending"}


async def test_the_invite_posts_every_waiting_card_in_order_and_its_replies_reach_hypobot(
    hypobot: Hypobot,
) -> None:
    hypobot.fake.private_channels.add(PRIVATE)
    for _ in range(2):
        await _new_bet(hypobot, PRIVATE)
    await _event(hypobot, hypobot.fake.invite(PRIVATE))
    await hypobot.runtime.sender.drain()
    assert await Outbox.filter(status="sent").count() == 2
    cards = hypobot.fake.messages[PRIVATE]
    bets = await Bet.all().order_by("number")
    assert [bet.card_ts for bet in bets] == [card["ts"] for card in cards]
    reply = message_event(
        "it works", channel=PRIVATE, user="U3", ts="1793613660.000300", thread_ts=bets[0].card_ts
    )
    assert hypobot.fake.would_deliver(reply)
    await _event(hypobot, reply)
    assert await Evidence.filter(bet_id=bets[0].id).count() == 1


async def test_someone_else_joining_the_private_channel_releases_nothing(
    hypobot: Hypobot,
) -> None:
    hypobot.fake.private_channels.add(PRIVATE)
    await _new_bet(hypobot, PRIVATE)
    joined = hypobot.fake.invite(PRIVATE) | {"user": "U9"}
    hypobot.fake.members.discard(("T1", PRIVATE))
    await _event(hypobot, joined)
    assert (await Outbox.get(kind="card")).status == "pending"


async def test_a_private_channel_hypobot_was_invited_to_before_gets_its_card_at_once(
    hypobot: Hypobot,
) -> None:
    hypobot.fake.private_channels.add(PRIVATE)
    hypobot.fake.invite(PRIVATE)
    await _new_bet(hypobot, PRIVATE)
    assert (await Outbox.get(kind="card")).status == "sent"
    assert not _invite_asks(hypobot)
    [join] = hypobot.fake.calls_to("conversations.join")
    assert join.result == {"ok": False, "error": "method_not_supported_for_channel_type"}


async def test_a_waiting_card_is_rechecked_after_an_invite_whose_event_was_missed(
    hypobot: Hypobot,
) -> None:
    hypobot.fake.private_channels.add(PRIVATE)
    await _new_bet(hypobot, PRIVATE)
    hypobot.fake.invite(PRIVATE)  # Hypobot never hears of it
    await run_job(hypobot, "outbox", hypobot.clock() + INVITE_RECHECK - timedelta(minutes=1))
    assert (await Outbox.get(kind="card")).status == "pending"
    await run_job(hypobot, "outbox", hypobot.clock() + timedelta(minutes=1))
    assert (await Outbox.get(kind="card")).status == "sent"


# --- the fake models membership ---------------------------------------------------------------


@pytest.fixture
def client(fake_slack: FakeSlack) -> AsyncWebClient:
    return AsyncWebClient(base_url=fake_slack.base_url, token="xoxb-test")


async def _error(call: Any) -> str:
    with pytest.raises(SlackApiError) as raised:
        await call
    return str(raised.value.response["error"])


async def test_the_fake_refuses_posts_where_the_bot_is_not_a_member(
    fake_slack: FakeSlack, client: AsyncWebClient
) -> None:
    fake_slack.private_channels.add(PRIVATE)
    assert await _error(client.chat_postMessage(channel="C1", text="hi")) == "not_in_channel"
    assert await _error(client.chat_postMessage(channel=PRIVATE, text="hi")) == "channel_not_found"
    await client.conversations_join(channel="C1")
    await client.chat_postMessage(channel="C1", text="hi")
    assert await _error(client.conversations_join(channel=PRIVATE)) == "channel_not_found"
    fake_slack.invite(PRIVATE)
    await client.chat_postMessage(channel=PRIVATE, text="hi")
    assert len(fake_slack.messages["C1"]) == len(fake_slack.messages[PRIVATE]) == 1


async def test_the_fake_delivers_message_events_only_from_channels_the_bot_is_in(
    fake_slack: FakeSlack,
) -> None:
    event = message_event("hello", channel="C3", ts="1793613660.000100")
    assert not fake_slack.would_deliver(event)
    fake_slack.invite("C3")
    assert fake_slack.would_deliver(event)
    assert fake_slack.would_deliver({"type": "app_home_opened", "user": "U1"})
