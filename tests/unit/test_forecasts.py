"""Forecasts that count every bet (docs/rules.md, F1–F6) as specifications.

Every figure is checked against numbers worked out by hand, or against a textbook
Kaplan–Meier and brute-force references written here, independent of bets/forecasts.py.
"""

from __future__ import annotations

import itertools
import math
from collections.abc import Sequence
from dataclasses import replace
from datetime import UTC, datetime, timedelta
from fractions import Fraction

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from bets.forecasts import (
    MIN_HEARD,
    BetForecast,
    ConfiguredBecause,
    NoForecast,
    NoForecastReason,
    Observation,
    RecordedForecast,
    Settled,
    SleSource,
    awaiting_set,
    chance,
    estimate,
    forecast,
    forecast_of,
    heard_at_least,
    heard_percentiles,
    kaplan_meier,
    likely_heard,
    sample,
    settle,
    sle_from,
    sle_met,
    track_record,
)
from bets.lifecycle import State
from bets.metrics import BetFacts

NOW = datetime(2026, 4, 30, 12, 0, tzinfo=UTC)
SETTINGS = settings(max_examples=200, deadline=None)
P85 = Fraction(17, 20)


def days(n: float) -> timedelta:
    return timedelta(days=n)


def observations(text: str) -> tuple[Observation, ...]:
    """'1 2 2 3c': heard after 1, 2 and 2 days, censored at 3 days; numbered from 1."""
    return tuple(
        Observation(number, days(float(word.rstrip("c"))), heard=not word.endswith("c"))
        for number, word in enumerate(text.split(), start=1)
    )


def shipped(
    number: int,
    *,
    shipped: float,
    feedback: float | None = None,
    closed: float | None = None,
    state: State = State.SHIPPED,
) -> BetFacts:
    """A bet whose moments are given in days before NOW."""
    return BetFacts(
        number=number,
        state=state,
        created_at=NOW - days(shipped + 1),
        started_at=None,
        shipped_at=NOW - days(shipped),
        closed_at=None if closed is None else NOW - days(closed),
        first_feedback_at=None if feedback is None else NOW - days(feedback),
    )


# --------------------------------------------------------------------------- references


def textbook_km(data: Sequence[Observation]) -> list[tuple[timedelta, int, int, Fraction]]:
    """(tᵢ, nᵢ, dᵢ, S(tᵢ)) by the textbook: distinct event times in order, counting those
    at risk (time ≥ tᵢ) and the events at tᵢ."""
    rows = []
    survival = Fraction(1)
    for t in sorted({o.time for o in data if o.heard}):
        at_risk = sum(1 for o in data if o.time >= t)
        events = sum(1 for o in data if o.heard and o.time == t)
        survival *= 1 - Fraction(events, at_risk)
        rows.append((t, at_risk, events, survival))
    return rows


def textbook_s(rows: list[tuple[timedelta, int, int, Fraction]], t: timedelta) -> Fraction:
    value = Fraction(1)
    for time, _, _, survival in rows:
        if time <= t:
            value = survival
    return value


def textbook_percentile(
    rows: list[tuple[timedelta, int, int, Fraction]], p: str
) -> timedelta | None:
    for time, _, _, survival in rows:
        if survival <= 1 - Fraction(p):
            return time
    return None


def brute_force_at_least(chances: Sequence[Fraction]) -> list[Fraction]:
    """P(at least k heard), summing every heard/unheard combination."""
    tails = [Fraction(0)] * (len(chances) + 1)
    for outcome in itertools.product((False, True), repeat=len(chances)):
        weight = Fraction(1)
        for heard, value in zip(outcome, chances, strict=True):
            weight *= value if heard else 1 - value
        for k in range(sum(outcome) + 1):
            tails[k] += weight
    return tails


def brute_force_count(chances: Sequence[Fraction], p: Fraction) -> int:
    tails = brute_force_at_least(chances)
    return max(k for k, tail in enumerate(tails) if tail >= p)


# --------------------------------------------------------------------------- strategies

day_counts = st.integers(min_value=0, max_value=12)  # few values: many ties


def _numbered(pairs: list[tuple[int, bool]]) -> tuple[Observation, ...]:
    return tuple(Observation(n, days(t), heard) for n, (t, heard) in enumerate(pairs, 1))


def _one_older(pairs: list[tuple[int, bool]]) -> list[tuple[int, bool]]:
    oldest = max((t for t, _ in pairs), default=0)
    return [*pairs, (oldest + 40, False)]


