"""Forecasts that count every bet: the sample of a window (docs/rules.md, F1), the
Kaplan–Meier curve over it (F2), the SLE it gives (F3), and the forecasts built on it for one
bet (F4), the awaiting set (F5) and their track record (F6).

Pure functions: the clock is passed in as `now`. Every threshold decision ("S ≤ 15 %",
"the chance reaches 85 %") is exact: the curve is kept as `Fraction`s and `p` is read from
its decimal text, so 17 of 20 is exactly 85 %. F5 multiplies hundreds of chances; it decides
in floats where a proven error bound shows the exact answer is the same (`_margin`), and in
exact integers otherwise.
"""

from __future__ import annotations

import math
from bisect import bisect_left, bisect_right
from collections.abc import Callable, Iterable, Sequence
from dataclasses import dataclass
from datetime import datetime, timedelta
from enum import StrEnum
from fractions import Fraction
from functools import cache, cached_property, partial
from itertools import accumulate, chain, groupby, pairwise
from typing import TypeVar

from bets.metrics import (
    SLE_MIN_SAMPLES,
    SLE_PERCENTILE,
    BetFacts,
    feedback_at,
    percentile,
    time_to_feedback,
)
from bets.timing import expected_of

# Under 5 heard bets there is no estimate (docs/rules.md, F2; T8): a curve from three or four
# answers looks precise and means nothing.
MIN_HEARD = SLE_MIN_SAMPLES
# A bet's forecast needs at least 5 bets of the sample that waited as long as it has (F4):
# the curve beyond the last few waits is one old bet's story.
MIN_REACHED = 5
# "Our forecasts came true N of M times" needs M ≥ 5 (F6).
MIN_SETTLED = 5
# The awaiting set's count is for one week from now (F5).
SET_HORIZON = timedelta(days=7)

_ZERO = timedelta(0)
_MICROSECOND = timedelta(microseconds=1)

_N = TypeVar("_N", int, float)


def _exact(p: float) -> Fraction:
    """`p` as the decimal it was written as: 0.85 is 17/20, not the float next to it."""
    if not 0 < p <= 1:
        raise ValueError(f"a probability level must be in (0, 1], got {p!r}")
    return Fraction(str(p))


def _microseconds(delta: timedelta) -> int:
    return delta // _MICROSECOND


# --------------------------------------------------------------------------- F1 the sample


@dataclass(frozen=True)
class Observation:
    """One bet of a sample (F1): heard at its time to feedback, or censored at the longest
    time it is known to have waited unheard."""

    number: int
    time: timedelta
    heard: bool


def _observe(bet: BetFacts, shipped_at: datetime, now: datetime) -> Observation:
    heard_at = feedback_at(bet)
    ttf = time_to_feedback(bet)
    # Feedback after `now` is not known at `now`: a report for a past day stays honest.
    if heard_at is not None and ttf is not None and heard_at <= now:
        return Observation(bet.number, ttf, heard=True)
    # Closed unheard (killed) stops the wait at the kill; otherwise it is still waiting.
    stop = now if bet.closed_at is None or bet.closed_at > now else bet.closed_at
    return Observation(bet.number, max(stop - shipped_at, _ZERO), heard=False)


def sample(
    bets: Iterable[BetFacts],
    *,
    now: datetime,
    start: datetime,
    end: datetime,
    include_end: bool = True,
) -> tuple[Observation, ...]:
    """Every bet shipped in [start, end] as it stands at `now` (F1), in bet-number order.

    `start` is always included; `end` only with `include_end`. Consecutive windows are
    [start − w, start) with `include_end=False` and [start, now], so a bet shipped exactly at
    `start` belongs to the current window alone, as in `bets.metrics.flow_report`. Both are
    observed at the same `now`: the previous window's bets with everything known of them
    today. A bet shipped after `now` is not shipped yet at `now` and is left out.
    """
    observations = []
    for bet in bets:
        shipped_at = bet.shipped_at
        if shipped_at is None or shipped_at < start or shipped_at > min(end, now):
            continue
        if shipped_at == end and not include_end:
            continue
        observations.append(_observe(bet, shipped_at, now))
    return tuple(sorted(observations, key=lambda observation: observation.number))


