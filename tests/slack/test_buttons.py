"""Buttons on a bet's card end to end: moves, the modals they open, and who may click what."""

from __future__ import annotations

import asyncio
import json
from datetime import timedelta
from typing import Any

import pytest

from bot.blocks import ids
from storage.models import Bet, Event, Evidence, Outbox
from tests.conftest import Hypobot
from tests.flows import action_ids, posted_bet, settle

# What a click on a card's button is, besides its action_id and value.
CARD_CLICK = {"channel_id": "C1", "trigger_id": "trig-card"}


async def click(hypobot: Hypobot, action_id: str, bet: Bet, **kw: Any) -> tuple[int, Any]:
    """Click `action_id` on `bet`'s card and wait until the listener has done its work."""
    status, body = await hypobot.action(
        action_id, str(bet.id), **(CARD_CLICK | {"message_ts": bet.card_ts} | kw)
    )
    await settle(hypobot)
    return status, body


async def footprint(bet: Bet) -> tuple[Any, ...]:
    """All a click could change about a bet: its row, its history, its evidence, its outbox."""
    [row] = await Bet.filter(id=bet.id).values()
    return (
        row,
        await Event.filter(bet_id=bet.id).count(),
        await Evidence.filter(bet_id=bet.id).count(),
        await Outbox.filter(bet_id=bet.id).count(),
    )


def ephemeral_reply(hypobot: Hypobot) -> str:
    """The one ephemeral message the clicker got through the response_url."""
    [reply] = hypobot.fake.calls_to("response_url")
    assert reply.params["response_type"] == "ephemeral"
    assert reply.params["replace_original"] is False
    return str(reply.text)


# --- moves that need nothing more ----------------------------------------------------------


async def test_start_button_starts_the_bet_and_updates_its_card(hypobot: Hypobot) -> None:
    bet = await posted_bet(hypobot, "proposed")
    status, _ = await click(hypobot, ids.START, bet)
    assert status == 200
    started = await Bet.get(id=bet.id)
    assert (started.state, started.started_at) == ("building", hypobot.clock())
    [update] = hypobot.fake.calls_to("chat.update")
    assert (update.channel, update.params["ts"]) == ("C1", bet.card_ts)
    assert "building" in update.text
    assert ids.START not in action_ids(update.blocks)
    assert not hypobot.fake.block_errors


async def test_ship_button_ships_the_bet_and_updates_its_card(hypobot: Hypobot) -> None:
    bet = await posted_bet(hypobot, "building")
    await click(hypobot, ids.SHIP, bet)
    shipped = await Bet.get(id=bet.id)
    assert (shipped.state, shipped.shipped_at) == ("shipped", hypobot.clock())
    [update] = hypobot.fake.calls_to("chat.update")
    assert update.params["ts"] == bet.card_ts
    assert action_ids(update.blocks) == [
        ids.ADD_EVIDENCE,
        ids.VALIDATE,
        ids.INVALIDATE,
        ids.KILL,
        ids.SNOOZE,
    ]
    assert not hypobot.fake.block_errors


async def test_a_move_made_by_button_is_recorded_as_coming_from_a_button(
    hypobot: Hypobot,
) -> None:
    bet = await posted_bet(hypobot, "proposed")
    await click(hypobot, ids.START, bet, user_id="U5")
    event = await Event.get(bet_id=bet.id, kind="start")
    assert (event.actor_id, event.data["source"]) == ("U5", "button")


async def test_ship_button_on_a_stale_card_of_a_killed_bet_is_refused(hypobot: Hypobot) -> None:
    bet = await posted_bet(hypobot, "killed")
    before = await footprint(bet)
    await click(hypobot, ids.SHIP, bet)
    assert ephemeral_reply(hypobot).startswith("H-1 is already killed.")  # T12
    assert await footprint(bet) == before
    assert not hypobot.fake.calls_to("chat.update")


async def test_two_concurrent_start_clicks_make_one_move(hypobot: Hypobot) -> None:
    bet = await posted_bet(hypobot, "proposed")
    clicks = [
        hypobot.action(ids.START, str(bet.id), **CARD_CLICK, message_ts=bet.card_ts)
        for _ in range(2)
    ]
    await asyncio.gather(*clicks)
    await settle(hypobot)
    assert await Event.filter(bet_id=bet.id, kind="start").count() == 1
    replies = sorted(str(call.text) for call in hypobot.fake.calls_to("response_url"))
    assert replies == [
        "*H-1* started.",
        "H-1: Can't start a building bet. From building you can: `ship`, `kill`.",
    ]


# --- moves that ask for more: the modals ---------------------------------------------------


@pytest.mark.parametrize(
    ("action_id", "callback_id", "move", "title"),
    [
        (ids.ADD_EVIDENCE, ids.EVIDENCE_VIEW, None, "Evidence on H-1"),
        (ids.VALIDATE, ids.CLOSE_VIEW, "validate", "Validate H-1"),
        (ids.INVALIDATE, ids.CLOSE_VIEW, "invalidate", "Invalidate H-1"),
        (ids.KILL, ids.CLOSE_VIEW, "kill", "Kill H-1"),
    ],
)
async def test_button_opens_its_modal_for_the_owner(
    hypobot: Hypobot, action_id: str, callback_id: str, move: str | None, title: str
) -> None:
    bet = await posted_bet(hypobot, "shipped")
    before = await footprint(bet)
    await click(hypobot, action_id, bet)
    [opened] = hypobot.fake.calls_to("views.open")
    assert opened.params["trigger_id"] == "trig-card"
    assert opened.view["callback_id"] == callback_id
    assert opened.view["title"]["text"] == title
    meta = json.loads(opened.view["private_metadata"])
    assert meta["bet_id"] == bet.id
    assert meta.get("move") == move
    assert not hypobot.fake.calls_to("response_url")
    assert await footprint(bet) == before
    assert not hypobot.fake.block_errors