mixed = st.lists(st.tuples(day_counts, st.booleans()), max_size=25)
mostly_censored = st.lists(
    st.tuples(day_counts, st.sampled_from((True, False, False, False))), max_size=30
)
all_censored = st.lists(st.tuples(day_counts, st.just(False)), max_size=15)
few_heard = st.tuples(
    st.lists(st.tuples(day_counts, st.just(True)), max_size=MIN_HEARD - 1),
    st.lists(st.tuples(day_counts, st.just(False)), max_size=10),
).map(lambda both: both[0] + both[1])
enough_heard = st.tuples(
    st.lists(st.tuples(day_counts, st.just(True)), min_size=MIN_HEARD, max_size=20),
    st.lists(st.tuples(day_counts, st.booleans()), max_size=15),
).map(lambda both: both[0] + both[1])
samples = st.one_of(
    mixed, mostly_censored, all_censored, few_heard, enough_heard, mixed.map(_one_older)
).map(_numbered)
levels = st.sampled_from(("0.5", "0.85", "0.95"))


@st.composite
def with_a_waiting_bet(
    draw: st.DrawFn,
) -> tuple[tuple[Observation, ...], Observation]:
    """A sample and one of its censored bets (added when the sample has none)."""
    data = draw(samples)
    waiting = [o for o in data if not o.heard]
    if not waiting:
        waiting = [Observation(0, days(draw(day_counts)), heard=False)]
        data = (*data, *waiting)
    return data, draw(st.sampled_from(waiting))


def replaced(
    data: tuple[Observation, ...], bet: Observation, new: Observation
) -> tuple[Observation, ...]:
    return tuple(new if o is bet else o for o in data)


GRID = [days(k / 2) for k in range(-2, 110)]  # every half day, past the oldest bet


# --------------------------------------------------------------------------- F1


def test_f1_bet_shipped_exactly_at_the_start_is_in_the_window() -> None:
    bet = shipped(1, shipped=90)
    assert [o.number for o in sample([bet], now=NOW, start=NOW - days(90), end=NOW)] == [1]


def test_f1_bet_shipped_exactly_at_the_end_is_in_unless_the_end_is_excluded() -> None:
    bet = shipped(1, shipped=10)
    start, end = NOW - days(20), NOW - days(10)
    assert len(sample([bet], now=NOW, start=start, end=end)) == 1
    assert sample([bet], now=NOW, start=start, end=end, include_end=False) == ()


def test_f1_bet_shipped_before_the_start_is_left_out() -> None:
    bet = shipped(1, shipped=90.001)
    assert sample([bet], now=NOW, start=NOW - days(90), end=NOW) == ()


@SETTINGS
@given(
    st.lists(
        st.one_of(st.integers(0, 200), st.sampled_from((0, 45, 90, 135))),
        max_size=20,
    )
)
def test_f1_consecutive_windows_never_count_a_bet_twice(ages: list[int]) -> None:
    bets = [shipped(n, shipped=age) for n, age in enumerate(ages, 1)]
    window, start = days(45), NOW - days(45)
    current = {o.number for o in sample(bets, now=NOW, start=start, end=NOW)}
    previous = {
        o.number for o in sample(bets, now=NOW, start=start - window, end=start, include_end=False)
    }
    assert not current & previous
    assert current | previous == {n for n, age in enumerate(ages, 1) if age <= 90}
    assert all(ages[n - 1] <= 45 for n in current)


def test_f1_awaiting_bet_is_censored_at_its_age() -> None:
    (observation,) = sample([shipped(1, shipped=12)], now=NOW, start=NOW - days(90), end=NOW)
    assert observation == Observation(1, days(12), heard=False)


def test_f1_killed_unheard_bet_is_censored_at_its_kill() -> None:
    bet = shipped(1, shipped=30, closed=10, state=State.KILLED)
    (observation,) = sample([bet], now=NOW, start=NOW - days(90), end=NOW)
    assert observation == Observation(1, days(20), heard=False)


def test_f1_heard_bets_are_heard_at_their_time_to_feedback() -> None:
    bets = [
        shipped(1, shipped=30, feedback=26),
        shipped(2, shipped=30, closed=23, state=State.VALIDATED),
        shipped(3, shipped=30, feedback=28, closed=5, state=State.KILLED),
    ]
    assert sample(bets, now=NOW, start=NOW - days(90), end=NOW) == (
        Observation(1, days(4), heard=True),
        Observation(2, days(7), heard=True),
        Observation(3, days(2), heard=True),
    )