# --------------------------------------------------------------------------- F2 the curve


@dataclass(frozen=True)
class Step:
    """Where the curve drops: `heard` bets heard at `time` out of `at_risk` whose time is
    at least `time`; `survival` is S(time), the share still unheard just after it."""

    time: timedelta
    at_risk: int
    heard: int
    survival: Fraction


@dataclass(frozen=True)
class Survival:
    """The Kaplan–Meier curve of a sample (F2): the share of bets still unheard after a wait.

    Its figures are an estimate only when `enough` (at least `MIN_HEARD` heard bets); the
    report should get it from `estimate`, and `sle_from` and `forecast` check it themselves.
    """

    steps: tuple[Step, ...]  # in time order
    times: tuple[timedelta, ...]  # every observation's time, heard or censored, ascending
    heard: int

    @property
    def censored(self) -> int:
        return len(self.times) - self.heard

    @property
    def size(self) -> int:
        """How many bets the sample has (heard and censored): the report's "of N bets"."""
        return len(self.times)

    @property
    def enough(self) -> bool:
        """At least `MIN_HEARD` heard bets: below that there is no estimate (T8)."""
        return self.heard >= MIN_HEARD

    @cached_property
    def _step_times(self) -> tuple[timedelta, ...]:
        return tuple(step.time for step in self.steps)

    def at(self, t: timedelta) -> Fraction:
        """S(t): the share of bets still unheard after waiting `t` (1 before the first
        heard time)."""
        index = bisect_right(self._step_times, t)
        return self.steps[index - 1].survival if index else Fraction(1)

    def at_risk(self, t: timedelta) -> int:
        """How many bets of the sample have a time ≥ `t`: the ones that reached that age
        unheard or were heard at it or later."""
        return len(self.times) - bisect_left(self.times, t)

    def percentile(self, p: float) -> timedelta | None:
        """The smallest heard time where S ≤ 1 − p; None when S never falls that low
        ("not reached": too many bets are still unheard to say)."""
        index = _first_at_or_below(self.steps, 1 - _exact(p), 0)
        return None if index is None else self.steps[index].time

    @property
    def longest(self) -> timedelta | None:
        """The longest time seen, heard or censored; None for an empty sample."""
        return self.times[-1] if self.times else None

    @property
    def unheard_share(self) -> Fraction:
        """S at the longest time seen: the share with no evidence after the longest wait
        ("30 % of the bets shipped in 90 days have no evidence after 40d"); 1 when no bet
        was heard."""
        return self.steps[-1].survival if self.steps else Fraction(1)

    # Floats of the curve for F5's fast path: `float(Fraction)` is correctly rounded, which
    # is what `_margin`'s error bound starts from.
    @cached_property
    def _offsets(self) -> list[int]:
        return [_microseconds(step.time) for step in self.steps]

    @cached_property
    def _approximate(self) -> list[float]:
        return [1.0, *(float(step.survival) for step in self.steps)]

    def _approximately_at(self, offset: int) -> float:
        return self._approximate[bisect_right(self._offsets, offset)]


def _first_at_or_below(steps: Sequence[Step], level: Fraction, lo: int) -> int | None:
    """Index of the first step from `lo` on with S ≤ `level`: S never rises, so a binary
    search finds it."""
    index = bisect_left(steps, True, lo=lo, key=lambda step: step.survival <= level)
    return index if index < len(steps) else None


