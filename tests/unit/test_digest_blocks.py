"""The digest and the report as Slack would receive them: built from real flow metrics over
hand-made bets, valid for slack_sdk.models, inside Slack's limits, user text inert."""

from __future__ import annotations

from collections.abc import Sequence
from datetime import UTC, datetime, timedelta
from typing import Any
from zoneinfo import ZoneInfo

from bets.flow import FlowReport, flow_report
from bets.lifecycle import State
from bets.metrics import BetFacts, LearnedSince, learned_since
from bot.blocks.digest import digest_blocks, digest_text, weekly_section
from bot.blocks.report import report_blocks, report_text
from bot.blocks.text import MAX_BLOCKS_MESSAGE, MAX_FALLBACK_TEXT
from tests.unit.test_blocks import assert_valid_blocks, strings

NOW = datetime(2026, 4, 30, 12, 0, tzinfo=UTC)  # a Thursday
TZ = ZoneInfo("Europe/Berlin")
WINDOW = timedelta(days=30)
LAST_DIGEST = NOW - timedelta(days=1)
HOSTILE = "Faster search <!channel> <https://evil.example|click> & co"


def days(n: float) -> timedelta:
    return timedelta(days=n)


def ago(n: float | None) -> datetime | None:
    return None if n is None else NOW - days(n)


def bet(
    number: int,
    state: State,
    *,
    created: float = 60,
    started: float | None = None,
    shipped: float | None = None,
    feedback: float | None = None,
    closed: float | None = None,
    has_signal: bool = True,
    escalated: float | None = None,
    expected: float | None = None,
) -> BetFacts:
    """A bet whose moments are given in days before NOW (negative: after it): `escalated`
    when its lead was told (T3), `expected` its expected date (T1)."""
    return BetFacts(
        number=number,
        state=state,
        created_at=NOW - days(created),
        started_at=ago(started),
        shipped_at=ago(shipped),
        closed_at=ago(closed),
        first_feedback_at=ago(feedback),
        has_signal=has_signal,
        escalated=escalated is not None,
        escalated_at=ago(escalated),
        expected_at=ago(expected),
    )


def learned_bets(ttfs: Sequence[float], *, first: int = 100) -> list[BetFacts]:
    """Bets validated `ttf` days after shipping, a week ago or so (inside every window)."""
    return [
        bet(first + index, State.VALIDATED, shipped=7 + ttf, closed=7)
        for index, ttf in enumerate(ttfs)
    ]


def digest_for(
    bets: Sequence[BetFacts],
    *,
    titles: dict[int, str] | None = None,
    owners: dict[int, str] | None = None,
    wip_limit: int | None = None,
    weekly: FlowReport | None = None,
) -> list[dict[str, Any]] | None:
    report = flow_report(bets, now=NOW, window=WINDOW)
    return digest_blocks(
        report,
        channel_name="growth",
        learned=learned_since(bets, LAST_DIGEST, NOW),
        titles=titles if titles is not None else {b.number: f"Bet {b.number}" for b in bets},
        owners=owners if owners is not None else {b.number: "U0OWNER" for b in bets},
        wip_limit=wip_limit,
        no_signal=report.without_signal,
        now=NOW,
        tz=TZ,
        weekly=weekly,
    )


def text_of(blocks: list[dict[str, Any]] | None) -> str:
    assert blocks is not None
    return "\n".join(strings(blocks))


def section_starting(blocks: list[dict[str, Any]] | None, prefix: str) -> str:
    assert blocks is not None
    found = [
        block["text"]["text"]
        for block in blocks
        if block["type"] == "section" and "text" in block
        if block["text"]["text"].startswith(prefix)
    ]
    assert len(found) == 1, f"expected one section starting {prefix!r}"
    return found[0]


# --------------------------------------------------------------------------- digest


def test_nothing_to_say_gives_no_digest() -> None:
    # learned before the last digest, nothing open
    bets = [bet(1, State.VALIDATED, shipped=10, closed=5), bet(2, State.KILLED, closed=3)]
    assert digest_for(bets) is None


def test_a_bet_learned_since_the_last_digest_is_something_to_say() -> None:
    blocks = digest_for([bet(1, State.VALIDATED, shipped=5, closed=0.5)])
    assert_valid_blocks(blocks or [])
    learned = section_starting(blocks, "🎓 *Learned since the last digest*")
    assert "*H-1* Bet 1 — validated" in learned