def test_f1_feedback_after_now_is_not_known_at_now() -> None:
    bets = [
        shipped(1, shipped=30, feedback=5),
        shipped(2, shipped=30, closed=5, state=State.KILLED),
    ]
    past = NOW - days(10)
    assert sample(bets, now=past, start=past - days(90), end=past) == (
        Observation(1, days(20), heard=False),
        Observation(2, days(20), heard=False),
    )


def test_f1_bet_shipped_after_now_is_left_out() -> None:
    past = NOW - days(10)
    bets = [shipped(1, shipped=5), shipped(2, shipped=15)]
    assert [o.number for o in sample(bets, now=past, start=past - days(90), end=NOW)] == [2]


# --------------------------------------------------------------------------- F2


def test_f2_hand_worked_curve_with_ties_and_censoring() -> None:
    # 1, 2, 2, 3c, 4, 5c, 6 days: at 1 day 1 of 7 heard (6/7); at 2 days 2 of 6 (6/7 · 4/6 =
    # 4/7); 3c leaves; at 4 days 1 of 3 (4/7 · 2/3 = 8/21); 5c leaves; at 6 days 1 of 1 (0).
    survival = kaplan_meier(observations("1 2 2 3c 4 5c 6"))
    assert [(s.time, s.at_risk, s.heard, s.survival) for s in survival.steps] == [
        (days(1), 7, 1, Fraction(6, 7)),
        (days(2), 6, 2, Fraction(4, 7)),
        (days(4), 3, 1, Fraction(8, 21)),
        (days(6), 1, 1, Fraction(0)),
    ]
    assert survival.at(days(0.5)) == 1
    assert survival.at(days(3.5)) == Fraction(4, 7)
    assert survival.at_risk(days(3)) == 4
    assert survival.percentile(0.5) == days(4)  # 4/7 > 1/2 ≥ 8/21
    assert survival.percentile(0.85) == days(6)
    assert (survival.heard, survival.censored, survival.size) == (5, 2, 7)
    assert survival.longest == days(6)
    assert survival.unheard_share == 0


def test_f2_percentile_not_reached_gives_the_share_unheard_after_the_longest_wait() -> None:
    # 1..5 heard, three still waiting at 10 days: S = 7/8, 6/8, 5/8, 4/8, 3/8
    survival = kaplan_meier(observations("1 2 3 4 5 10c 10c 10c"))
    assert survival.percentile(0.5) == days(4)  # S = 1/2 exactly: reached
    assert survival.percentile(0.85) is None
    assert survival.longest == days(10)
    assert survival.unheard_share == Fraction(3, 8)


def test_f2_bet_censored_at_a_heard_time_is_still_at_risk_there() -> None:
    survival = kaplan_meier(observations("2 2c"))
    assert survival.at(days(2)) == Fraction(1, 2)


def test_f2_seventeen_of_twenty_heard_is_exactly_85_percent() -> None:
    survival = kaplan_meier(observations(" ".join(str(n) for n in range(1, 21))))
    assert survival.at(days(17)) == Fraction(3, 20)
    assert survival.percentile(0.85) == days(17)


def test_f2_no_estimate_under_five_heard() -> None:
    assert estimate(observations("1 2 3 4 9c 9c")) is None
    found = estimate(observations("1 2 3 4 5 9c"))
    assert found is not None and found.heard == 5


def test_f2_empty_sample_has_no_figure() -> None:
    survival = kaplan_meier(())
    assert survival.longest is None
    assert survival.percentile(0.5) is None
    assert survival.unheard_share == 1
    assert survival.at(days(3)) == 1


def test_f2_all_censored_sample_is_all_unheard() -> None:
    survival = kaplan_meier(observations("1c 4c 9c"))
    assert survival.steps == ()
    assert survival.unheard_share == 1
    assert survival.longest == days(9)


def test_f2_heard_percentiles_are_nearest_rank_over_the_heard_bets_only() -> None:
    # heard 1..7 (censored ones left out): ranks ⌈0.5·7⌉ = 4, ⌈0.85·7⌉ = 6, ⌈0.95·7⌉ = 7
    figures = heard_percentiles(observations("1 2 3 4 5 6 7 30c 30c"))
    assert (figures.count, figures.p50, figures.p85, figures.p95) == (7, days(4), days(6), days(7))