def kaplan_meier(observations: Iterable[Observation]) -> Survival:
    """The Kaplan–Meier curve of a sample (F2): S(t) = Π over distinct heard times tᵢ ≤ t of
    (1 − dᵢ/nᵢ), with dᵢ heard at tᵢ and nᵢ the bets whose time is ≥ tᵢ, so a bet censored
    exactly at tᵢ still counts as at risk there. Exact (`Fraction`s), whatever the sample.
    """
    ordered = sorted(observations, key=lambda observation: observation.time)
    at_risk = len(ordered)
    survival = Fraction(1)
    steps = []
    for time, tied in groupby(ordered, key=lambda observation: observation.time):
        group = list(tied)
        heard = sum(1 for observation in group if observation.heard)
        if heard:
            survival *= Fraction(at_risk - heard, at_risk)
            steps.append(Step(time, at_risk, heard, survival))
        at_risk -= len(group)
    return Survival(
        steps=tuple(steps),
        times=tuple(observation.time for observation in ordered),
        heard=sum(1 for observation in ordered if observation.heard),
    )


def estimate(observations: Iterable[Observation]) -> Survival | None:
    """The curve when it is an estimate (at least `MIN_HEARD` heard bets), else None: the
    report then says there is not enough history (T8)."""
    survival = kaplan_meier(observations)
    return survival if survival.enough else None


@dataclass(frozen=True)
class HeardPercentiles:
    """Nearest-rank percentiles of the heard bets alone, shown as "of the N bets heard"
    (F2): they leave out every bet still waiting, so they are labelled as such."""

    count: int
    p50: timedelta | None
    p85: timedelta | None
    p95: timedelta | None


def heard_percentiles(observations: Iterable[Observation]) -> HeardPercentiles:
    """`bets.metrics.percentile` (nearest rank) over the heard bets' times."""
    heard = [observation.time for observation in observations if observation.heard]
    return HeardPercentiles(
        count=len(heard),
        p50=percentile(heard, 0.5),
        p85=percentile(heard, 0.85),
        p95=percentile(heard, 0.95),
    )


# --------------------------------------------------------------------------- F3 the SLE


class SleSource(StrEnum):
    HISTORY = "history"
    CONFIGURED = "configured"


class ConfiguredBecause(StrEnum):
    """Why the SLE is the configured one, for the report to say (F3)."""

    FEW_HEARD = "few_heard"  # fewer than MIN_HEARD heard bets: no estimate
    NOT_REACHED = "not_reached"  # the curve never falls to 1 − p


@dataclass(frozen=True)
class SleChoice:
    value: timedelta
    source: SleSource
    because: ConfiguredBecause | None  # None when the SLE comes from history
    heard: int  # heard bets of the sample, for "only 3 heard"


def sle_from(survival: Survival, configured: timedelta, p: float = SLE_PERCENTILE) -> SleChoice:
    """The SLE (F3): the curve's p-th percentile when it is an estimate and reaches it, else
    the channel's configured SLE with the reason. Give it the curve of the last 90 days
    (`bets.metrics.SLE_LOOKBACK`), whatever the report's window."""
    if not survival.enough:
        return SleChoice(
            configured, SleSource.CONFIGURED, ConfiguredBecause.FEW_HEARD, survival.heard
        )
    value = survival.percentile(p)
    if value is None:
        return SleChoice(
            configured, SleSource.CONFIGURED, ConfiguredBecause.NOT_REACHED, survival.heard
        )
    return SleChoice(value, SleSource.HISTORY, None, survival.heard)


@dataclass(frozen=True)
class SleScore:
    """SLE met (F3): of the bets whose outcome at the SLE is known, how many were heard
    within it."""

    met: int
    missed: int

    @property
    def share(self) -> Fraction | None:
        """met / (met + missed); None when no bet's outcome at the SLE is known."""
        counted = self.met + self.missed
        return Fraction(self.met, counted) if counted else None

    def meets(self, p: float = SLE_PERCENTILE) -> bool | None:
        """Whether the share reaches `p` (the SLE's own percentile), exactly; None as
        `share`."""
        share = self.share
        return None if share is None else share >= _exact(p)


def sle_met(observations: Iterable[Observation], sle: timedelta) -> SleScore:
    """Score a sample against the SLE (F3; T8).

    Heard within the SLE (time ≤ SLE) is met; heard later is a miss. A censored bet whose
    time is ≥ SLE is a miss: still awaiting past it, or closed unheard past it; ≥ as the
    ageing status's "past SLE", which starts at age = SLE. A censored bet below the SLE is
    left out: nobody knows whether it would have been heard in time. So killing an old
    unheard bet never turns a miss into met.
    """
    met = missed = 0
    for observation in observations:
        if observation.heard and observation.time <= sle:
            met += 1
        elif observation.heard or observation.time >= sle:
            missed += 1
    return SleScore(met=met, missed=missed)


