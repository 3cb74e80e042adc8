"""Daily digests, time-controlled, on both databases: local time across DST, nothing to say,
missed digests within and beyond the grace, exactly once, and constant query count."""

from __future__ import annotations

import logging
from datetime import UTC, datetime, timedelta

import pytest

from jobs import digests
from storage.models import Bet, Channel, Claim
from tests.conftest import Hypobot
from tests.jobs_support import run_job, shipped_bet
from usecases.digests import DueDigest

MONDAY = datetime(2026, 11, 2, 10, 0, tzinfo=UTC)


def digests_in(hypobot: Hypobot, channel: str = "C1") -> list[object]:
    return [
        call
        for call in hypobot.fake.calls_to("chat.postMessage")
        if call.channel == channel and "digest" in str(call.params.get("text", "")).lower()
    ]


async def test_digest_goes_out_once_at_local_time(hypobot: Hypobot) -> None:
    await shipped_bet(hypobot, MONDAY)
    tuesday_0929 = datetime(2026, 11, 3, 9, 29, tzinfo=UTC)
    await run_job(hypobot, "digests", tuesday_0929)
    assert digests_in(hypobot) == []
    for minutes in (1, 2, 30):
        await run_job(hypobot, "digests", tuesday_0929 + timedelta(minutes=minutes))
    [digest] = digests_in(hypobot)
    assert "H-1" in str(digest.blocks)
    assert not hypobot.fake.block_errors


async def test_a_digest_counts_one_bet_as_one_bet(hypobot: Hypobot) -> None:
    bet = await shipped_bet(hypobot, MONDAY)
    hypobot.clock.now = MONDAY + timedelta(days=2)
    await hypobot.command(f"validate H-{bet.number} tickets fell 35%")
    await run_job(hypobot, "digests", datetime(2026, 11, 5, 9, 30, tzinfo=UTC))
    [digest] = digests_in(hypobot)
    shown = str(digest.blocks)
    assert "1 bet shipped in the last 30 days, 1 heard, 0 not yet" in shown, shown
    assert "of the 1 bet heard: median 2d" in shown, shown
    assert "1 bets" not in shown and "(s)" not in shown


async def test_channel_with_nothing_to_say_gets_no_digest(hypobot: Hypobot) -> None:
    await hypobot.command("settings wip 3")  # tracked, but no bets
    await run_job(hypobot, "digests", datetime(2026, 11, 3, 9, 30, tzinfo=UTC))
    assert digests_in(hypobot) == []
    assert (await Channel.get(channel_id="C1")).last_digest_on == "2026-11-03"


@pytest.mark.parametrize(
    ("day", "utc_hour"),
    [(datetime(2026, 3, 27), 8), (datetime(2026, 3, 30), 7), (datetime(2026, 10, 26), 8)],
    ids=["CET", "CEST after spring forward", "CET after fall back"],
)
async def test_berlin_digest_stays_at_0930_local_across_dst(
    hypobot: Hypobot, day: datetime, utc_hour: int
) -> None:
    await hypobot.command("settings digest 09:30 Europe/Berlin mon-fri")
    await shipped_bet(hypobot, day.replace(tzinfo=UTC) - timedelta(days=3))
    at = day.replace(hour=utc_hour, minute=30, tzinfo=UTC)
    await run_job(hypobot, "digests", at - timedelta(minutes=1))
    assert digests_in(hypobot) == []
    await run_job(hypobot, "digests", at)
    assert len(digests_in(hypobot)) == 1


async def test_missed_digest_is_posted_once_within_the_grace(hypobot: Hypobot) -> None:
    await shipped_bet(hypobot, MONDAY)
    back_up = datetime(2026, 11, 3, 12, 29, tzinfo=UTC)  # 09:30 + 2h59m
    await run_job(hypobot, "digests", back_up)
    await run_job(hypobot, "digests", back_up + timedelta(minutes=1))
    assert len(digests_in(hypobot)) == 1