@SETTINGS
@given(samples, levels)
def test_f2_matches_the_textbook_kaplan_meier(data: tuple[Observation, ...], p: str) -> None:
    survival = kaplan_meier(data)
    rows = textbook_km(data)
    assert [(s.time, s.at_risk, s.heard, s.survival) for s in survival.steps] == rows
    for t in GRID:
        assert survival.at(t) == textbook_s(rows, t)
        assert survival.at_risk(t) == sum(1 for o in data if o.time >= t)
    assert survival.percentile(float(p)) == textbook_percentile(rows, p)
    assert survival.heard == sum(1 for o in data if o.heard)
    assert survival.censored == sum(1 for o in data if not o.heard)
    assert survival.longest == max((o.time for o in data), default=None)
    longest = survival.longest
    assert survival.unheard_share == (1 if longest is None else textbook_s(rows, longest))


@SETTINGS
@given(samples)
def test_f2_survival_never_rises_and_stays_a_share(data: tuple[Observation, ...]) -> None:
    survival = kaplan_meier(data)
    values = [survival.at(t) for t in GRID]
    assert all(0 <= value <= 1 for value in values)
    assert all(later <= earlier for earlier, later in itertools.pairwise(values))


@SETTINGS
@given(samples, day_counts, levels)
def test_f2_a_censored_bet_never_makes_a_percentile_earlier(
    data: tuple[Observation, ...], censored_at: int, p: str
) -> None:
    before = kaplan_meier(data).percentile(float(p))
    after = kaplan_meier((*data, Observation(0, days(censored_at), heard=False)))
    found = after.percentile(float(p))
    if before is None:
        assert found is None
    else:
        assert found is None or found >= before


@SETTINGS
@given(with_a_waiting_bet())
def test_f2_hearing_a_waiting_bet_never_raises_the_curve_and_keeps_it_before_then(
    drawn: tuple[tuple[Observation, ...], Observation],
) -> None:
    data, bet = drawn
    heard = replaced(data, bet, Observation(bet.number, bet.time, heard=True))
    before, after = kaplan_meier(data), kaplan_meier(heard)
    for t in GRID:
        assert after.at(t) <= before.at(t)
        if t < bet.time:
            assert after.at(t) == before.at(t)


@SETTINGS
@given(samples)
def test_f2_repeated_calls_give_identical_curves(data: tuple[Observation, ...]) -> None:
    assert kaplan_meier(data) == kaplan_meier(data)
    assert kaplan_meier(data) == kaplan_meier(tuple(reversed(data)))


# --------------------------------------------------------------------------- F3


def test_f3_sle_is_the_curves_85th_percentile_with_enough_heard() -> None:
    survival = kaplan_meier(observations(" ".join(str(n) for n in range(1, 21))))
    choice = sle_from(survival, days(14))
    assert (choice.value, choice.source, choice.because) == (days(17), SleSource.HISTORY, None)


def test_f3_sle_is_configured_with_fewer_than_five_heard() -> None:
    choice = sle_from(kaplan_meier(observations("1 1 1 1")), days(14))
    assert (choice.value, choice.source) == (days(14), SleSource.CONFIGURED)
    assert (choice.because, choice.heard) == (ConfiguredBecause.FEW_HEARD, 4)


def test_f3_sle_is_configured_when_the_percentile_is_not_reached() -> None:
    choice = sle_from(kaplan_meier(observations("1 2 3 4 5 10c 10c 10c")), days(14))
    assert (choice.value, choice.because) == (days(14), ConfiguredBecause.NOT_REACHED)


def test_f3_sle_met_counts_late_and_overdue_bets_as_misses_and_leaves_out_the_unknown() -> None:
    # SLE 5 days: heard 3 and 5 met; heard 6 missed; waiting 5 and 7 missed; 2c unknown
    score = sle_met(observations("3 5 6 5c 7c 2c"), days(5))
    assert (score.met, score.missed, score.share) == (2, 3, Fraction(2, 5))


def test_f3_sle_met_share_is_none_when_no_outcome_is_known() -> None:
    score = sle_met(observations("1c 2c"), days(5))
    assert (score.met, score.missed, score.share, score.meets()) == (0, 0, None, None)