# --------------------------------------------------------------------------- F4 one bet


class NoForecastReason(StrEnum):
    NOT_ENOUGH_HISTORY = "not_enough_history"  # fewer than MIN_HEARD heard bets
    WAITED_LONGER = "waited_longer"  # fewer than MIN_REACHED bets waited as long
    NOT_REACHED = "not_reached"  # the chance never reaches p


@dataclass(frozen=True)
class BetForecast:
    """An awaiting bet's forecast (F4): a p chance of being heard by `by`."""

    number: int
    shipped_at: datetime
    age: timedelta  # now − shipped_at when it was made
    by: datetime  # the earliest instant the chance reaches p
    expected_at: datetime | None  # the bet's expected date (T1), if it has one
    heard: int  # heard bets of the sample behind it (T8: the sample size is shown)
    reached: int  # bets of the sample whose time is ≥ `age` (the bet itself when in it)

    @property
    def shown(self) -> datetime:
        """The date surfaces show: `by`, but never before the expected date (T1). Until
        the expected date the card shows the expected date."""
        if self.expected_at is None:
            return self.by
        return max(self.by, self.expected_at)


@dataclass(frozen=True)
class NoForecast:
    """Why an awaiting bet has no forecast (F4), with what the sentence needs."""

    number: int
    reason: NoForecastReason
    heard: int  # heard bets of the sample: "only 3 bets heard"
    # other bets of the sample that waited at least as long as this one ("waited longer
    # than all but 2 of our bets"); the bet itself is never counted here
    others_as_long: int


def chance(survival: Survival, age: timedelta, by_age: timedelta) -> Fraction:
    """P(heard by the time it is `by_age` old | unheard at `age`) = 1 − S(by_age)/S(age)
    (F4). 0 when `by_age` ≤ `age` (nothing can happen in no time) and when S(age) = 0 (every
    bet of the sample that waited that long was heard right then: the curve says nothing
    about one that was not)."""
    if by_age <= age:
        return Fraction(0)
    before = survival.at(age)
    if before == 0:
        return Fraction(0)
    return 1 - survival.at(by_age) / before


def forecast(
    survival: Survival,
    *,
    number: int,
    shipped_at: datetime,
    now: datetime,
    expected_at: datetime | None = None,
    in_sample: bool = True,
    p: float = SLE_PERCENTILE,
) -> BetForecast | NoForecast:
    """An awaiting bet's forecast (F4), from the curve of the sample at `now`.

    With age a = now − shipped_at, the chance of being heard by now + x is
    1 − S(a + x)/S(a); the forecast is the earliest instant it reaches `p`: shipped_at + the
    smallest heard time tᵢ > a with S(tᵢ) ≤ (1 − p)·S(a). Given only when the curve is an
    estimate (`MIN_HEARD`) and at least `MIN_REACHED` bets of the sample have a time ≥ a
    (the bet itself included when `in_sample`, as it normally is: it is censored at a).
    At shipping (`now = shipped_at`, a = 0) this is the forecast F6 records.
    """
    age = max(now - shipped_at, _ZERO)
    reached = survival.at_risk(age)
    others = max(reached - 1, 0) if in_sample else reached
    if not survival.enough:
        return NoForecast(number, NoForecastReason.NOT_ENOUGH_HISTORY, survival.heard, others)
    if reached < MIN_REACHED:
        return NoForecast(number, NoForecastReason.WAITED_LONGER, survival.heard, others)
    level = (1 - _exact(p)) * survival.at(age)
    index = _first_at_or_below(survival.steps, level, bisect_right(survival._step_times, age))
    if index is None:
        return NoForecast(number, NoForecastReason.NOT_REACHED, survival.heard, others)
    return BetForecast(
        number=number,
        shipped_at=shipped_at,
        age=age,
        by=shipped_at + survival.steps[index].time,
        expected_at=expected_at,
        heard=survival.heard,
        reached=reached,
    )


