"""Forecasts that count every bet (docs/rules.md, F1–F3) as specifications.

Every figure is checked against numbers worked out by hand, or against a textbook
Kaplan–Meier written here, independent of bets/forecasts.py.
"""

from __future__ import annotations

import itertools
from collections.abc import Sequence
from datetime import UTC, datetime, timedelta
from fractions import Fraction

from hypothesis import given, settings
from hypothesis import strategies as st

from bets.forecasts import (
    MIN_HEARD,
    ConfiguredBecause,
    Observation,
    SleSource,
    estimate,
    heard_percentiles,
    kaplan_meier,
    sample,
    sle_from,
    sle_met,
)
from bets.lifecycle import State
from bets.metrics import BetFacts

NOW = datetime(2026, 4, 30, 12, 0, tzinfo=UTC)
SETTINGS = settings(max_examples=200, deadline=None)


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