def test_f3_seventeen_met_of_twenty_meets_an_85_percent_sle_exactly() -> None:
    assert sle_met(observations("1 " * 17 + "9 9 9"), days(5)).meets() is True
    assert sle_met(observations("1 " * 16 + "9 9 9 9"), days(5)).meets() is False


def test_f3_killing_an_old_unheard_bet_never_turns_a_miss_into_met() -> None:
    waiting = observations("1 2 3 30c")
    killed = observations("1 2 3 20c")  # the same bet, killed at 20 days unheard
    assert sle_met(waiting, days(14)) == sle_met(killed, days(14))
    assert sle_met(killed, days(14)).missed == 1


@SETTINGS
@given(with_a_waiting_bet(), day_counts, st.data())
def test_f3_killing_a_waiting_bet_never_raises_sle_met(
    drawn: tuple[tuple[Observation, ...], Observation], sle_days: int, draw: st.DataObject
) -> None:
    data, bet = drawn
    sle = days(sle_days)
    killed_at = days(draw.draw(st.integers(0, bet.time.days)))
    killed = replaced(data, bet, Observation(bet.number, killed_at, heard=False))
    before, after = sle_met(data, sle), sle_met(killed, sle)
    assert after.met == before.met
    if killed_at >= sle:  # killed past the SLE: still a miss
        assert after == before


# --------------------------------------------------------------------------- F4


def _ten_heard_and(waiting: float) -> tuple[Observation, ...]:
    return (*observations("1 2 3 4 5 6 7 8 9 10"), Observation(11, days(waiting), False))


def test_f4_forecast_is_the_first_instant_the_chance_reaches_85_percent() -> None:
    # heard 1..10 and this bet waiting 3 days: S(3) = 8/11; S(8) = 16/77, S(9) = 8/77.
    # chance by 8 days: 1 − (16/77)/(8/11) = 5/7 (71 %); by 9 days: 6/7 (86 %)
    survival = kaplan_meier(_ten_heard_and(3))
    assert chance(survival, days(3), days(8)) == Fraction(5, 7)
    assert chance(survival, days(3), days(9)) == Fraction(6, 7)
    made = forecast(survival, number=11, shipped_at=NOW - days(3), now=NOW)
    assert isinstance(made, BetForecast)
    assert (made.by, made.shown) == (NOW + days(6), NOW + days(6))
    assert (made.age, made.heard, made.reached) == (days(3), 10, 9)


def test_f4_forecast_is_never_shown_before_the_expected_date() -> None:
    survival = kaplan_meier(_ten_heard_and(3))
    later = forecast(
        survival, number=11, shipped_at=NOW - days(3), now=NOW, expected_at=NOW + days(10)
    )
    earlier = forecast(
        survival, number=11, shipped_at=NOW - days(3), now=NOW, expected_at=NOW + days(2)
    )
    assert isinstance(later, BetForecast) and isinstance(earlier, BetForecast)
    assert (later.by, later.shown) == (NOW + days(6), NOW + days(10))
    assert earlier.shown == NOW + days(6)


def test_f4_no_forecast_under_five_heard() -> None:
    survival = kaplan_meier(observations("1 2 3 4 3c"))
    made = forecast(survival, number=5, shipped_at=NOW - days(3), now=NOW)
    assert made == NoForecast(5, NoForecastReason.NOT_ENOUGH_HISTORY, heard=4, others_as_long=2)


def test_f4_no_forecast_for_a_bet_that_waited_longer_than_all_but_four_bets() -> None:
    # waiting 8 days: heard 8, 9, 10 and itself reached 8 days: 4 < 5
    survival = kaplan_meier(_ten_heard_and(8))
    made = forecast(survival, number=11, shipped_at=NOW - days(8), now=NOW)
    assert made == NoForecast(11, NoForecastReason.WAITED_LONGER, heard=10, others_as_long=3)
    outside = kaplan_meier(observations("1 2 3 4 5 6 7 8 9 10"))
    alone = forecast(outside, number=11, shipped_at=NOW - days(8), now=NOW, in_sample=False)
    assert isinstance(alone, NoForecast) and alone.others_as_long == 3


def test_f4_five_bets_that_waited_as_long_are_enough() -> None:
    # waiting 7 days: heard 7, 8, 9, 10 and itself
    made = forecast(kaplan_meier(_ten_heard_and(7)), number=11, shipped_at=NOW - days(7), now=NOW)
    assert isinstance(made, BetForecast) and made.reached == 5