def test_escalated_bets_are_the_overdue_ones_and_lead_the_digest() -> None:
    bets = [
        bet(1, State.SHIPPED, shipped=10),  # at risk: older, but not leading
        bet(2, State.SHIPPED, shipped=2, escalated=0.5),  # young, escalated
        bet(3, State.SHIPPED, shipped=16),  # past the default SLE of 14d, not escalated
    ]
    blocks = digest_for(bets)
    assert blocks is not None
    assert_valid_blocks(blocks)
    # F7: overdue is escalated, nothing else; a bet past the SLE is not overdue by that alone
    assert blocks[1]["text"]["text"].startswith("⏰ *Overdue* (1): escalated, still no evidence")
    overdue = section_starting(blocks, "⏰")
    assert "• *H-2* Bet 2 · <@U0OWNER> · shipped 2d ago · 🟢 on track · escalated" in overdue
    assert "H-1" not in overdue and "H-3" not in overdue
    awaiting = section_starting(blocks, "⏳ *Awaiting feedback* (2)")
    assert awaiting.index("*H-3*") < awaiting.index("*H-1*")
    assert "*H-3* Bet 3 · shipped 16d ago · 🔴 past SLE 14d" in awaiting
    assert "*H-1* Bet 1 · shipped 10d ago · 🟡 at risk" in awaiting


def test_awaiting_bets_are_listed_oldest_first_with_their_status() -> None:
    bets = [
        *learned_bets([2, 3, 4, 5, 6, 7, 8, 9, 10, 11]),
        bet(1, State.SHIPPED, shipped=1),
        bet(2, State.SHIPPED, shipped=8),
    ]
    # counting the two waiting bets (at 1d and 8d): S(6d) = 6/11, S(7d) = 5/11, S(8d) = 4/11,
    # S(9d) = 8/33, S(10d) = 4/33 ≤ 15 %, S(11d) = 0: median 7d, SLE 10d
    awaiting = section_starting(digest_for(bets), "⏳")
    assert awaiting.index("H-2") < awaiting.index("H-1")
    # F4: H-2 waited 8d; S(11d) = 0 is the first ≤ 15 % of S(8d): 11d after shipping, Sun 3 May
    assert "*H-2* Bet 2 · shipped 8d ago · 🟡 at risk · 85 % likely heard by Sun 3 May" in awaiting
    # H-1 waited 24h (T6: hours under 48h); S(10d) = 4/33 ≤ 15 %: Sat 9 May
    assert "*H-1* Bet 1 · shipped 24h ago · 🟢 on track · 85 % likely heard by Sat 9 May" in (
        awaiting
    )


def test_the_digest_gives_the_awaiting_sets_outlook() -> None:
    bets = [
        *learned_bets([2, 3, 4, 5, 6, 7, 8, 9, 10, 11]),
        bet(1, State.SHIPPED, shipped=1),
        bet(2, State.SHIPPED, shipped=8),
    ]
    # F5: by Sat 9 May H-2 is surely heard (S(17d) = 0) and H-1 is with 1 − 4/33 = 29/33 ≥
    # 85 %; no earlier instant can do, H-1's own forecast being that day. In a week (Thu 7
    # May) H-1 has 1 − S(8d) = 7/11: at least 1 of 2 is certain, both only 7/11 likely
    figures = section_starting(digest_for(bets), "⏱️")
    assert (
        "🔮 2 bets await feedback: 85 %: all 2 heard by Sat 9 May · at least 1 of 2 by Thu 7 May"
        in figures.splitlines()
    )


def test_titles_with_channel_mentions_are_inert() -> None:
    bets = [
        bet(1, State.SHIPPED, shipped=20),
        bet(2, State.SHIPPED, shipped=1),
        bet(3, State.BUILDING, started=2, has_signal=False),
        bet(4, State.INVALIDATED, shipped=3, closed=0.2),
    ]
    blocks = digest_for(bets, titles=dict.fromkeys(range(1, 5), HOSTILE))
    assert_valid_blocks(blocks or [])
    text = text_of(blocks)
    assert "<!channel>" not in text
    assert "<https://evil.example" not in text
    assert text.count("Faster search &lt;!channel&gt;") == 4


