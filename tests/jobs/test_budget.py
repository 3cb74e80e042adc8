"""Never flood a channel: at most N nudges a channel's local day (`settings nudges-per-day`,
default 5), most overdue first, the rest on a later day and counted in the digest; imported
bets get their card with their first nudge, within the budget. Both databases."""

from __future__ import annotations

import io
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

from bets.lifecycle import Move, MoveRequest
from console.csv_import import import_file
from storage.models import Bet, Event, Outbox
from tests.conftest import Hypobot
from tests.flows import settle
from tests.jobs_support import run_job
from tests.stored import moved, stored_bet

MONDAY = datetime(2026, 11, 2, 10, 0, tzinfo=UTC)  # channel zone UTC, hours 09-18 Mon-Fri
TUESDAY_0900 = datetime(2026, 11, 3, 9, 0, tzinfo=UTC)
# Cards are delivered from here on, a minute apart on the clock: the sender paces posts to
# Slack's one a second per channel, and a clock that moves on never makes it wait.
CARDS_FROM = MONDAY.replace(hour=5)
NUDGE = "evidence is overdue"


async def shipped_bets(hypobot: Hypobot, ages: list[float], channel: str = "C1") -> list[Bet]:
    """One bet per age (days since shipping at MONDAY, in the order given), cards posted."""
    numbers = []
    for age in ages:
        bet = await stored_bet("T1", now=MONDAY - timedelta(days=30), channel=channel)
        await moved("T1", bet.id, MoveRequest(Move.SHIP), now=MONDAY - timedelta(days=age))
        numbers.append(bet.number)
        hypobot.clock.now = CARDS_FROM + timedelta(minutes=await Bet.filter(team_id="T1").count())
        await hypobot.deliver()
    return [await Bet.get(team_id="T1", number=number) for number in numbers]


def posted(hypobot: Hypobot) -> list[Any]:
    """The messages Slack took (not the tries it refused)."""
    return [
        call
        for call in hypobot.fake.calls_to("chat.postMessage")
        if call.result is not None and call.result.get("ok")
    ]


def nudged(hypobot: Hypobot, channel: str = "C1") -> list[Any]:
    return [call for call in posted(hypobot) if call.channel == channel and NUDGE in call.text]


def nudged_numbers(hypobot: Hypobot, channel: str = "C1") -> list[int]:
    return sorted(
        int(call.text.split(":")[0].removeprefix("H-")) for call in nudged(hypobot, channel)
    )


def cards_posted(hypobot: Hypobot, channel: str = "C1") -> list[Any]:
    return [
        call
        for call in posted(hypobot)
        if call.channel == channel and call.thread_ts is None and NUDGE not in call.text
    ]


def digests(hypobot: Hypobot) -> list[Any]:
    return [call for call in posted(hypobot) if call.text.startswith("Hypobot digest")]


# --- the budget ------------------------------------------------------------------------------


async def test_a_channel_gets_at_most_five_nudges_a_day_the_most_overdue_first(
    hypobot: Hypobot,
) -> None:
    bets = await shipped_bets(hypobot, [6, 11, 4, 9, 7, 10, 5, 8])  # H-1 … H-8, all due
    report = await run_job(hypobot, "nudges", MONDAY)
    oldest_five = sorted(bet.number for bet in bets if (MONDAY - bet.shipped_at).days >= 7)
    assert nudged_numbers(hypobot) == oldest_five == [2, 4, 5, 6, 8]
    assert report["nudged"] == 5 and report["over_budget"] == 3
    assert not hypobot.fake.block_errors


async def test_the_rest_wait_for_the_next_day_inside_working_hours(hypobot: Hypobot) -> None:
    await hypobot.command("settings nudges-per-day 2")
    await shipped_bets(hypobot, [6, 11, 4, 9])
    await run_job(hypobot, "nudges", MONDAY)
    assert nudged_numbers(hypobot) == [2, 4]
    await run_job(hypobot, "nudges", MONDAY + timedelta(hours=7, minutes=59))  # 17:59, same day
    assert len(nudged(hypobot)) == 2
    await run_job(hypobot, "nudges", TUESDAY_0900 - timedelta(minutes=1))  # before hours
    assert len(nudged(hypobot)) == 2
    await run_job(hypobot, "nudges", TUESDAY_0900)
    assert nudged_numbers(hypobot) == [1, 2, 3, 4]
    assert await Event.filter(kind="nudge").count() == 4


