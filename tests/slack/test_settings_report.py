"""`/hypothesis settings` and `/hypothesis report` end to end."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

from storage.models import Channel, Event
from tests.conftest import Hypobot
from tests.jobs_support import shipped_bet

MONDAY = datetime(2026, 11, 2, 10, 0, tzinfo=UTC)


async def test_settings_show_the_defaults(hypobot: Hypobot) -> None:
    _, body = await hypobot.command("settings")
    text = body["text"]
    assert "09:30 mon-fri (UTC)" in text
    assert "09:00-18:00 mon-fri" in text
    assert "Nudge after 3d, repeat every 2d" in text
    assert "Default SLE: 2w" in text or "Default SLE: 14d" in text


async def test_settings_change_is_stored_and_written_as_an_event(hypobot: Hypobot) -> None:
    _, body = await hypobot.command(
        "settings digest 08:15 Europe/Berlin mon,wed,fri nudge-after 2d wip 4 hours 08:00-17:00"
    )
    assert "Updated" in body["text"]
    channel = await Channel.get(team_id="T1", channel_id="C1")
    assert (channel.digest_time, channel.timezone, channel.digest_days) == (
        "08:15",
        "Europe/Berlin",
        "0,2,4",
    )
    assert (channel.nudge_after_s, channel.wip_limit) == (2 * 86400, 4)
    assert (channel.hours_start, channel.hours_end) == ("08:00", "17:00")
    [event] = await Event.filter(team_id="T1", kind="settings")
    assert event.data["after"]["wip_limit"] == 4


async def test_settings_show_the_channels_zone_with_its_working_hours(hypobot: Hypobot) -> None:
    await hypobot.command("settings digest 09:30 Asia/Kolkata")
    _, body = await hypobot.command("settings hours 10:00-19:00")
    assert "• Working hours: 10:00-19:00 mon-fri (Asia/Kolkata)" in body["text"]
    assert "• Digest: 09:30 mon-fri (Asia/Kolkata)" in body["text"]


async def test_bad_zone_is_refused_and_changes_nothing(hypobot: Hypobot) -> None:
    await hypobot.command("settings wip 3")
    _, body = await hypobot.command("settings digest 09:30 Europe/Berlinn")
    assert "Europe/Berlinn" in body["text"]
    channel = await Channel.get(team_id="T1", channel_id="C1")
    assert channel.timezone == "UTC"
    assert await Event.filter(kind="settings").count() == 1


async def test_settings_are_per_workspace(hypobot: Hypobot) -> None:
    await hypobot.command("settings wip 3", team_id="TA")
    await hypobot.command("settings wip 9", team_id="TB")
    assert (await Channel.get(team_id="TA", channel_id="C1")).wip_limit == 3
    assert (await Channel.get(team_id="TB", channel_id="C1")).wip_limit == 9


async def test_report_posts_figures_and_a_chart_in_its_thread(hypobot: Hypobot) -> None:
    for day in range(6):
        bet = await shipped_bet(hypobot, MONDAY - timedelta(days=30 - day))
        hypobot.clock.now = bet.shipped_at + timedelta(days=day + 1)
        await hypobot.command(f"validate H-{bet.number} it worked")
    await shipped_bet(hypobot, MONDAY - timedelta(days=1))  # 6 bets waited as long: a forecast
    hypobot.clock.now = MONDAY
    status, body = await hypobot.command("report 30d")
    # Drawing the first chart may take past the ack budget: then the answer comes later.
    assert status == 200 and ("flow report" in body["text"].lower() or "Working" in body["text"])
    [complete] = await hypobot.fake.wait_for("files.completeUploadExternal")
    [report] = [m for m in hypobot.fake.messages["C1"] if "Flow report" in str(m.get("blocks"))]
    text = str(report["blocks"])
    assert "p85" in text and "85 % likely heard by" in text
    assert complete.params["thread_ts"] == report["ts"]
    [png] = hypobot.fake.uploads.values()
    assert png.startswith(b"\x89PNG")
    assert not hypobot.fake.block_errors


async def test_report_in_a_channel_without_bets_says_so(hypobot: Hypobot) -> None:
    _, body = await hypobot.command("report", channel_id="CEMPTY")
    assert "no bets yet" in body["text"]