def test_a_thousand_awaiting_bets_stay_inside_slack_limits() -> None:
    # the 534 that have waited 14 days or more were escalated
    bets = [
        bet(n, State.SHIPPED, shipped=n * 0.03, escalated=0.01 if n * 0.03 >= 14 else None)
        for n in range(1, 1001)
    ]
    titles = {n: "A rather long bet title that goes on " * 5 for n in range(1, 1001)}
    blocks = digest_for(bets, titles=titles, wip_limit=5)
    assert blocks is not None
    assert_valid_blocks(blocks)
    assert len(blocks) <= MAX_BLOCKS_MESSAGE
    text = text_of(blocks)
    assert "⏰ *Overdue* (534)" in text
    assert "and 519 more — `/hypothesis list overdue`" in text  # 534 escalated, 15 shown
    assert "⏳ *Awaiting feedback* (466)" in text
    assert "more — `/hypothesis list shipped`" in text
    assert "🚀 *awaiting feedback* 1000/5 ⚠️ over the limit" in text


def test_a_thousand_bets_without_a_forecast_still_leave_room_for_the_awaiting_list() -> None:
    # nothing heard yet: no bet has a forecast (T8), and the outlook names them
    bets = [bet(n, State.SHIPPED, shipped=n * 0.01) for n in range(1, 1001)]
    blocks = digest_for(bets)
    assert blocks is not None
    assert_valid_blocks(blocks)
    awaiting = section_starting(blocks, "⏳ *Awaiting feedback* (1000)")
    assert "*H-1000* Bet 1000 · shipped 10d ago" in awaiting
    assert "and 985 more — `/hypothesis list shipped`" in awaiting


def test_the_sle_line_names_the_percentile_once_there_are_five_heard() -> None:
    bets = [*learned_bets([1, 2, 3, 4, 5, 6, 7, 8, 9, 10]), bet(1, State.SHIPPED, shipped=2)]
    ttf = section_starting(digest_for(bets), "⏱️ *Time to feedback*")
    assert ttf.startswith(
        "⏱️ *Time to feedback*: 11 bets shipped in the last 30 days, 10 heard, 1 not yet"
    )
    # counting H-1 (waiting 2d): S(5d) = 45/88 > 1/2, S(6d) = 36/88; S(9d) = 9/88 ≤ 15 %
    assert "• counting every bet: median 6d · p85 9d · p95 10d" in ttf
    # nearest rank over the 10 heard: ⌈0.5 × 10⌉ = 5th → 5d, ⌈8.5⌉ = 9th → 9d, 10th → 10d
    assert "• of the 10 bets heard: median 5d · p85 9d · p95 10d" in ttf
    assert (
        "🎯 SLE 9d: 85 % of our bets are heard within 9d, counting every bet shipped in the "
        "last 90 days (10 bets heard)"
    ) in ttf
    assert "✅ SLE met: 9 of 10 bets heard within 9d (90 %)" in ttf


def test_with_fewer_than_five_heard_the_sle_is_the_channels_setting() -> None:
    bets = [*learned_bets([1, 2, 3]), bet(1, State.SHIPPED, shipped=2)]
    ttf = section_starting(digest_for(bets), "⏱️")
    assert (
        "🎯 SLE 14d, the channel's setting: only 3 bets heard in the last 90 days, 5 needed to "
        "take it from history"
    ) in ttf
    assert (
        "• counting every bet: no estimate yet: 3 bets heard of those shipped in the last 30 "
        "days, 5 needed"
    ) in ttf


def test_the_trend_compares_the_median_with_the_previous_window() -> None:
    earlier = [
        bet(200 + n, State.VALIDATED, shipped=45 + 10, closed=45) for n in range(3)
    ]  # 10d each, a window before
    bets = [*learned_bets([2, 2, 2]), *earlier, bet(1, State.SHIPPED, shipped=1)]
    ttf = section_starting(digest_for(bets), "⏱️")
    # three heard in each window, no estimate: the heard bets' medians, 2d against 10d
    assert "• median ↘️ faster than the 30 days before (10d)" in ttf


def test_wip_over_the_channel_limit_is_flagged() -> None:
    bets = [bet(n, State.BUILDING, started=n) for n in range(1, 7)]
    wip = section_starting(digest_for(bets, wip_limit=5), "🛠️")
    assert wip.startswith("🛠️ *WIP* 6/5 ⚠️ over the limit · 🚀 *awaiting feedback* 0/5")


def test_wip_without_a_limit_shows_counts_and_how_to_set_one() -> None:
    wip = section_starting(digest_for([bet(1, State.BUILDING, started=1)]), "🛠️")
    assert wip == (
        "🛠️ *WIP* 1 · 🚀 *awaiting feedback* 0 · no WIP limit set (`/hypothesis settings wip 5`)"
    )


