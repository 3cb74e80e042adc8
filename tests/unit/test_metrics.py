"""Flow metrics as specifications: every expected figure is worked out by hand."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta
from fractions import Fraction

import pytest

from bets.flow import Awaiting, MedianKind, Trend, channel_sle, flow_report, trend
from bets.forecasts import (
    BetForecast,
    ConfiguredBecause,
    NoForecast,
    NoForecastReason,
    Observation,
    SleSource,
    forecast,
    kaplan_meier,
    sle_from,
)
from bets.lifecycle import State
from bets.metrics import (
    Ageing,
    BetFacts,
    ageing_status,
    awaiting_age,
    cycle_time,
    feedback_at,
    is_overdue,
    lead_time_to_learning,
    learned_since,
    percentile,
    time_to_feedback,
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
    escalated: float | None = None,
) -> BetFacts:
    """A bet whose moments are given in days before NOW (`escalated`: when its lead was
    told, T3)."""
    return BetFacts(
        number=number,
        state=state,
        created_at=ago(created),
        started_at=None if started is None else ago(started),
        shipped_at=None if shipped is None else ago(shipped),
        closed_at=None if closed is None else ago(closed),
        first_feedback_at=None if feedback is None else ago(feedback),
        has_signal=has_signal,
        escalated=escalated is not None,
        escalated_at=None if escalated is None else ago(escalated),
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


# --------------------------------------------------------------------------- overdue (F7)


def test_overdue_means_awaiting_and_escalated() -> None:
    assert is_overdue(bet(1, State.SHIPPED, created=20, shipped=16, escalated=1))
    # nudged, long past any SLE, but not escalated: "nudged", never "overdue"
    assert not is_overdue(bet(2, State.SHIPPED, created=90, shipped=80))
    # escalated, then heard: no longer awaiting, so no longer overdue
    assert not is_overdue(bet(3, State.SHIPPED, created=20, shipped=16, feedback=0.5, escalated=1))
    assert not is_overdue(bet(4, State.KILLED, created=20, shipped=16, closed=0.5, escalated=1))


# --------------------------------------------------------------------------- SLE, ageing


def observed(*times: float, censored: tuple[float, ...] = ()) -> list[Observation]:
    """Heard after each of `times` days, censored (not heard yet) at each of `censored`."""
    heard = [Observation(n, days(t), heard=True) for n, t in enumerate(times, start=1)]
    rest = [Observation(100 + n, days(t), heard=False) for n, t in enumerate(censored)]
    return [*heard, *rest]


def test_sle_with_fewer_than_five_heard_is_the_configured_one() -> None:
    level = sle_from(kaplan_meier(observed(1, 2, 3, 30)), days(14))
    assert (level.value, level.source, level.because, level.heard) == (
        days(14),
        SleSource.CONFIGURED,
        ConfiguredBecause.FEW_HEARD,
        4,
    )


def test_sle_with_five_heard_is_their_85th_percentile() -> None:
    # every bet heard: S falls by 1/5 at each; S(4d) = 1/5 > 15 %, S(5d) = 0
    level = sle_from(kaplan_meier(observed(3, 1, 5, 2, 4)), days(14))
    assert (level.value, level.source, level.because, level.heard) == (
        days(5),
        SleSource.HISTORY,
        None,
        5,
    )


def test_sle_of_one_to_twenty_days_heard_is_seventeen_days() -> None:
    # S(17d) = 3/20 = 15 % exactly: reached
    assert sle_from(kaplan_meier(observed(*range(1, 21))), days(14)).value == days(17)


def test_sle_counts_the_bets_never_heard() -> None:
    # five heard within 5 days, five still unheard at 30 days: half the bets are never heard
    # within the waits seen, so history gives no 85th percentile
    level = sle_from(kaplan_meier(observed(1, 2, 3, 4, 5, censored=(30,) * 5)), days(14))
    assert (level.value, level.source, level.because) == (
        days(14),
        SleSource.CONFIGURED,
        ConfiguredBecause.NOT_REACHED,
    )


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


# --------------------------------------------------------------------------- forecast (F4)

# ten past bets, heard after 1, 2, …, 10 days
HISTORY = observed(*range(1, 11))


def waiting(age: float) -> Observation:
    """The bet forecast, itself in the sample: censored at the time it has waited."""
    return Observation(99, days(age), heard=False)


def test_forecast_for_a_bet_just_shipped_is_the_85th_percentile_of_history() -> None:
    # a bet shipping now is not in the sample yet: S(9d) = 1/10 ≤ 15 %, S(8d) = 2/10 is not
    curve = kaplan_meier(HISTORY)
    made = forecast(curve, number=99, shipped_at=NOW, now=NOW, in_sample=False)
    assert isinstance(made, BetForecast)
    assert (made.by, made.heard, made.reached) == (NOW + days(9), 10, 10)
    # S(5d) = 5/10 ≤ 50 %
    half = forecast(curve, number=99, shipped_at=NOW, now=NOW, in_sample=False, p=0.5)
    assert isinstance(half, BetForecast) and half.by == NOW + days(5)


def test_forecast_is_conditional_on_the_time_already_waited() -> None:
    # waited 4 days unheard: of the six past bets that waited longer (5…10d) 85 % were heard
    # by 10d (⌈0.85 × 6⌉ = 6th), half by 7d (3rd): the curve, S(7d)/S(4d) = (7/22)/(7/11),
    # is exactly 1/2. Eight bets reached 4d: the one heard at 4d, the six after, and itself
    shipped = ago(4)
    curve = kaplan_meier([*HISTORY, waiting(4)])
    made = forecast(curve, number=99, shipped_at=shipped, now=NOW)
    assert isinstance(made, BetForecast)
    assert (made.by, made.age, made.reached) == (shipped + days(10), days(4), 8)
    half = forecast(curve, number=99, shipped_at=shipped, now=NOW, p=0.5)
    assert isinstance(half, BetForecast) and half.by == shipped + days(7)


def test_no_forecast_once_fewer_than_five_bets_waited_as_long() -> None:
    # waited 7 days: 7, 8, 9, 10 and itself reached that age, five bets: enough
    seven = kaplan_meier([*HISTORY, waiting(7)])
    assert isinstance(forecast(seven, number=99, shipped_at=ago(7), now=NOW), BetForecast)
    # waited 8 days: 8, 9, 10 and itself, four: it says how many others waited as long
    made = forecast(kaplan_meier([*HISTORY, waiting(8)]), number=99, shipped_at=ago(8), now=NOW)
    assert made == NoForecast(99, NoForecastReason.WAITED_LONGER, heard=10, others_as_long=3)


def test_no_forecast_under_five_heard() -> None:
    curve = kaplan_meier([*observed(1, 2, 3, 4), waiting(0.5)])
    made = forecast(curve, number=99, shipped_at=ago(0.5), now=NOW)
    assert made == NoForecast(99, NoForecastReason.NOT_ENOUGH_HISTORY, heard=4, others_as_long=4)
    assert forecast(kaplan_meier([]), number=99, shipped_at=NOW, now=NOW, in_sample=False) == (
        NoForecast(99, NoForecastReason.NOT_ENOUGH_HISTORY, heard=0, others_as_long=0)
    )


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
    bet(7, State.SHIPPED, created=10, shipped=4, escalated=1),  # awaiting 4d, escalated
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


def test_report_time_to_feedback_covers_the_bets_shipped_in_the_window() -> None:
    r = flow_report(BETS, now=NOW, window=days(30), configured_sle=days(14))
    # shipped in the window: heard #1 2d, #2 4d, #3 6d, #4 10d, #8 1d; waiting #6 9d,
    # #7 4d, #16 12d (F1); #12 and #13 shipped before it, though heard in it or not
    assert [(o.number, o.time, o.heard) for o in r.sample] == [
        (1, days(2), True),
        (2, days(4), True),
        (3, days(6), True),
        (4, days(10), True),
        (6, days(9), False),
        (7, days(4), False),
        (8, days(1), True),
        (16, days(12), False),
    ]
    # nearest rank over the heard bets 1, 2, 4, 6, 10: median 3rd = 4d; p85, p95 5th = 10d
    assert (r.heard.count, r.heard.p50, r.heard.p85, r.heard.p95) == (
        5,
        days(4),
        days(10),
        days(10),
    )


def test_report_time_to_feedback_counting_every_bet() -> None:
    r = flow_report(BETS, now=NOW, window=days(30), configured_sle=days(14))
    # Kaplan–Meier over the 8: S(1d) = 7/8, S(2d) = 6/8, S(4d) = 6/8 · 5/6 = 5/8 (the bet
    # censored at 4d still at risk), S(6d) = 5/8 · 3/4 = 15/32, S(10d) = 15/32 · 1/2 = 15/64
    e = r.every_bet
    assert (e.shipped, e.heard, e.censored, e.estimated) == (8, 5, 3, True)
    assert [step.survival for step in r.curve.steps] == [
        Fraction(7, 8),
        Fraction(3, 4),
        Fraction(5, 8),
        Fraction(15, 32),
        Fraction(15, 64),
    ]
    # the median is the first S ≤ 1/2; S never falls to 15 %: p85 and p95 not reached
    assert (e.p50, e.p85, e.p95) == (days(6), None, None)
    assert (e.unheard_share, e.longest_wait) == (Fraction(15, 64), days(12))
    assert r.median_kind is MedianKind.HEARD  # the window before has 2 heard: no estimate
    assert r.median == days(4)


def test_report_sle_uses_the_last_90_days_whatever_the_window() -> None:
    r = flow_report(BETS, now=NOW, window=days(30), configured_sle=days(14))
    # the 90 days' sample: the window's 8 and #12 (10d), #13 (12d); #15 shipped > 90 days ago
    # S: 1d 9/10, 2d 8/10, 4d 7/10, 6d 7/12, 10d 7/24, 12d 7/48 ≤ 15 %: SLE 12d, from 7 heard
    assert (r.sle.value, r.sle.source, r.sle.heard) == (days(12), SleSource.HISTORY, 7)
    assert channel_sle(BETS, NOW, days(14)) == r.sle
    assert flow_report(BETS, now=NOW, window=days(7), configured_sle=days(14)).sle == r.sle
    # the on-track line: the 90 days' median counting every bet, S(10d) = 7/24 ≤ 1/2
    assert r.on_track == days(10)


def test_report_sle_met_counts_every_bet_at_the_sles_age() -> None:
    r = flow_report(BETS, now=NOW, window=days(30), configured_sle=days(14))
    # heard within 12d: #1, #2, #3, #4, #8; #16 has waited 12d unheard: a miss (T8); #6 and
    # #7 waited less than the SLE, so whether they will be in time is not known yet
    assert (r.sle_score.met, r.sle_score.missed) == (5, 1)
    assert r.sle_score.share == Fraction(5, 6)
    assert r.sle_score.meets() is False


def test_report_counts_outcomes_closed_in_the_window() -> None:
    r = flow_report(BETS, now=NOW, window=days(30), configured_sle=days(14))
    assert (r.validated, r.invalidated) == (2, 1)  # #1, #3 and #2; #12, #13 are older
    assert r.validation_rate == pytest.approx(2 / 3)
    assert r.killed == 2  # #4 and #5; #14 is older
    assert r.killed_before_learning == 1  # #5: no decisive evidence
    # 3 learned in 30 days = 3 / (30 / 7) weeks = 0.7 per week
    assert r.throughput_per_week == pytest.approx(0.7)
    assert r.weeks_observed == pytest.approx(30 / 7)


def test_report_throughput_divides_by_the_weeks_observed() -> None:
    # F8: the channel's first bet 14 days ago: 3 learned in 2 weeks, whatever the window
    for window in (30, 90, 1000):
        r = flow_report(BETS, now=NOW, window=days(window), first_bet_at=ago(14))
        assert r.weeks_observed == pytest.approx(2)
    month = flow_report(BETS, now=NOW, window=days(30), first_bet_at=ago(14))
    assert month.throughput_per_week == pytest.approx(1.5)
    # a channel older than the window: the window
    old = flow_report(BETS, now=NOW, window=days(30), first_bet_at=ago(200))
    assert old.throughput_per_week == pytest.approx(0.7)


def test_report_medians_of_cycle_time_and_lead_time_to_learning() -> None:
    r = flow_report(BETS, now=NOW, window=days(30), configured_sle=days(14))
    # shipped in the window and started: #1 3d, #3 6d, #4 4d, #6 5d → 3, 4, 5, 6 → 2nd = 4d
    assert r.cycle_time_median == days(4)
    # learned in the window: #1 20d, #2 19d, #3 25d → 19, 20, 25 → 2nd = 20d
    assert r.lead_time_median == days(20)


def test_report_wip_and_bets_without_a_signal() -> None:
    r = flow_report(BETS, now=NOW, window=days(30), configured_sle=days(14))
    assert r.wip == 2
    assert r.building == (9, 11)
    assert r.without_signal == (9, 10)


def test_report_lists_awaiting_bets_overdue_first_then_oldest() -> None:
    r = flow_report(BETS, now=NOW, window=days(30), configured_sle=days(14))
    # SLE 12d, on track below 10d: #7 at 4d is escalated, so overdue (F7) and first; then
    # #16 at 12d past the SLE, but not escalated, so not overdue; then #6 at 9d
    assert [(a.number, a.age, a.status, a.overdue) for a in r.awaiting] == [
        (7, days(4), Ageing.ON_TRACK, True),
        (16, days(12), Ageing.PAST_SLE, False),
        (6, days(9), Ageing.ON_TRACK, False),
    ]
    assert [a.number for a in r.overdue] == [7]
    # forecasts from the 90 days' curve (F4):
    #   #7 waited 4d, S(4d) = 7/10: it would need S ≤ 0.15 · 7/10, but the curve stops at 7/48
    #   #16 waited 12d: only #13 (12d) and itself reached that age
    #   #6 waited 9d, S(9d) = 7/12, 5 bets reached it: 7/48 > 0.15 · 7/12, never reached
    assert [a.forecast for a in r.awaiting] == [
        NoForecast(7, NoForecastReason.NOT_REACHED, heard=7, others_as_long=7),
        NoForecast(16, NoForecastReason.WAITED_LONGER, heard=7, others_as_long=1),
        NoForecast(6, NoForecastReason.NOT_REACHED, heard=7, others_as_long=4),
    ]
    assert all(a.forecast_at is None for a in r.awaiting)
    # so the awaiting set has no member, and names all three
    assert r.outlook.members == ()
    assert [item.number for item in r.outlook.without] == [6, 7, 16]


def test_awaiting_bets_are_oldest_first_among_equals() -> None:
    bets = [
        bet(1, State.SHIPPED, created=9, shipped=2),
        bet(2, State.SHIPPED, created=9, shipped=5),
        bet(3, State.SHIPPED, created=9, shipped=3),
    ]
    r = flow_report(bets, now=NOW, window=days(30), configured_sle=days(14))
    assert [a.number for a in r.awaiting] == [2, 3, 1]
    assert all(isinstance(a, Awaiting) and a.status is Ageing.ON_TRACK for a in r.awaiting)


def test_report_trend_compares_with_the_bets_shipped_in_the_previous_window() -> None:
    r = flow_report(BETS, now=NOW, window=days(30), configured_sle=days(14))
    # shipped 30 to 60 days ago: #12 10d (shipped exactly 60 days ago) and #13 12d; 2 heard,
    # no estimate, so both windows compare their heard bets' medians: 4d now, 10d before
    assert r.previous_shipped == 2
    assert (r.median_kind, r.previous_median) == (MedianKind.HEARD, days(10))
    assert r.trend is Trend.FASTER


def test_report_without_bets_in_the_previous_window_has_no_trend() -> None:
    bets = [b for b in BETS if b.number not in (12, 13)]
    r = flow_report(bets, now=NOW, window=days(30), configured_sle=days(14))
    assert r.previous_shipped == 0
    assert r.previous_median is None
    assert r.trend is None


def test_a_bet_shipped_at_the_window_start_belongs_to_the_window_not_the_previous_one() -> None:
    bets = [bet(1, State.SHIPPED, created=40, shipped=30, feedback=27)]
    r = flow_report(bets, now=NOW, window=days(30), configured_sle=days(14))
    assert [(o.number, o.time) for o in r.sample] == [(1, days(3))]
    assert r.previous_shipped == 0 and r.previous_median is None


def test_feedback_in_the_window_on_a_bet_shipped_before_it_is_not_in_its_figures() -> None:
    # F1: heard 28 days ago, but shipped 33 days ago: the window before's bet
    bets = [bet(1, State.SHIPPED, created=40, shipped=33, feedback=28)]
    r = flow_report(bets, now=NOW, window=days(30), configured_sle=days(14))
    assert r.sample == () and r.heard.count == 0
    assert (r.previous_shipped, r.previous_median) == (1, days(5))


def test_report_with_few_heard_uses_the_configured_sle_and_can_miss_it() -> None:
    bets = [
        bet(1, State.VALIDATED, created=40, shipped=25, closed=5),  # 20d
        bet(2, State.SHIPPED, created=9, shipped=6, feedback=5),  # 1d
        bet(3, State.SHIPPED, created=9, shipped=8),  # awaiting 8d
    ]
    r = flow_report(bets, now=NOW, window=days(30), configured_sle=days(14))
    assert (r.sle.value, r.sle.source, r.sle.because, r.sle.heard) == (
        days(14),
        SleSource.CONFIGURED,
        ConfiguredBecause.FEW_HEARD,
        2,
    )
    assert not r.every_bet.estimated and r.every_bet.p50 is None
    # #2 within 14 days, #1 heard after 20: one of two; #3 has waited 8d, under the SLE
    assert (r.sle_score.met, r.sle_score.missed) == (1, 1)
    assert r.sle_score.meets() is False
    # 8 days: past the on-track line, under the SLE
    assert [(a.number, a.status) for a in r.awaiting] == [(3, Ageing.AT_RISK)]
    assert r.awaiting[0].forecast == NoForecast(
        3, NoForecastReason.NOT_ENOUGH_HISTORY, heard=2, others_as_long=1
    )


def test_report_of_a_quiet_team_has_no_rates() -> None:
    r = flow_report([], now=NOW, window=days(30), configured_sle=days(14))
    assert (r.every_bet.shipped, r.heard.count) == (0, 0)
    assert r.heard.p50 is None and r.heard.p85 is None and r.heard.p95 is None
    assert (r.every_bet.p50, r.every_bet.longest_wait) == (None, None)
    assert r.sle.value == days(14) and r.sle.source is SleSource.CONFIGURED
    assert r.sle_score.share is None and r.sle_score.meets() is None
    assert r.validation_rate is None
    assert r.throughput_per_week == 0
    assert r.cycle_time_median is None and r.lead_time_median is None
    assert (r.wip, r.awaiting, r.without_signal) == (0, (), ())
    assert r.outlook.members == () and r.outlook.all_heard_by is None
    assert r.trend is None
    assert (r.track_record.settled, r.track_record.hits) == (0, 0)


def test_report_refuses_an_empty_window() -> None:
    with pytest.raises(ValueError):
        flow_report(BETS, now=NOW, window=timedelta(0), configured_sle=days(14))


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