async def test_settings_nudges_per_day_sets_the_channels_budget(hypobot: Hypobot) -> None:
    _, body = await hypobot.command("settings nudges-per-day 2")
    assert "At most 2 nudges a day, most overdue first" in body["text"]
    await shipped_bets(hypobot, [4, 5, 6])
    await run_job(hypobot, "nudges", MONDAY)
    assert nudged_numbers(hypobot) == [2, 3]


async def test_a_budget_of_zero_stops_nudges_in_the_channel(hypobot: Hypobot) -> None:
    _, body = await hypobot.command("settings nudges-per-day 0")
    assert "Nudges: off in this channel" in body["text"]
    await shipped_bets(hypobot, [4, 5])
    await run_job(hypobot, "nudges", MONDAY)
    assert nudged(hypobot) == []


async def test_each_channel_has_its_own_budget(hypobot: Hypobot) -> None:
    await hypobot.command("settings nudges-per-day 2", channel_id="C1")
    await hypobot.command("settings nudges-per-day 2", channel_id="C2")
    await shipped_bets(hypobot, [4, 5, 6], channel="C1")
    await shipped_bets(hypobot, [4, 5], channel="C2")
    await run_job(hypobot, "nudges", MONDAY)
    assert len(nudged(hypobot, "C1")) == 2
    assert len(nudged(hypobot, "C2")) == 2


async def test_the_budget_day_is_the_channels_local_day(hypobot: Hypobot) -> None:
    """Los Angeles is UTC-8 in November: Monday 17:00 there and Tuesday 09:00 there fall on
    the same UTC date, but on two local days, so each gets a budget of its own."""
    await hypobot.command("settings zone America/Los_Angeles nudges-per-day 2")
    await shipped_bets(hypobot, [4, 5, 6, 7])
    monday_1700_la = datetime(2026, 11, 3, 1, 0, tzinfo=UTC)
    await run_job(hypobot, "nudges", monday_1700_la)
    assert nudged_numbers(hypobot) == [3, 4]
    tuesday_0900_la = datetime(2026, 11, 3, 17, 0, tzinfo=UTC)
    await run_job(hypobot, "nudges", tuesday_0900_la)
    assert nudged_numbers(hypobot) == [1, 2, 3, 4]


async def test_escalations_are_not_counted_against_the_budget(hypobot: Hypobot) -> None:
    await hypobot.command("settings nudges-per-day 2 lead <@ULEAD|lena>")  # SLE 14 days
    old, due_later = await shipped_bets(hypobot, [20, 3 - 1 / 48])  # H-2 due at 10:30
    await run_job(hypobot, "nudges", MONDAY)
    assert nudged_numbers(hypobot) == [old.number]
    assert (await Bet.get(id=old.id)).escalated_at == MONDAY  # past the SLE, after a nudge
    await run_job(hypobot, "nudges", MONDAY + timedelta(hours=1))
    assert nudged_numbers(hypobot) == [old.number, due_later.number]


async def test_a_bet_held_back_before_its_first_nudge_is_not_escalated(hypobot: Hypobot) -> None:
    await hypobot.command("settings nudges-per-day 1 lead <@ULEAD|lena>")
    older, old = await shipped_bets(hypobot, [30, 20])  # both past the 14-day SLE
    await run_job(hypobot, "nudges", MONDAY)
    assert nudged_numbers(hypobot) == [older.number]
    assert (await Bet.get(id=old.id)).escalated_at is None  # T3: a nudge first
    await run_job(hypobot, "nudges", TUESDAY_0900)
    assert (await Bet.get(id=old.id)).escalated_at == TUESDAY_0900