def test_t9_killed_without_evidence_is_called_out() -> None:
    bets = [
        bet(1, State.KILLED, shipped=5, closed=0.5),
        bet(2, State.KILLED, shipped=5, feedback=3, closed=0.4),
    ]
    learned = section_starting(digest_for(bets), "🎓")
    assert "2 killed (1 without evidence)" in learned
    assert "🪦 *H-1* Bet 1 — killed without evidence" in learned
    assert "before learning" not in learned
    assert "🪦 *H-2* Bet 2 — killed\n" in learned + "\n"


def test_bets_without_a_signal_are_listed_with_how_to_add_one() -> None:
    bets = [bet(n, State.PROPOSED, has_signal=False) for n in range(1, 14)]
    missing = section_starting(digest_for(bets), "📏 *Bets without a signal* (13)")
    assert "`/hypothesis signal H-1 &lt;text&gt;`" in missing
    assert "and 3 more — `/hypothesis list all`" in missing


def test_the_weekly_figures_join_the_digest_when_asked() -> None:
    bets = [*learned_bets([1, 2, 3, 4, 5, 6]), bet(1, State.SHIPPED, shipped=3)]
    week = flow_report(bets, now=NOW, window=days(7))
    blocks = digest_for(bets, weekly=week)
    assert_valid_blocks(blocks or [])
    assert "📅 *The last 7 days*" in text_of(blocks)
    assert_valid_blocks(weekly_section(week))


def test_the_fallback_text_counts_what_the_digest_says() -> None:
    bets = [
        bet(1, State.SHIPPED, shipped=20, escalated=3),
        bet(2, State.SHIPPED, shipped=1),
        *[bet(n, State.BUILDING, started=1) for n in range(3, 6)],
        bet(6, State.VALIDATED, shipped=4, closed=0.5),
    ]
    report = flow_report(bets, now=NOW, window=WINDOW)
    text = digest_text(
        report,
        channel_name="growth",
        learned=learned_since(bets, LAST_DIGEST, NOW),
        wip_limit=2,
        no_signal=(),
    )
    assert text == (
        "Hypobot digest for #growth: 1 overdue, 2 awaiting feedback, "
        "1 learned since the last digest, WIP 3/2 (over the limit)"
    )
    assert len(text) <= MAX_FALLBACK_TEXT


# --------------------------------------------------------------------------- report


def report_for(bets: Sequence[BetFacts]) -> tuple[FlowReport, list[dict[str, Any]]]:
    report = flow_report(bets, now=NOW, window=WINDOW)
    blocks = report_blocks(
        report,
        window_label="last 30 days",
        titles={b.number: f"Bet {b.number}" for b in bets},
        now=NOW,
        tz=TZ,
    )
    assert_valid_blocks(blocks)
    return report, blocks


def test_the_report_shows_the_percentiles_and_whether_the_sle_is_met() -> None:
    bets = [*learned_bets([1, 2, 3, 4, 5, 6, 7, 8, 9, 10]), bet(1, State.SHIPPED, shipped=2)]
    _, blocks = report_for(bets)
    text = text_of(blocks)
    assert "*Bets shipped*\n11 · 10 heard · 1 not yet" in text
    # counting H-1, waiting 2d: S(5d) = 45/88 > 1/2, S(6d) = 36/88; S(9d) = 9/88 ≤ 15 %
    assert "*Median, counting every bet*\n6d" in text
    assert "*p85 / p95, counting every bet*\n9d / 10d" in text
    # nearest rank over the 10 heard bets alone
    assert "*Heard bets*\n10: median 5d · p85 9d · p95 10d" in text
    assert "✅ SLE met: 9 of 10 bets heard within 9d (90 %)" in text
    assert "*Validation rate*\n100 % (10 ✅ / 0 ❌)" in text
    # 10 learned over 30 days: 10 / (30/7) = 2.3 a week
    assert "*Learning throughput*\n2.3 per week" in text


def test_the_report_forecasts_the_oldest_awaiting_bet_from_how_long_it_waited() -> None:
    # 10 heard after 1…10 days; H-1 has waited 4d: of the six that waited longer (5…10d),
    # 85 % were heard by 10d (the curve: S(10d) = 0 ≤ 15 % of S(4d) = 7/11), so by shipped +
    # 10d, Wed 6 May
    bets = [*learned_bets([1, 2, 3, 4, 5, 6, 7, 8, 9, 10]), bet(1, State.SHIPPED, shipped=4)]
    _, blocks = report_for(bets)
    text = text_of(blocks)
    assert "*H-1* Bet 1 · shipped 4d ago · 🟢 on track\n↳ 85 % likely heard by Wed 6 May" in text
    assert "85 %: the one awaiting heard by Wed 6 May" in text
    assert "how long each bet has waited" in text