def forecast_of(
    survival: Survival,
    bet: BetFacts,
    *,
    now: datetime,
    in_sample: bool = True,
    p: float = SLE_PERCENTILE,
) -> BetForecast | NoForecast:
    """`forecast` for a shipped bet as it is stored, with its expected date (T1)."""
    if bet.shipped_at is None:
        raise ValueError(f"H-{bet.number} is not shipped: only a shipped bet has a forecast")
    return forecast(
        survival,
        number=bet.number,
        shipped_at=bet.shipped_at,
        now=now,
        expected_at=expected_of(bet),
        in_sample=in_sample,
        p=p,
    )


# --------------------------------------------------------------------------- F5 the set

# Unit roundoff of IEEE double precision (round to nearest).
_ROUNDOFF = 2.0**-53


def _margin(members: int) -> float:
    """How far a float figure of F5 may be from the exact one, with room to spare.

    Each member's chance P and its complement Q = S(t)/S(a) are within 5u of the exact
    values (u = 2⁻⁵³): the floats of S are correctly rounded, the division adds one rounding,
    1 − Q one more. A product of n values in [0, 1] then errs by at most n·5u plus n
    roundings, 7nu. The Poisson-binomial recurrence r'[k] = r[k]·Q + r[k−1]·P only adds
    non-negative terms, so its distribution's total (L1) error grows by at most 13u per
    member, and the suffix sums add (n+1)u: under 14nu + 2u in all. The threshold's float
    is within u/2 of p, and adding the margin to it rounds once more. 16(n + 1)u bounds all
    of it (an underflow would add under 2⁻¹⁰⁷⁴ an operation), so a float figure further than
    this from p is on the same side of p as the exact figure.
    """
    return 16 * (members + 1) * _ROUNDOFF


# An exact figure as an unreduced fraction (numerator, denominator > 0): reducing numbers of
# hundreds of thousands of bits would cost more than the comparison they serve.
_Ratio = tuple[int, int]


def _decide(
    approximate: float, target: Fraction, members: int, exact: Callable[[], _Ratio]
) -> bool:
    """approximate ≈ exact() ≥ target, answered exactly: in floats when `_margin` shows
    the answer cannot differ, else from `exact()`."""
    margin = _margin(members)
    if approximate >= float(target) + margin:
        return True
    if approximate <= float(target) - margin:
        return False
    numerator, denominator = exact()
    return numerator * target.denominator >= target.numerator * denominator


def _exact_product(values: Sequence[Fraction]) -> _Ratio:
    return (
        math.prod(value.numerator for value in values),
        math.prod(value.denominator for value in values),
    )


def _poisson_binomial(weights: Iterable[tuple[_N, _N]], zero: _N, one: _N) -> list[_N]:
    """The coefficients of Π (unheardᵢ + heardᵢ·x) for (heardᵢ, unheardᵢ) weights: with
    chances, P(exactly k heard) for k = 0..n."""
    distribution: list[_N] = [one]
    for heard, unheard in weights:
        # k heard after this bet: k before and this one unheard, or k − 1 and this one heard
        padded = chain((zero,), distribution, (zero,))
        distribution = [stays * unheard + moves * heard for moves, stays in pairwise(padded)]
    return distribution


def _at_least(distribution: Sequence[_N]) -> list[_N]:
    """Suffix sums: P(at least k) for k = 0..n, summed from the top."""
    return list(accumulate(reversed(distribution)))[::-1]


def _exact_at_least(chances: Sequence[Fraction]) -> tuple[list[int], int]:
    """P(at least k heard) for k = 0..n as integers over one common denominator Π vᵢ, for
    chances uᵢ/vᵢ: integer coefficients of Π ((vᵢ − uᵢ) + uᵢ·x), because reducing fractions
    at every step of the recurrence costs fifty times as much at 100 bets."""
    weights = [(heard.numerator, heard.denominator - heard.numerator) for heard in chances]
    denominator = math.prod(heard.denominator for heard in chances)
    return _at_least(_poisson_binomial(weights, 0, 1)), denominator