async def test_a_sweep_counts_the_nudges_that_wait_by_what_holds_each_back(
    hypobot: Hypobot,
) -> None:
    await hypobot.command("settings nudges-per-day 1")
    snoozed, free, oldest, away = await shipped_bets(hypobot, [6, 7, 8, 9])
    await hypobot.command(f"snooze H-{snoozed.number} 3d")
    await Bet.filter(id=away.id).update(owner_id="U2")
    await hypobot.command("away until 2026-12-01", user_id="U2")

    report = await run_job(hypobot, "nudges", MONDAY)

    assert nudged_numbers(hypobot) == [oldest.number]
    waiting = {key: report[key] for key in ("over_budget", "snoozed", "owner_away")}
    assert waiting == {"over_budget": 1, "snoozed": 1, "owner_away": 1}
    assert report["outside_hours"] == 0 and "waiting" not in report
    assert free.number not in nudged_numbers(hypobot)


# --- the digest counts what waits ---------------------------------------------------------------


async def test_the_digest_counts_the_bets_the_budget_holds_back(hypobot: Hypobot) -> None:
    await hypobot.command("settings nudges-per-day 2")
    await shipped_bets(hypobot, [4, 5, 6, 7, 8])
    await run_job(hypobot, "nudges", MONDAY.replace(hour=9))
    await run_job(hypobot, "digests", MONDAY.replace(hour=9, minute=30))
    [digest] = digests(hypobot)
    held = "💤 3 more awaiting feedback are due a nudge and wait for a later day"
    assert held in str(digest.blocks)
    assert "this channel gets at most 2 nudges a day, most overdue first" in str(digest.blocks)
    assert "3 due a nudge on a later day" in digest.text
    assert not hypobot.fake.block_errors


async def test_the_digest_counts_them_before_the_days_sweep_too(hypobot: Hypobot) -> None:
    await hypobot.command("settings nudges-per-day 2 hours 10:00-18:00")
    await shipped_bets(hypobot, [4, 5, 6])
    await run_job(hypobot, "digests", MONDAY.replace(hour=9, minute=30))
    [digest] = digests(hypobot)
    assert "💤 1 more awaiting feedback is due a nudge and waits" in str(digest.blocks)


async def test_a_digest_within_the_budget_says_nothing_about_it(hypobot: Hypobot) -> None:
    await shipped_bets(hypobot, [4, 5, 6])
    await run_job(hypobot, "digests", MONDAY.replace(hour=9, minute=30))
    [digest] = digests(hypobot)
    assert "due a nudge" not in str(digest.blocks) and "due a nudge" not in digest.text


# --- imported bets ------------------------------------------------------------------------------

CSV_HEADER = (
    "channel_id,title,hypothesis,signal,owner_id,state,link,created_at,shipped_at,closed_at,learned"
)


def imported_row(channel: str, title: str, shipped: str, owner: str = "UALICE") -> str:
    return (
        f"{channel},{title},We believe {title.lower()} for admins will cut tickets,"
        f"tickets drop 30%,{owner},shipped,,2026-09-01,{shipped},,"
    )


async def import_csv(tmp_path: Path, rows: list[str]) -> None:
    path = tmp_path / "bets.csv"
    path.write_text("\n".join([CSV_HEADER, *rows]) + "\n", encoding="utf-8")
    out, err = io.StringIO(), io.StringIO()
    status = await import_file(path, "T1", apply=True, now=MONDAY, out=out, err=err)
    assert status == 0, err.getvalue()


