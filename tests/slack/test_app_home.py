"""The App Home tab end to end: my open bets with their buttons, the New bet button, and
the flow figures of the channels I bet in, all inside Slack's 100 blocks."""

from __future__ import annotations

import json
from typing import Any

from bot.answers import Actor, BetDraft
from bot.blocks import ids
from tests.conftest import Hypobot
from tests.flows import ONE_LINER, action_ids, settle


async def open_home(hypobot: Hypobot, user: str = "U1", team_id: str = "T1") -> dict[str, Any]:
    hypobot.fake.reset()
    event = {"type": "app_home_opened", "user": user, "channel": "D1", "tab": "home"}
    status, _ = await hypobot.slack.event(event | {"event_ts": "1.0"}, team_id=team_id)
    assert status == 200
    await settle(hypobot)
    [published] = hypobot.fake.calls_to("views.publish")
    assert published.params["user_id"] == user
    assert not hypobot.fake.block_errors
    return published.view or {}


def text_of(view: dict[str, Any]) -> str:
    return json.dumps(view["blocks"], ensure_ascii=False)


def channel_sections(view: dict[str, Any]) -> list[str]:
    return [
        block["text"]["text"]
        for block in view["blocks"]
        if block["type"] == "section" and block["text"]["text"].startswith("*<#")
    ]


async def bet_in(hypobot: Hypobot, channel: str, title: str, user: str = "U1") -> None:
    actor = Actor("T1", user, channel)
    draft = BetDraft(channel_id=channel, title=title, hypothesis=f"We believe {title} will help")
    reply = await hypobot.runtime.answers.create(actor, draft)
    assert reply.ok, reply.text


async def test_home_shows_my_bets_by_state_with_their_buttons(hypobot: Hypobot) -> None:
    await hypobot.command(f"new {ONE_LINER}")
    await hypobot.command("new We believe dark mode for night owls will raise retention")
    await hypobot.command("ship H-2")
    await hypobot.command("new We believe a tour for new admins will help", user_id="U9")
    view = await open_home(hypobot)
    shown = text_of(view)
    assert view["type"] == "home"
    assert shown.index("🚀 shipped") < shown.index("💡 proposed")
    assert "*H-1*" in shown and "*H-2*" in shown and "*H-3*" not in shown
    assert ids.NEW_BET in action_ids(view["blocks"])
    assert ids.SNOOZE in action_ids(view["blocks"]) and ids.START in action_ids(view["blocks"])


async def test_new_bet_button_on_home_opens_the_form(hypobot: Hypobot) -> None:
    await open_home(hypobot)
    container = {"type": "view", "view_id": "VHOME"}
    status, _ = await hypobot.action(ids.NEW_BET, "new", channel_id=None, container=container)
    assert status == 200
    await settle(hypobot)
    [opened] = hypobot.fake.calls_to("views.open")
    assert (opened.view or {})["callback_id"] == ids.NEW_BET_VIEW


async def test_home_shows_my_channels_awaiting_wip_median_ttf_and_sle(hypobot: Hypobot) -> None:
    await hypobot.command("settings wip 3")
    await hypobot.command(f"new {ONE_LINER}")
    await hypobot.command("ship H-1")
    hypobot.clock.advance(days=2)
    await hypobot.command("evidence H-1 + tickets fell 30%")
    await hypobot.command("new We believe dark mode for night owls will raise retention")
    await hypobot.command("start H-2")
    await hypobot.command("new We believe a tour for new admins will cut questions")
    await hypobot.command("ship H-3")
    view = await open_home(hypobot)
    [section] = channel_sections(view)
    assert section.startswith("*<#C1>*")
    assert "*WIP* 1/3" in section
    assert "*awaiting feedback* 1/3" in section
    assert "*time to feedback* median 2d of the 1 bet heard (last 30 days)" in section
    assert "*SLE* 14d (the channel's setting)" in section


async def test_home_covers_the_five_channels_of_my_latest_bets(hypobot: Hypobot) -> None:
    for n in range(7):
        await bet_in(hypobot, f"C{n}", f"bet {n}")
        hypobot.clock.advance(hours=1)
    await bet_in(hypobot, "COTHER", "someone else's", user="U9")
    view = await open_home(hypobot)
    shown = [section.split("*")[1] for section in channel_sections(view)]
    assert shown == ["<#C6>", "<#C5>", "<#C4>", "<#C3>", "<#C2>"]


async def test_many_bets_stay_inside_100_blocks_and_point_to_the_list(hypobot: Hypobot) -> None:
    for n in range(45):
        await bet_in(hypobot, f"C{n % 6}", f"bet {n}")
    view = await open_home(hypobot)
    assert len(view["blocks"]) <= 100
    shown = text_of(view)
    assert "more — `/hypothesis list mine`" in shown
    assert len(channel_sections(view)) == 5


async def test_someone_without_bets_gets_an_invitation_and_no_channels(hypobot: Hypobot) -> None:
    await hypobot.command(f"new {ONE_LINER}", user_id="U9")
    view = await open_home(hypobot, user="U1")
    assert "No open bets" in text_of(view)
    assert channel_sections(view) == []


async def test_home_shows_nothing_of_another_workspace(hypobot: Hypobot) -> None:
    await hypobot.command(f"new {ONE_LINER}", team_id="TA")
    view = await open_home(hypobot, team_id="TB")
    assert "H-1" not in text_of(view) and channel_sections(view) == []


async def test_a_home_event_without_a_user_is_acked_and_publishes_nothing(
    hypobot: Hypobot, caplog: Any
) -> None:
    hypobot.fake.reset()
    event = {"type": "app_home_opened", "channel": "D1", "tab": "home", "event_ts": "1.0"}
    status, _ = await hypobot.slack.event(event)
    assert status == 200
    await settle(hypobot)
    assert hypobot.fake.calls_to("views.publish") == []
    assert not [r for r in caplog.records if r.levelname == "ERROR"]