def test_a_bet_that_waited_longer_than_any_past_one_gets_no_forecast() -> None:
    bets = [*learned_bets([1, 2, 3, 4, 5]), bet(1, State.SHIPPED, shipped=20)]
    _, blocks = report_for(bets)
    text = text_of(blocks)
    assert (
        "↳ no forecast: it has waited longer than every bet shipped in the last 90 days"
    ) in text
    assert "no forecast for H-1" in text


def test_t8_the_forecast_is_withheld_under_five_heard() -> None:
    bets = [*learned_bets([5]), bet(1, State.SHIPPED, shipped=1)]
    _, blocks = report_for(bets)
    text = text_of(blocks)
    assert "↳ no forecast: only 1 bet heard in the last 90 days, 5 needed" in text
    assert "likely heard by" not in text


def test_t8_sle_met_counts_bets_awaiting_past_the_sle_as_misses() -> None:
    bets = [*learned_bets([1, 1, 1, 1, 1, 1]), *[bet(n, State.SHIPPED, shipped=30) for n in (7, 8)]]
    report, blocks = report_for(bets)
    # six heard after 1 day, two waiting 30 days: S stops at 2/8, so no SLE from history
    assert (report.sle_score.met, report.sle_score.missed) == (6, 2)
    text = text_of(blocks)
    assert "SLE met" not in text.replace("SLE not met", "")
    assert "⚠️ SLE not met: 6 of 8 bets heard within 14d (75 %), aim 85 %" in text
    assert "• 25 % of the bets shipped in the last 30 days have no evidence after 30d" in text


def test_the_report_says_when_there_is_too_little_data() -> None:
    _, blocks = report_for([*learned_bets([3, 4]), bet(1, State.BUILDING, started=1)])
    text = text_of(blocks)
    assert "*Median, counting every bet*\nno estimate (2 of 5 heard)" in text
    assert "*Heard bets*\n2: median 3d · p85 4d · p95 4d" in text
    assert "🎯 SLE 14d, the channel's setting: only 2 bets heard in the last 90 days" in text
    _, empty = report_for([])
    assert "*Bets shipped*\n0 · 0 heard · 0 not yet" in text_of(empty)
    assert "*Heard bets*\n—" in text_of(empty)
    assert "Our 85 % forecasts: not enough settled yet (0 of the 5 needed)" in text_of(empty)


def test_the_report_counts_kills_and_lists_only_the_oldest_awaiting() -> None:
    bets = [
        bet(1, State.KILLED, closed=2),
        bet(2, State.KILLED, shipped=9, feedback=8, closed=2),
        *[bet(n, State.SHIPPED, shipped=n) for n in range(10, 70)],
    ]
    _, blocks = report_for(bets)
    text = text_of(blocks)
    assert "*Killed*\n2 (1 without evidence)" in text
    assert "*H-69* Bet 69 · shipped 69d ago · 🔴 past SLE" in text
    assert "and 55 more — `/hypothesis list shipped`" in text
    assert len(blocks) <= MAX_BLOCKS_MESSAGE


def test_the_report_fallback_text_gives_the_headline_figures() -> None:
    report, _ = report_for([*learned_bets([1, 2, 3, 4, 5, 6, 7, 8, 9, 10])])
    # the window before has no bet: the heard bets' median
    assert report_text(report, window_label="last 30 days") == (
        "Flow report, last 30 days: 10 bets shipped, 10 heard, median 5d of the 10 bets heard, "
        "SLE met: 9 of 10 bets heard within 9d (90 %), 0 awaiting feedback"
    )


def test_learned_since_none_and_an_empty_report_compose() -> None:
    # a channel's first digest: everything ever closed counts as learned since
    bets = [bet(1, State.VALIDATED, shipped=50, closed=40)]
    report = flow_report(bets, now=NOW, window=WINDOW)
    learned: LearnedSince = learned_since(bets, None, NOW)
    blocks = digest_blocks(
        report,
        channel_name=None,
        learned=learned,
        titles={},
        owners={},
        wip_limit=None,
        no_signal=(),
        now=NOW,
        tz=TZ,
    )
    assert_valid_blocks(blocks or [])
    assert blocks is not None
    assert blocks[0]["text"]["text"] == "📋 Hypobot digest · Thu 30 Apr"
    assert "✅ *H-1* — validated" in text_of(blocks)