def test_f4_no_forecast_when_the_chance_never_reaches_85_percent() -> None:
    survival = kaplan_meier(observations("1 2 3 4 5 30c 30c 30c 30c 30c 0c"))
    made = forecast(survival, number=11, shipped_at=NOW, now=NOW)
    assert isinstance(made, NoForecast) and made.reason is NoForecastReason.NOT_REACHED


def test_f4_forecast_at_shipping_is_the_85th_percentile_from_shipping() -> None:
    survival = kaplan_meier(observations(" ".join(str(n) for n in range(1, 21))))
    made = forecast(survival, number=21, shipped_at=NOW, now=NOW, in_sample=False)
    assert isinstance(made, BetForecast) and made.by == NOW + days(17)


def test_f4_forecast_of_a_stored_bet_takes_its_expected_date() -> None:
    survival = kaplan_meier(_ten_heard_and(3))
    bet = BetFacts(
        number=11,
        state=State.SHIPPED,
        created_at=NOW - days(5),
        started_at=None,
        shipped_at=NOW - days(3),
        closed_at=None,
        first_feedback_at=None,
        expect_within=days(12),
    )
    made = forecast_of(survival, bet, now=NOW)
    assert isinstance(made, BetForecast) and made.shown == NOW + days(9)


def test_f4_only_a_shipped_bet_has_a_forecast() -> None:
    bet = replace(shipped(1, shipped=3), state=State.BUILDING, shipped_at=None)
    with pytest.raises(ValueError):
        forecast_of(kaplan_meier(_ten_heard_and(3)), bet, now=NOW)


def test_f4_no_chance_within_no_time() -> None:
    survival = kaplan_meier(_ten_heard_and(3))
    assert chance(survival, days(3), days(3)) == 0
    assert chance(survival, days(3), days(2)) == 0


def textbook_forecast(data: Sequence[Observation], age: timedelta) -> timedelta | str:
    rows = textbook_km(data)
    if sum(1 for o in data if o.heard) < 5:
        return "not_enough_history"
    if sum(1 for o in data if o.time >= age) < 5:
        return "waited_longer"
    level = (1 - P85) * textbook_s(rows, age)
    for time, _, _, survival in rows:
        if time > age and survival <= level:
            return time
    return "not_reached"


@SETTINGS
@given(samples, day_counts)
def test_f4_matches_the_textbook_conditional_curve(
    data: tuple[Observation, ...], age_days: int
) -> None:
    age = days(age_days)
    with_bet = (*data, Observation(0, age, False))
    made = forecast(kaplan_meier(with_bet), number=0, shipped_at=NOW - age, now=NOW)
    expected = textbook_forecast(with_bet, age)
    if isinstance(expected, str):
        assert isinstance(made, NoForecast) and made.reason == expected
        assert made.others_as_long == sum(1 for o in data if o.time >= age)
    else:
        assert isinstance(made, BetForecast) and made.by == NOW - age + expected


# --------------------------------------------------------------------------- F5


def _member(survival_data: tuple[Observation, ...], number: int, age: float) -> BetForecast:
    made = forecast(
        kaplan_meier(survival_data),
        number=number,
        shipped_at=NOW - days(age),
        now=NOW,
        in_sample=False,
    )
    assert isinstance(made, BetForecast)
    return made


TWO_A_DAY = observations(" ".join(f"{n} {n}" for n in range(1, 11)))  # S(t) = (20 − 2t)/20


def test_f5_all_heard_when_the_product_of_chances_reaches_85_percent() -> None:
    # two bets shipped now: each heard by t days with t/10, own forecast 9 days (S ≤ 3/20);
    # both: (9/10)² = 81 % < 85 % ≤ (10/10)²
    survival = kaplan_meier(TWO_A_DAY)
    members = [_member(TWO_A_DAY, 1, 0), _member(TWO_A_DAY, 2, 0)]
    assert [m.by for m in members] == [NOW + days(9), NOW + days(9)]
    outlook = awaiting_set(survival, members, now=NOW)
    assert outlook.all_heard_by == NOW + days(10)
    assert outlook.all_heard_shown == NOW + days(10)


def test_f5_week_count_is_the_largest_k_likely_heard() -> None:
    # by 7 days each is heard with 7/10: at least 1 of 2 is 91 %, both 49 %
    survival = kaplan_meier(TWO_A_DAY)
    members = [_member(TWO_A_DAY, 1, 0), _member(TWO_A_DAY, 2, 0)]
    outlook = awaiting_set(survival, members, now=NOW)
    assert (outlook.horizon, outlook.heard_by_horizon) == (NOW + days(7), 1)