async def test_missed_digest_beyond_the_grace_is_skipped(hypobot: Hypobot) -> None:
    await shipped_bet(hypobot, MONDAY)
    await run_job(hypobot, "digests", datetime(2026, 11, 3, 12, 31, tzinfo=UTC))
    assert digests_in(hypobot) == []
    await run_job(hypobot, "digests", datetime(2026, 11, 4, 9, 30, tzinfo=UTC))
    assert len(digests_in(hypobot)) == 1


async def test_no_digest_on_weekends_by_default(hypobot: Hypobot) -> None:
    await shipped_bet(hypobot, MONDAY)
    await run_job(hypobot, "digests", datetime(2026, 11, 7, 9, 30, tzinfo=UTC))
    assert digests_in(hypobot) == []


async def test_digest_off_means_no_digest(hypobot: Hypobot) -> None:
    await hypobot.command("settings digest off")
    await shipped_bet(hypobot, MONDAY)
    await run_job(hypobot, "digests", datetime(2026, 11, 3, 9, 30, tzinfo=UTC))
    assert digests_in(hypobot) == []


async def test_two_replicas_at_the_same_moment_post_one_digest(hypobot: Hypobot) -> None:
    await shipped_bet(hypobot, MONDAY)
    at = datetime(2026, 11, 3, 9, 30, tzinfo=UTC)
    await run_job(hypobot, "digests", at, owner="replica-a")
    await run_job(hypobot, "digests", at, owner="replica-b")
    assert len(digests_in(hypobot)) == 1
    assert await Claim.filter(job="digest").count() == 1


async def test_escalated_bet_leads_the_digest(hypobot: Hypobot) -> None:
    await shipped_bet(hypobot, MONDAY - timedelta(days=2))
    late = await shipped_bet(hypobot, MONDAY)
    await Bet.filter(id=late.id).update(escalated_at=MONDAY + timedelta(hours=1))
    await run_job(hypobot, "digests", datetime(2026, 11, 3, 9, 30, tzinfo=UTC))
    [digest] = digests_in(hypobot)
    text = str(digest.blocks)
    assert text.index("H-2") < text.index("H-1")


class QueryCounter(logging.Handler):
    """Counts the SQL statements Tortoise sends (it logs each one at DEBUG)."""

    def __init__(self) -> None:
        super().__init__(logging.DEBUG)
        self.count = 0

    def emit(self, record: logging.LogRecord) -> None:
        self.count += 1


async def _queries_for_digest(hypobot: Hypobot, bets: int) -> int:
    now = MONDAY + timedelta(days=10)
    channel = await Channel.get(channel_id="C1")
    rows = [
        Bet(
            team_id="T1",
            number=1000 + i,
            channel_id="C1",
            card_ts=f"9.{i}",
            title=f"bet {i}",
            hypothesis="We believe x for y will z",
            signal="s rises" if i % 3 else "",
            owner_id="U1",
            creator_id="U1",
            state=("shipped", "building", "validated")[i % 3],
            created_at=MONDAY,
            updated_at=MONDAY,
            shipped_at=MONDAY,
            started_at=MONDAY,
            closed_at=MONDAY + timedelta(days=2) if i % 3 == 2 else None,
            first_feedback_at=MONDAY + timedelta(days=2) if i % 3 == 2 else None,
        )
        for i in range(bets)
    ]
    await Bet.filter(team_id="T1").delete()
    await Bet.bulk_create(rows)
    counter = QueryCounter()
    logger = logging.getLogger("tortoise.db_client")
    level = logger.level
    logger.addHandler(counter)
    logger.setLevel(logging.DEBUG)
    try:
        due = DueDigest(channel.team_id, channel.channel_id, now.date(), now, channel)
        payload = await digests.payload_for(due, now)
    finally:
        logger.removeHandler(counter)
        logger.setLevel(level)
    assert payload is not None
    return counter.count


async def test_digest_queries_do_not_grow_with_the_number_of_bets(hypobot: Hypobot) -> None:
    await hypobot.command("settings wip 5")
    small = await _queries_for_digest(hypobot, 5)
    large = await _queries_for_digest(hypobot, 500)
    assert small == large
    assert small >= 1