async def test_kill_modal_asks_why_and_what_we_learned(hypobot: Hypobot) -> None:
    bet = await posted_bet(hypobot, "shipped")
    await click(hypobot, ids.KILL, bet)
    [opened] = hypobot.fake.calls_to("views.open")
    fields = [block.get("block_id") for block in opened.view["blocks"]]
    assert fields[1:] == [ids.F_TEXT, ids.F_LEARNED]


async def test_kill_button_opens_the_modal_for_a_hypobot_admin(hypobot: Hypobot) -> None:
    bet = await posted_bet(hypobot, "shipped")
    await click(hypobot, ids.KILL, bet, user_id="UADMIN")
    [opened] = hypobot.fake.calls_to("views.open")
    assert json.loads(opened.view["private_metadata"])["move"] == "kill"


@pytest.mark.parametrize("action_id", [ids.VALIDATE, ids.INVALIDATE, ids.KILL])
async def test_closing_button_by_someone_else_is_refused_ephemerally(
    hypobot: Hypobot, action_id: str
) -> None:
    bet = await posted_bet(hypobot, "shipped", user_id="U1")
    before = await footprint(bet)
    status, _ = await click(hypobot, action_id, bet, user_id="U2")
    assert status == 200
    assert "Only H-1's owner <@U1>" in ephemeral_reply(hypobot)
    assert not hypobot.fake.calls_to("views.open")
    assert await footprint(bet) == before


# --- snooze ----------------------------------------------------------------------------------


async def test_snooze_button_silences_a_shipped_bet_for_three_days(hypobot: Hypobot) -> None:
    bet = await posted_bet(hypobot, "shipped")
    await click(hypobot, ids.SNOOZE, bet)
    snoozed = await Bet.get(id=bet.id)
    assert snoozed.snoozed_until == hypobot.clock() + timedelta(days=3)
    assert "no nudges until" in ephemeral_reply(hypobot)


async def test_snooze_button_shows_the_snooze_on_the_card(hypobot: Hypobot) -> None:
    bet = await posted_bet(hypobot, "shipped")
    await click(hypobot, ids.SNOOZE, bet)
    [update] = hypobot.fake.calls_to("chat.update")
    assert update.params["ts"] == bet.card_ts
    assert "💤 snoozed until" in str(update.blocks)


async def test_snooze_button_on_a_proposed_bet_is_refused(hypobot: Hypobot) -> None:
    bet = await posted_bet(hypobot, "proposed")
    before = await footprint(bet)
    await click(hypobot, ids.SNOOZE, bet)
    assert "only a shipped bet" in ephemeral_reply(hypobot)
    assert await footprint(bet) == before
    assert not hypobot.fake.calls_to("chat.update")


# --- values that are not what the card sent ------------------------------------------------

CARD_BUTTONS = (
    ids.START,
    ids.SHIP,
    ids.ADD_EVIDENCE,
    ids.VALIDATE,
    ids.INVALIDATE,
    ids.KILL,
    ids.SNOOZE,
)


@pytest.mark.parametrize("action_id", CARD_BUTTONS)
async def test_button_naming_another_workspaces_bet_is_refused(
    hypobot: Hypobot, action_id: str
) -> None:
    bet = await posted_bet(hypobot, "proposed", team_id="TA")
    before = await footprint(bet)
    status, _ = await click(hypobot, action_id, bet, team_id="TB", user_id="UB")
    assert status == 200
    assert "doesn't exist in this workspace" in ephemeral_reply(hypobot)
    assert not hypobot.fake.calls_to("views.open")
    assert await footprint(bet) == before


@pytest.mark.parametrize(
    "value",
    ["abc", "", "1; DROP TABLE bets", "-1", "1.0", "²", "１", "9" * 40],
    ids=["word", "empty", "sql", "negative", "float", "superscript", "fullwidth", "huge"],
)
async def test_button_with_a_tampered_value_is_refused_calmly(hypobot: Hypobot, value: str) -> None:
    bet = await posted_bet(hypobot, "proposed")
    before = await footprint(bet)
    status, _ = await hypobot.action(ids.START, value, **CARD_CLICK, message_ts=bet.card_ts)
    await settle(hypobot)
    assert status == 200
    assert "doesn't exist in this workspace" in ephemeral_reply(hypobot)
    assert await footprint(bet) == before


# --- App Home --------------------------------------------------------------------------------


async def test_new_bet_button_in_app_home_opens_the_new_bet_modal(hypobot: Hypobot) -> None:
    await hypobot.action(
        ids.NEW_BET,
        "new",
        channel_id=None,
        container={"type": "view", "view_id": "VHOME"},
        trigger_id="trig-home",
    )
    await settle(hypobot)
    [opened] = hypobot.fake.calls_to("views.open")
    assert opened.params["trigger_id"] == "trig-home"
    assert opened.view["callback_id"] == ids.NEW_BET_VIEW
    assert not hypobot.fake.block_errors


async def test_a_click_without_a_response_url_is_acked_at_once_and_still_moves_the_bet(
    hypobot: Hypobot,
) -> None:
    """Slack sends a response_url with every click; without one (a forged or replayed body)
    the answer that could not be sent used to undo Bolt's ack."""
    bet = await posted_bet(hypobot)
    status, _ = await hypobot.slack.action(ids.START, str(bet.id), message_ts=bet.card_ts)
    assert status == 200  # was 404 "unhandled request", after Slack's 3 s
    await settle(hypobot)  # the move runs after the ack: wait for it, not for luck
    assert (await Bet.get(id=bet.id)).state == "building"