def test_f5_product_exactly_85_percent_is_reached() -> None:
    twenty = observations(" ".join(str(n) for n in range(1, 21)))
    outlook = awaiting_set(kaplan_meier(twenty), [_member(twenty, 1, 0)], now=NOW)
    assert outlook.all_heard_by == NOW + days(17)  # 17/20 exactly


def test_f5_set_date_is_never_shown_before_a_members_expected_date() -> None:
    survival = kaplan_meier(TWO_A_DAY)
    first = _member(TWO_A_DAY, 1, 0)
    second = replace(_member(TWO_A_DAY, 2, 0), expected_at=NOW + days(30))
    outlook = awaiting_set(survival, [first, second], now=NOW)
    assert outlook.all_heard_by == NOW + days(10)
    assert outlook.all_heard_shown == NOW + days(30)


def test_f5_not_reached_when_the_chances_stop_short() -> None:
    # one in ten is never heard: each bet's chance ends at 90 %, both at 81 %
    data = observations("1 2 3 4 5 6 7 8 9 20c")
    survival = kaplan_meier(data)
    outlook = awaiting_set(survival, [_member(data, 1, 0), _member(data, 2, 0)], now=NOW)
    assert outlook.all_heard_by is None and outlook.all_heard_shown is None


def test_f5_bets_without_a_forecast_are_named_and_left_out() -> None:
    survival = kaplan_meier(TWO_A_DAY)
    without = NoForecast(9, NoForecastReason.WAITED_LONGER, heard=20, others_as_long=2)
    outlook = awaiting_set(survival, [without, _member(TWO_A_DAY, 1, 0)], now=NOW)
    assert outlook.without == (without,)
    assert [m.number for m in outlook.members] == [1]
    empty = awaiting_set(survival, [without], now=NOW)
    assert (empty.members, empty.all_heard_by, empty.heard_by_horizon) == ((), None, 0)


def test_f5_likely_count_decides_exact_ties_exactly() -> None:
    assert likely_heard([P85]) == 1
    assert likely_heard([P85 - Fraction(1, 10**30)]) == 0
    assert likely_heard([P85 + Fraction(1, 10**30)]) == 1
    assert likely_heard([Fraction(1), P85, Fraction(1)]) == 3


members_ages = st.lists(st.integers(0, 8), min_size=1, max_size=4)


@SETTINGS
@given(
    st.lists(st.tuples(day_counts, st.just(True)), min_size=MIN_HEARD, max_size=15),
    st.lists(st.tuples(st.integers(0, 20), st.booleans()), max_size=10),
    members_ages,
)
def test_f5_matches_brute_force_over_every_candidate_instant(
    heard: list[tuple[int, bool]], others: list[tuple[int, bool]], ages: list[int]
) -> None:
    base = _numbered(heard + others)
    data = (*base, *(Observation(100 + i, days(a), False) for i, a in enumerate(ages)))
    survival = kaplan_meier(data)
    made = [
        forecast(survival, number=100 + i, shipped_at=NOW - days(a), now=NOW)
        for i, a in enumerate(ages)
    ]
    members = [m for m in made if isinstance(m, BetForecast)]
    outlook = awaiting_set(survival, made, now=NOW)
    assert outlook == awaiting_set(survival, list(reversed(made)), now=NOW)

    rows = textbook_km(data)

    def chance_by(member: BetForecast, instant: datetime) -> Fraction:
        waited = textbook_s(rows, member.age)
        return 1 - textbook_s(rows, instant - member.shipped_at) / waited

    candidates = sorted({m.shipped_at + t for m in members for t, *_ in rows if t > m.age})
    expected_date = None
    for instant in candidates:
        product = Fraction(1)
        for member in members:
            product *= chance_by(member, instant)
        if product >= P85:
            expected_date = instant
            break
    assert outlook.all_heard_by == expected_date
    if expected_date is not None:
        assert all(outlook.all_heard_by >= m.by for m in members)
        shown = outlook.all_heard_shown
        assert shown is not None and all(shown >= m.shown for m in members)

    week = [chance_by(m, NOW + days(7)) for m in members]
    assert outlook.heard_by_horizon == (brute_force_count(week, P85) if members else 0)