async def test_imported_shipped_bets_get_their_card_with_their_first_nudge_within_the_budget(
    hypobot: Hypobot, tmp_path: Path
) -> None:
    await hypobot.command("settings nudges-per-day 2", channel_id="C1")
    rows = [imported_row("C1", f"Export {n}", f"2026-10-{20 - n:02d}") for n in range(1, 5)]
    rows.append(imported_row("C2", "Search", "2026-10-20"))
    await import_csv(tmp_path, rows)
    assert await Outbox.all().count() == 0  # the import itself posts nothing

    report = await run_job(hypobot, "nudges", MONDAY)
    assert report["nudged"] == 3 and report["over_budget"] == 2
    for channel, count in (("C1", 2), ("C2", 1)):
        cards = cards_posted(hypobot, channel)
        nudges = nudged(hypobot, channel)
        assert len(cards) == len(nudges) == count
        carded = await Bet.filter(team_id="T1", channel_id=channel, card_ts__isnull=False)
        assert sorted(bet.card_ts for bet in carded) == sorted(call.result["ts"] for call in cards)
        # each nudge in its own bet's card thread, mentioning the owner
        thread_of = {bet.number: bet.card_ts for bet in carded}
        for nudge in nudges:
            number = int(nudge.text.split(":")[0].removeprefix("H-"))
            assert nudge.thread_ts == thread_of[number]
            assert "<@UALICE>" in str(nudge.blocks)
    # the most overdue first: H-3 and H-4 shipped first
    assert nudged_numbers(hypobot, "C1") == [3, 4]
    # past the 14-day SLE, they escalate too: in the card's thread as well
    escalations = [call for call in posted(hypobot) if "is overdue for evidence" in call.text]
    threads = {bet.card_ts for bet in await Bet.filter(team_id="T1", number__in=[3, 4])}
    assert len(escalations) == 2 and {call.thread_ts for call in escalations} == threads
    assert not hypobot.fake.block_errors

    await run_job(hypobot, "nudges", TUESDAY_0900)
    assert len(cards_posted(hypobot, "C1")) == len(nudged(hypobot, "C1")) == 4
    assert await Bet.filter(team_id="T1", card_ts__isnull=True).count() == 0


async def test_an_imported_bets_nudge_waits_for_its_card_when_the_card_must_be_retried(
    hypobot: Hypobot, tmp_path: Path
) -> None:
    await import_csv(tmp_path, [imported_row("C1", "Export", "2026-10-20")])
    hypobot.fake.server_errors["chat.postMessage"] = 1  # the card's first try fails
    await run_job(hypobot, "nudges", MONDAY)
    assert hypobot.fake.calls_to("chat.postMessage")  # tried once
    assert nudged(hypobot) == []  # and the nudge did not go out on its own
    hypobot.clock.now = MONDAY + timedelta(minutes=1)
    await hypobot.deliver()
    [card] = cards_posted(hypobot)
    [nudge] = nudged(hypobot)
    assert card.result["ok"] and nudge.thread_ts == card.result["ts"]
    assert (await Bet.get(team_id="T1", number=1)).card_ts == card.result["ts"]


async def test_a_bet_whose_card_is_still_queued_gets_no_second_card(hypobot: Hypobot) -> None:
    bet = await stored_bet("T1", now=MONDAY - timedelta(days=5), channel="C1")
    await moved("T1", bet.id, MoveRequest(Move.SHIP), now=MONDAY - timedelta(days=4))
    # Its card rows were never delivered (say, a private channel waiting for an invite).
    assert (await Bet.get(id=bet.id)).card_ts is None
    await run_job(hypobot, "nudges", MONDAY)
    assert await Outbox.filter(bet_id=bet.id, kind="card").count() == 2  # create and ship
    [card] = cards_posted(hypobot)
    [nudge] = nudged(hypobot)
    assert nudge.thread_ts == card.result["ts"] == (await Bet.get(id=bet.id)).card_ts


async def test_an_imported_bet_in_a_private_channel_gets_its_card_and_nudge_once_invited(
    hypobot: Hypobot, tmp_path: Path
) -> None:
    private = "GPRIVATE"
    hypobot.fake.private_channels.add(private)
    await import_csv(tmp_path, [imported_row(private, "Export", "2026-10-20")])
    await run_job(hypobot, "nudges", MONDAY)
    await run_job(hypobot, "outbox", MONDAY + timedelta(minutes=5))
    assert cards_posted(hypobot, private) == [] and nudged(hypobot, private) == []
    status, _ = await hypobot.slack.event(hypobot.fake.invite(private))
    assert status == 200
    await settle(hypobot)
    [card] = cards_posted(hypobot, private)
    [nudge] = nudged(hypobot, private)
    assert nudge.thread_ts == card.result["ts"]
