"""Flow metrics as specifications: every expected figure is worked out by hand."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

import pytest

from bets.lifecycle import State
from bets.metrics import (
    Ageing,
    Awaiting,
    BetFacts,
    Trend,
    ageing_status,
    awaiting_age,
    cycle_time,
    feedback_at,
    flow_report,
    forecast_feedback,
    lead_time_to_learning,
    learned_since,
    percentile,
    recent_ttfs,
    sle,
    time_to_feedback,
    trend,
)

NOW = datetime(2026, 4, 30, 12, 0, tzinfo=UTC)


def days(n: float) -> timedelta:
    return timedelta(days=n)


def ago(n: float) -> datetime:
    return NOW - days(n)


def bet(
    number: int,
    state: State,
    *,
    created: float,
    started: float | None = None,
    shipped: float | None = None,
    feedback: float | None = None,
    closed: float | None = None,
    has_signal: bool = True,
    escalated: bool = False,
) -> BetFacts:
    """A bet whose moments are given in days before NOW."""
    return BetFacts(
        number=number,
        state=state,
        created_at=ago(created),
        started_at=None if started is None else ago(started),
        shipped_at=None if shipped is None else ago(shipped),
        closed_at=None if closed is None else ago(closed),
        first_feedback_at=None if feedback is None else ago(feedback),
        has_signal=has_signal,
        escalated=escalated,
    )


# --------------------------------------------------------------------------- percentile


def test_p85_of_one_to_twenty_is_seventeen() -> None:
    # ⌈0.85 × 20⌉ = 17 (and not 18 from 0.85 × 20 = 16.999… in floating point)
    assert percentile(list(range(1, 21)), 0.85) == 17


def test_p85_of_one_to_a_hundred_is_eighty_five() -> None:
    assert percentile(list(range(1, 101)), 0.85) == 85


def test_p70_of_one_to_ten_is_seven_despite_float_error() -> None:
    # 0.7 × 10 = 7.000000000000001 in floating point; the rank is exactly 7
    assert percentile(list(range(1, 11)), 0.7) == 7


def test_p50_of_one_to_four_is_the_lower_middle() -> None:
    assert percentile([1, 2, 3, 4], 0.5) == 2


def test_p100_is_the_maximum() -> None:
    assert percentile([3, 9, 1, 4], 1.0) == 9


def test_any_percentile_of_a_single_value_is_that_value() -> None:
    assert percentile([5.5], 0.01) == 5.5
    assert percentile([5.5], 0.85) == 5.5


def test_percentile_sorts_its_sample() -> None:
    assert percentile([days(5), days(1), days(3)], 0.5) == days(3)


def test_percentile_of_nothing_is_none() -> None:
    assert percentile([], 0.85) is None


@pytest.mark.parametrize("p", [0.0, -0.5, 1.01])
def test_percentile_refuses_p_outside_zero_to_one(p: float) -> None:
    with pytest.raises(ValueError):
        percentile([1, 2, 3], p)


# --------------------------------------------------------------------------- per bet


def test_time_to_feedback_runs_from_shipping_to_the_first_decisive_evidence() -> None:
    b = bet(1, State.SHIPPED, created=20, shipped=10, feedback=6)
    assert time_to_feedback(b) == days(4)


def test_time_to_feedback_stops_at_the_outcome_when_it_came_before_any_evidence() -> None:
    b = bet(1, State.VALIDATED, created=20, shipped=10, closed=7)
    assert time_to_feedback(b) == days(3)
    assert feedback_at(b) == ago(7)


def test_time_to_feedback_stops_at_the_evidence_when_it_came_before_the_outcome() -> None:
    b = bet(1, State.INVALIDATED, created=20, shipped=10, feedback=8, closed=5)
    assert time_to_feedback(b) == days(2)


def test_a_kill_is_not_feedback() -> None:
    assert time_to_feedback(bet(1, State.KILLED, created=20, shipped=10, closed=4)) is None


def test_a_bet_killed_after_evidence_has_its_time_to_feedback() -> None:
    b = bet(1, State.KILLED, created=20, shipped=10, feedback=9, closed=4)
    assert time_to_feedback(b) == days(1)


def test_no_time_to_feedback_before_shipping_or_before_feedback() -> None:
    assert time_to_feedback(bet(1, State.BUILDING, created=5, started=2)) is None
    assert time_to_feedback(bet(2, State.SHIPPED, created=5, shipped=2)) is None


def test_evidence_recorded_before_shipping_counts_as_immediate_feedback() -> None:
    b = bet(1, State.SHIPPED, created=20, feedback=12, shipped=10)
    assert time_to_feedback(b) == timedelta(0)


def test_awaiting_age_is_the_time_since_shipping_without_feedback() -> None:
    assert awaiting_age(bet(1, State.SHIPPED, created=9, shipped=3.5), NOW) == days(3.5)


def test_a_bet_with_decisive_evidence_or_an_outcome_is_not_awaiting() -> None:
    assert awaiting_age(bet(1, State.SHIPPED, created=9, shipped=3, feedback=1), NOW) is None
    assert awaiting_age(bet(2, State.VALIDATED, created=9, shipped=3, closed=1), NOW) is None
    assert awaiting_age(bet(3, State.KILLED, created=9, shipped=3, closed=1), NOW) is None
    assert awaiting_age(bet(4, State.BUILDING, created=9, started=3), NOW) is None


def test_cycle_time_runs_from_start_to_ship() -> None:
    assert cycle_time(bet(1, State.SHIPPED, created=10, started=8, shipped=5)) == days(3)


def test_a_bet_shipped_without_starting_has_no_cycle_time() -> None:
    assert cycle_time(bet(1, State.SHIPPED, created=10, shipped=5)) is None
    assert cycle_time(bet(2, State.BUILDING, created=10, started=5)) is None


def test_lead_time_to_learning_runs_from_creation_to_validation_or_invalidation() -> None:
    assert lead_time_to_learning(bet(1, State.VALIDATED, created=30, shipped=9, closed=2)) == (
        days(28)
    )
    assert lead_time_to_learning(bet(2, State.INVALIDATED, created=12, shipped=9, closed=7)) == (
        days(5)
    )


def test_killed_and_open_bets_have_no_lead_time_to_learning() -> None:
    assert lead_time_to_learning(bet(1, State.KILLED, created=30, closed=2)) is None
    assert lead_time_to_learning(bet(2, State.SHIPPED, created=30, shipped=2)) is None


# --------------------------------------------------------------------------- SLE, ageing


def test_sle_with_fewer_than_five_samples_is_the_default() -> None:
    level = sle([days(1), days(2), days(3), days(30)], days(14))
    assert (level.value, level.from_sample, level.n) == (days(14), False, 4)


def test_sle_with_five_samples_is_their_85th_percentile() -> None:
    # ⌈0.85 × 5⌉ = 5: the largest
    level = sle([days(3), days(1), days(5), days(2), days(4)], days(14))
    assert (level.value, level.from_sample, level.n) == (days(5), True, 5)


def test_sle_of_one_to_twenty_days_is_seventeen_days() -> None:
    assert sle([days(n) for n in range(1, 21)], days(14)).value == days(17)


def test_ageing_is_on_track_below_the_median_at_risk_below_the_sle_and_then_past() -> None:
    p50, limit = days(2), days(5)
    assert ageing_status(days(1), p50, limit) is Ageing.ON_TRACK
    assert ageing_status(days(2), p50, limit) is Ageing.AT_RISK
    assert ageing_status(days(5) - timedelta(seconds=1), p50, limit) is Ageing.AT_RISK
    assert ageing_status(days(5), p50, limit) is Ageing.PAST_SLE


def test_ageing_without_a_median_uses_half_the_sle_as_the_on_track_line() -> None:
    assert ageing_status(days(6.9), None, days(14)) is Ageing.ON_TRACK
    assert ageing_status(days(7), None, days(14)) is Ageing.AT_RISK
    assert ageing_status(days(14), None, days(14)) is Ageing.PAST_SLE


def test_an_item_at_the_sle_is_never_on_track_even_with_a_larger_median() -> None:
    assert ageing_status(days(10), days(20), days(10)) is Ageing.PAST_SLE


# --------------------------------------------------------------------------- forecast

HISTORY = [days(1), days(2), days(3), days(4), days(10)]


def test_forecast_for_a_bet_just_shipped_is_the_85th_percentile_of_history() -> None:
    # ⌈0.85 × 5⌉ = 5 → 10 days
    shipped = NOW
    assert forecast_feedback(shipped, HISTORY, now=NOW) == shipped + days(10)
    # ⌈0.5 × 5⌉ = 3 → 3 days
    assert forecast_feedback(shipped, HISTORY, now=NOW, confidence=0.5) == shipped + days(3)


def test_forecast_only_counts_past_bets_that_waited_longer_than_this_one() -> None:
    # waited 3 days: of the history only 4 and 10 days are longer; ⌈0.5 × 2⌉ = 1 → 4 days
    shipped = ago(3)
    assert forecast_feedback(shipped, HISTORY, now=NOW, confidence=0.5) == shipped + days(4)
    # waited 2.5 days: 3, 4, 10 are longer; ⌈0.85 × 3⌉ = 3 → 10 days
    shipped = ago(2.5)
    assert forecast_feedback(shipped, HISTORY, now=NOW) == shipped + days(10)


def test_no_forecast_once_a_bet_has_waited_longer_than_all_history() -> None:
    assert forecast_feedback(ago(10), HISTORY, now=NOW) is None
    assert forecast_feedback(NOW, [], now=NOW) is None


# --------------------------------------------------------------------------- trend


def test_trend_compares_median_time_to_feedback_with_the_previous_window() -> None:
    assert trend(days(4), days(10)) is Trend.FASTER
    assert trend(days(10), days(4)) is Trend.SLOWER
    assert trend(days(10.5), days(10)) is Trend.SAME  # within 10 %
    assert trend(days(4), None) is None
    assert trend(None, days(4)) is None


# --------------------------------------------------------------------------- flow report

# A team's last months; every moment in days before NOW. Reports use a 30-day window.
BETS = [
    bet(1, State.VALIDATED, created=40, started=28, shipped=25, feedback=23, closed=20),  # 2d
    bet(2, State.INVALIDATED, created=35, shipped=20, closed=16),  # 4d (the outcome)
    bet(3, State.VALIDATED, created=30, started=20, shipped=14, feedback=8, closed=5,
        has_signal=False),  # 6d; closed, so not listed without signal
    bet(4, State.KILLED, created=30, started=26, shipped=22, feedback=12, closed=10),  # 10d
    bet(5, State.KILLED, created=20, started=15, closed=3),  # killed before learning
    bet(6, State.SHIPPED, created=15, started=14, shipped=9),  # awaiting 9d
    bet(7, State.SHIPPED, created=10, shipped=4, escalated=True),  # awaiting 4d, escalated
    bet(8, State.SHIPPED, created=12, shipped=6, feedback=5),  # 1d; not awaiting
    bet(9, State.BUILDING, created=5, started=2, has_signal=False),
    bet(10, State.PROPOSED, created=1, has_signal=False),
    bet(11, State.BUILDING, created=3, started=1),
    bet(12, State.VALIDATED, created=80, started=70, shipped=60, closed=50),  # 10d, previous
    bet(13, State.INVALIDATED, created=70, shipped=50, feedback=38, closed=36),  # 12d, previous
    bet(14, State.KILLED, created=200, closed=100),
    bet(15, State.VALIDATED, created=160, shipped=150, feedback=140, closed=139),  # > 90 days
    bet(16, State.SHIPPED, created=20, shipped=12),  # awaiting 12d
]  # fmt: skip


def test_report_time_to_feedback_covers_feedback_received_in_the_window() -> None:
    r = flow_report(BETS, now=NOW, window=days(30), default_sle=days(14))
    # feedback in the window, in feedback order: #1 at 23, #2 at 16, #4 at 12, #3 at 8, #8 at 5
    assert [p.number for p in r.feedback] == [1, 2, 4, 3, 8]
    assert r.ttf_sample == (days(2), days(4), days(10), days(6), days(1))
    assert r.ttf_count == 5
    # sorted 1, 2, 4, 6, 10: median ⌈2.5⌉ = 3rd = 4d; p85 ⌈4.25⌉ = 5th; p95 ⌈4.75⌉ = 5th
    assert r.ttf_median == days(4)
    assert r.ttf_p85 == days(10)
    assert r.ttf_p95 == days(10)


def test_report_sle_uses_the_last_90_days_whatever_the_window() -> None:
    r = flow_report(BETS, now=NOW, window=days(30), default_sle=days(14))
    # 90 days: 1, 2, 4, 6, 10 (window) + 10 (#12), 12 (#13); #15 is older than 90 days
    # p85: ⌈0.85 × 7⌉ = 6th = 10d; p50: ⌈3.5⌉ = 4th = 6d
    assert r.sle.value == days(10)
    assert r.sle.from_sample
    assert r.sle.n == 7
    assert r.sle_p50 == days(6)
    assert recent_ttfs(BETS, NOW) == [days(n) for n in (10, 12, 2, 4, 10, 6, 1)]
    # all five window samples are within 10 days, but #16 has waited 12 days: a miss (T8)
    assert r.sle_misses_awaiting == 1
    assert r.sle_attainment == pytest.approx(5 / 6)
    assert r.sle_met is False


def test_report_counts_outcomes_closed_in_the_window() -> None:
    r = flow_report(BETS, now=NOW, window=days(30), default_sle=days(14))
    assert (r.validated, r.invalidated) == (2, 1)  # #1, #3 and #2; #12, #13 are older
    assert r.validation_rate == pytest.approx(2 / 3)
    assert r.killed == 2  # #4 and #5; #14 is older
    assert r.killed_before_learning == 1  # #5: no decisive evidence
    # 3 learned in 30 days = 3 / (30 / 7) weeks = 0.7 per week
    assert r.throughput_per_week == pytest.approx(0.7)


def test_report_medians_of_cycle_time_and_lead_time_to_learning() -> None:
    r = flow_report(BETS, now=NOW, window=days(30), default_sle=days(14))
    # shipped in the window and started: #1 3d, #3 6d, #4 4d, #6 5d → 3, 4, 5, 6 → 2nd = 4d
    assert r.cycle_time_median == days(4)
    # learned in the window: #1 20d, #2 19d, #3 25d → 19, 20, 25 → 2nd = 20d
    assert r.lead_time_median == days(20)


def test_report_wip_and_bets_without_a_signal() -> None:
    r = flow_report(BETS, now=NOW, window=days(30), default_sle=days(14))
    assert r.wip == 2
    assert r.building == (9, 11)
    assert r.without_signal == (9, 10)


def test_report_lists_awaiting_bets_escalated_and_past_sle_first_then_oldest() -> None:
    r = flow_report(BETS, now=NOW, window=days(30), default_sle=days(14))
    # SLE 10d, p50 6d: #16 at 12d is past the SLE, #7 at 4d is escalated (both lead),
    # then #6 at 9d is at risk
    assert [(a.number, a.age, a.status) for a in r.awaiting] == [
        (16, days(12), Ageing.PAST_SLE),
        (7, days(4), Ageing.ON_TRACK),
        (6, days(9), Ageing.AT_RISK),
    ]
    assert [a.escalated for a in r.awaiting] == [False, True, False]
    # forecasts from the 90-day sample 1, 2, 4, 6, 10, 10, 12:
    #   #16 waited 12d: nothing longer → none
    #   #7 waited 4d: 6, 10, 10, 12 longer; ⌈0.85 × 4⌉ = 4th = 12d after shipping
    #   #6 waited 9d: 10, 10, 12 longer; ⌈0.85 × 3⌉ = 3rd = 12d after shipping
    assert [a.expected_by for a in r.awaiting] == [None, ago(4) + days(12), ago(9) + days(12)]


def test_awaiting_bets_are_oldest_first_among_equals() -> None:
    bets = [
        bet(1, State.SHIPPED, created=9, shipped=2),
        bet(2, State.SHIPPED, created=9, shipped=5),
        bet(3, State.SHIPPED, created=9, shipped=3),
    ]
    r = flow_report(bets, now=NOW, window=days(30), default_sle=days(14))
    assert [a.number for a in r.awaiting] == [2, 3, 1]
    assert all(isinstance(a, Awaiting) and a.status is Ageing.ON_TRACK for a in r.awaiting)


def test_report_trend_compares_with_the_previous_window() -> None:
    r = flow_report(BETS, now=NOW, window=days(30), default_sle=days(14))
    # previous window (30 to 60 days ago): #12 10d and #13 12d → median ⌈1⌉ = 1st = 10d
    assert r.previous_ttf_median == days(10)
    assert r.trend is Trend.FASTER  # 4d now


def test_report_without_previous_window_has_no_trend() -> None:
    r = flow_report(BETS, now=NOW, window=days(30), default_sle=days(14), previous_window=False)
    assert r.previous_ttf_median is None
    assert r.trend is None


def test_feedback_at_the_window_start_belongs_to_the_window_not_the_previous_one() -> None:
    bets = [bet(1, State.SHIPPED, created=40, shipped=33, feedback=30)]
    r = flow_report(bets, now=NOW, window=days(30), default_sle=days(14))
    assert r.ttf_sample == (days(3),)
    assert r.previous_ttf_median is None


def test_report_with_few_samples_uses_the_default_sle_and_can_miss_it() -> None:
    bets = [
        bet(1, State.VALIDATED, created=40, shipped=25, closed=5),  # 20d
        bet(2, State.SHIPPED, created=9, shipped=6, feedback=5),  # 1d
        bet(3, State.SHIPPED, created=9, shipped=8),  # awaiting 8d
    ]
    r = flow_report(bets, now=NOW, window=days(30), default_sle=days(14))
    assert (r.sle.value, r.sle.from_sample, r.sle.n) == (days(14), False, 2)
    assert r.sle_p50 is None
    # one of two within 14 days: 50 % < 85 %
    assert r.sle_attainment == 0.5
    assert r.sle_met is False
    # no median from the sample: on track below 7 days, so 8 days is at risk
    assert [(a.number, a.status) for a in r.awaiting] == [(3, Ageing.AT_RISK)]


def test_report_of_a_quiet_team_has_no_rates() -> None:
    r = flow_report([], now=NOW, window=days(30), default_sle=days(14))
    assert r.ttf_count == 0
    assert r.ttf_median is None and r.ttf_p85 is None and r.ttf_p95 is None
    assert r.sle.value == days(14) and not r.sle.from_sample
    assert r.sle_met is None and r.sle_attainment is None
    assert r.validation_rate is None
    assert r.throughput_per_week == 0
    assert r.cycle_time_median is None and r.lead_time_median is None
    assert (r.wip, r.awaiting, r.without_signal) == (0, (), ())
    assert r.trend is None


def test_report_refuses_an_empty_window() -> None:
    with pytest.raises(ValueError):
        flow_report(BETS, now=NOW, window=timedelta(0), default_sle=days(14))


# --------------------------------------------------------------------------- learned since


def test_learned_since_lists_outcomes_closed_after_the_last_digest() -> None:
    # (10 days ago, now]: #3 validated at 5, #5 killed at 3; #4 closed exactly at 10 is out
    learned = learned_since(BETS, ago(10), NOW)
    assert [item.number for item in learned.validated] == [3]
    assert learned.invalidated == ()
    assert [(item.number, item.killed_before_learning) for item in learned.killed] == [(5, True)]
    assert learned.count == 2


def test_learned_since_includes_a_bet_closed_just_after_the_last_digest() -> None:
    learned = learned_since(BETS, ago(10) - timedelta(seconds=1), NOW)
    assert [(item.number, item.killed_before_learning) for item in learned.killed] == [
        (4, False),
        (5, True),
    ]


def test_learned_since_ignores_outcomes_after_now() -> None:
    learned = learned_since(BETS, ago(30), ago(10))
    # (30, 10]: #1 validated at 20, #2 invalidated at 16, #4 killed at 10
    assert [i.number for i in learned.validated] == [1]
    assert [i.number for i in learned.invalidated] == [2]
    assert [i.number for i in learned.killed] == [4]


def test_nothing_learned_is_empty() -> None:
    assert learned_since(BETS, ago(1), NOW).is_empty