def fractions_up_to(denominator: int, low: Fraction = Fraction(0)) -> st.SearchStrategy[Fraction]:
    """Chances in [low, 1] with denominators up to `denominator` (faster than st.fractions)."""
    return st.integers(1, denominator).flatmap(
        lambda d: st.integers(math.ceil(low * d), d).map(lambda n: Fraction(n, d))
    )


chances = st.lists(fractions_up_to(40), max_size=5)


@SETTINGS
@given(chances)
def test_f5_poisson_binomial_matches_brute_force_and_starts_at_one(
    values: list[Fraction],
) -> None:
    tails = heard_at_least(values)
    assert list(tails) == brute_force_at_least(values)
    assert tails[0] == 1
    assert likely_heard(values) == brute_force_count(values, P85)


@SETTINGS
@given(chances, st.data(), levels)
def test_f5_likely_count_never_falls_when_a_chance_rises(
    values: list[Fraction], draw: st.DataObject, p: str
) -> None:
    if not values:
        assert likely_heard(values, float(p)) == 0
        return
    index = draw.draw(st.integers(0, len(values) - 1))
    raised = draw.draw(fractions_up_to(40, values[index]))
    higher = [raised if i == index else value for i, value in enumerate(values)]
    assert likely_heard(higher, float(p)) >= likely_heard(values, float(p))


# a consistency check of the fast path against the exact one, on sets too big to enumerate
@settings(max_examples=40, deadline=None)
@given(st.lists(fractions_up_to(10**6), min_size=7, max_size=60))
def test_f5_likely_count_of_a_large_set_is_the_exact_one(values: list[Fraction]) -> None:
    tails = heard_at_least(values)
    assert likely_heard(values) == max(k for k, tail in enumerate(tails) if tail >= P85)


def test_f5_a_forecast_from_another_curve_is_refused() -> None:
    # made by hand at 12 days, where the curve below is at 0 and `forecast` gives no date
    member = BetForecast(1, NOW - days(12), days(12), NOW + days(1), None, heard=5, reached=5)
    with pytest.raises(ValueError):
        awaiting_set(kaplan_meier(observations("1 2 3 4 5")), [member], now=NOW)


def test_f5_a_chance_outside_0_to_1_is_refused() -> None:
    with pytest.raises(ValueError):
        likely_heard([Fraction(3, 2)])


# --------------------------------------------------------------------------- F6


def test_f6_forecast_is_not_settled_before_its_date() -> None:
    assert settle(NOW + days(1), None, now=NOW) is None


def test_f6_forecast_is_a_hit_when_heard_by_its_date() -> None:
    assert settle(NOW - days(1), NOW - days(3), now=NOW) is Settled.HIT
    assert settle(NOW - days(1), NOW - days(1), now=NOW) is Settled.HIT
    assert settle(NOW, NOW - days(1), now=NOW) is Settled.HIT


def test_f6_forecast_is_a_miss_when_heard_later_or_not_at_all() -> None:
    assert settle(NOW - days(3), NOW - days(1), now=NOW) is Settled.MISS
    assert settle(NOW - days(3), None, now=NOW) is Settled.MISS


def test_f6_track_record_counts_forecasts_settled_in_the_window() -> None:
    records = [
        RecordedForecast(1, NOW - days(100), NOW - days(101)),  # before the window
        RecordedForecast(2, NOW - days(90), NOW - days(91)),  # on its first day: hit
        RecordedForecast(3, NOW - days(10), None),  # miss
        RecordedForecast(4, NOW - days(5), NOW - days(1)),  # heard late: miss
        RecordedForecast(5, NOW, NOW),  # due now: hit
        RecordedForecast(6, NOW + days(2), NOW - days(1)),  # not due yet
    ]
    record = track_record(records, now=NOW, start=NOW - days(90), end=NOW + days(5))
    assert (record.settled, record.hits, record.misses, record.enough) == (4, 2, 2, False)


def test_f6_track_record_is_shown_from_five_settled() -> None:
    records = [RecordedForecast(n, NOW - days(n), None) for n in range(1, 6)]
    record = track_record(records, now=NOW, start=NOW - days(90), end=NOW)
    assert (record.settled, record.hits, record.enough) == (5, 0, True)


@pytest.mark.parametrize("p", [0.0, 1.5, -0.1])
def test_a_probability_level_outside_0_to_1_is_refused(p: float) -> None:
    with pytest.raises(ValueError):
        kaplan_meier(observations("1")).percentile(p)
