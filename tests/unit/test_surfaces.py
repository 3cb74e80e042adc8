"""T6 on every surface: a bet's age since shipping reads the same on the card, in `list`,
in the nudge, in the digest and in the report, and that reading is `format_duration`'s
(rounded to the nearest unit, never truncated, no weeks)."""

from __future__ import annotations

import json
import re
from datetime import UTC, datetime, timedelta
from zoneinfo import ZoneInfo

from hypothesis import given, settings
from hypothesis import strategies as st

from bets.flow import flow_report
from bets.lifecycle import State
from bets.metrics import BetFacts, learned_since
from bets.reading import format_duration
from bot.blocks.card import card
from bot.blocks.digest import digest_blocks
from bot.blocks.lists import bet_line
from bot.blocks.nudge import nudge_blocks
from bot.blocks.report import report_blocks

NOW = datetime(2026, 11, 18, 11, 0, tzinfo=UTC)
TZ = ZoneInfo("Europe/Berlin")
SHIPPED = re.compile(r"shipped (\d+[mhd]) ago")


def shipped_bet(age: timedelta) -> BetFacts:
    return BetFacts(
        number=1,
        state=State.SHIPPED,
        created_at=NOW - age - timedelta(days=1),
        started_at=None,
        shipped_at=NOW - age,
        closed_at=None,
        first_feedback_at=None,
        id=1,
        title="Faster search",
        hypothesis="We believe faster search for admins will cut tickets",
        signal="tickets drop",
        owner_id="U1",
        creator_id="U1",
    )


def readings(age: timedelta) -> dict[str, set[str]]:
    """Every "shipped X ago" each surface shows for a bet shipped `age` ago."""
    bet = shipped_bet(age)
    report = flow_report([bet], now=NOW, window=timedelta(days=30))
    digest = digest_blocks(
        report,
        channel_name=None,
        learned=learned_since([bet], None, NOW),
        titles={1: bet.title},
        owners={1: bet.owner_id},
        wip_limit=None,
        no_signal=(),
        now=NOW,
        tz=TZ,
    )
    forecast = report.awaiting[0].forecast  # what the card and the list show with the age (F4)
    surfaces = {
        "card": card(bet, now=NOW, tz=TZ, forecast=forecast),
        "list": bet_line(bet, NOW, forecast=forecast, tz=TZ),
        "nudge": nudge_blocks(bet, now=NOW, sle=timedelta(days=14), number=1),
        "digest": digest,
        "report": report_blocks(report, window_label="last 30 days", titles={}, now=NOW, tz=TZ),
    }
    return {
        name: set(SHIPPED.findall(json.dumps(blocks, ensure_ascii=False)))
        for name, blocks in surfaces.items()
    }


@settings(max_examples=200, deadline=None)
@given(st.integers(min_value=0, max_value=120 * 24 * 3600))
def test_t6_an_age_reads_the_same_on_every_surface(seconds: int) -> None:
    age = timedelta(seconds=seconds)
    expected = format_duration(age)
    for surface, seen in readings(age).items():
        assert seen == {expected}, (surface, seen, expected)


def test_t6_the_ages_people_reported_read_rounded_everywhere() -> None:
    for age, text in (
        (timedelta(hours=47, minutes=59), "2d"),
        (timedelta(days=3, hours=23, minutes=59), "4d"),
        (timedelta(days=35), "35d"),
        (timedelta(hours=47, minutes=29), "47h"),
    ):
        assert set().union(*readings(age).values()) == {text}