def heard_at_least(chances: Sequence[Fraction]) -> tuple[Fraction, ...]:
    """Exact P(at least k heard) for k = 0..n, each bet heard independently with its chance
    (the Poisson-binomial distribution, F5). O(n²) operations on integers that grow with n:
    for small sets; `likely_heard` answers the F5 question fast."""
    tails, denominator = _exact_at_least(chances)
    return tuple(Fraction(tail, denominator) for tail in tails)


def _likely_count(
    approximate: Sequence[tuple[float, float]],
    exact: Callable[[], Sequence[Fraction]],
    target: Fraction,
) -> int:
    """The largest k with P(at least k heard) ≥ target, from (P, 1 − P) floats, falling back
    on `exact()`'s chances for any k too close to call (`_decide`)."""
    members = len(approximate)
    tails = _at_least(_poisson_binomial(approximate, 0.0, 1.0))

    @cache
    def exact_tails() -> tuple[list[int], int]:
        return _exact_at_least(exact())

    def exact_tail(k: int) -> _Ratio:
        numerators, denominator = exact_tails()
        return numerators[k], denominator

    # P(at least k) never rises with k, so the count is the last k before it falls short.
    count = 0
    while count < members and _decide(
        tails[count + 1], target, members, partial(exact_tail, count + 1)
    ):
        count += 1
    return count


def likely_heard(chances: Sequence[Fraction], p: float = SLE_PERCENTILE) -> int:
    """The largest k with P(at least k of these bets heard) ≥ p (F5), exactly; k may be 0
    (P(at least 0) = 1). Each chance must be in [0, 1]."""
    if any(not 0 <= heard <= 1 for heard in chances):
        raise ValueError("a chance must be in [0, 1]")
    approximate = [(float(heard), float(1 - heard)) for heard in chances]
    return _likely_count(approximate, lambda: chances, _exact(p))


@dataclass(frozen=True)
class _Member:
    """One bet of the awaiting set on the curve, its instants counted in microseconds from
    `now`."""

    forecast: BetForecast
    survival: Survival
    shipped: int  # shipped_at − now
    unheard_at_age: float  # S(age), correctly rounded

    @classmethod
    def place(cls, forecast: BetForecast, survival: Survival, now: datetime) -> _Member:
        unheard = survival.at(forecast.age)
        if unheard == 0:
            # `forecast` never gives a date then: this one was made with another curve
            raise ValueError(f"H-{forecast.number}'s forecast is not from this curve")
        return cls(forecast, survival, _microseconds(forecast.shipped_at - now), float(unheard))

    def approximate(self, instant: int) -> tuple[float, float]:
        """(P, 1 − P) of being heard by `instant`, in floats (see `_margin`)."""
        unheard = self.survival._approximately_at(instant - self.shipped) / self.unheard_at_age
        return max(1.0 - unheard, 0.0), min(unheard, 1.0)

    def exact(self, instant: int) -> Fraction:
        return chance(self.survival, self.forecast.age, (instant - self.shipped) * _MICROSECOND)


@dataclass(frozen=True)
class SetForecast:
    """The awaiting set's outlook (F5)."""

    members: tuple[BetForecast, ...]  # the awaiting bets with a forecast, by number
    without: tuple[NoForecast, ...]  # the ones without: named by the digest and the report
    # the earliest instant where P(all members heard) reaches p; None when it never does or
    # there are no members
    all_heard_by: datetime | None
    horizon: datetime  # now + SET_HORIZON
    heard_by_horizon: int  # the largest k with P(at least k members heard by horizon) ≥ p

    @property
    def all_heard_shown(self) -> datetime | None:
        """The set's date as surfaces show it: never before a member's expected date (T1).
        As `all_heard_by` is never before a member's `by`, it is never before a member's
        `BetForecast.shown` either."""
        if self.all_heard_by is None:
            return None
        expected = [m.expected_at for m in self.members if m.expected_at is not None]
        return max([self.all_heard_by, *expected])


def awaiting_set(
    survival: Survival,
    forecasts: Iterable[BetForecast | NoForecast],
    *,
    now: datetime,
    p: float = SLE_PERCENTILE,
) -> SetForecast:
    """The outlook of the bets awaiting feedback (F5), from their `forecast`s made with this
    curve at `now`; the ones without a forecast are passed through, to be named.

    P(all heard by T) = Π Pᵢ(T), each Pᵢ the member's F4 chance. It only changes where a
    member's S steps (shipped_at + tᵢ) and never falls, and it cannot reach p before every
    Pᵢ does, so the earliest such T is searched between the latest member's own `by` and
    the instant every member's last step is behind. For the horizon, the Poisson-binomial
    distribution of how many are heard gives the count. Decisions are exact (`_decide`).
    """
    target = _exact(p)
    chosen = sorted(forecasts, key=lambda item: item.number)
    members = [item for item in chosen if isinstance(item, BetForecast)]
    without = tuple(item for item in chosen if isinstance(item, NoForecast))
    horizon = _microseconds(SET_HORIZON)
    if not members:
        return SetForecast((), without, None, now + SET_HORIZON, 0)

    placed = [_Member.place(member, survival, now) for member in members]

    def all_heard_by(instant: int) -> bool:
        return _decide(
            math.prod(member.approximate(instant)[0] for member in placed),
            target,
            len(placed),
            lambda: _exact_product([member.exact(instant) for member in placed]),
        )

    latest_own = max(_microseconds(member.by - now) for member in members)
    last_change = max(member.shipped + survival._offsets[-1] for member in placed)
    low, high = latest_own, max(latest_own, last_change)
    all_heard: datetime | None = None
    if all_heard_by(high):
        while low < high:
            middle = (low + high) // 2
            if all_heard_by(middle):
                high = middle
            else:
                low = middle + 1
        all_heard = now + high * _MICROSECOND

    count = _likely_count(
        [member.approximate(horizon) for member in placed],
        lambda: [member.exact(horizon) for member in placed],
        target,
    )
    return SetForecast(tuple(members), without, all_heard, now + SET_HORIZON, count)


# --------------------------------------------------------------------------- F6 track record


class Settled(StrEnum):
    HIT = "hit"
    MISS = "miss"


def settle(forecast_at: datetime, heard_at: datetime | None, *, now: datetime) -> Settled | None:
    """A recorded forecast once its date has come (F6): a hit when the bet was heard (T5,
    `bets.metrics.feedback_at`) by then, else a miss; None while `now` is before the date.
    At `now` = the date everything up to it is known, so it settles then."""
    if now < forecast_at:
        return None
    if heard_at is not None and heard_at <= forecast_at:
        return Settled.HIT
    return Settled.MISS


@dataclass(frozen=True)
class RecordedForecast:
    """The forecast recorded when a bet shipped (F4 with a = 0, `BetForecast.by`), and when
    the bet was heard, if it was."""

    number: int
    at: datetime
    heard_at: datetime | None


@dataclass(frozen=True)
class TrackRecord:
    """ "Our 85 % forecasts came true `hits` of `settled` times" (F6)."""

    settled: int
    hits: int

    @property
    def misses(self) -> int:
        return self.settled - self.hits

    @property
    def enough(self) -> bool:
        """At least `MIN_SETTLED` settled; else the report says "not enough settled yet"."""
        return self.settled >= MIN_SETTLED


def track_record(
    records: Iterable[RecordedForecast], *, now: datetime, start: datetime, end: datetime
) -> TrackRecord:
    """The recorded forecasts whose date is in [start, end] and settled at `now` (F6)."""
    settled = hits = 0
    for record in records:
        if not start <= record.at <= end:
            continue
        outcome = settle(record.at, record.heard_at, now=now)
        if outcome is not None:
            settled += 1
            hits += outcome is Settled.HIT
    return TrackRecord(settled=settled, hits=hits)
