"""Forecasts that count every bet: the sample of a window (docs/rules.md, F1), the
Kaplan–Meier curve over it (F2) and the SLE it gives (F3).

Pure functions: the clock is passed in as `now`. Every threshold decision ("S ≤ 15 %") is
exact: the curve is kept as `Fraction`s and `p` is read from its decimal text, so 17 of 20 is
exactly 85 %.
"""

from __future__ import annotations

from bisect import bisect_left, bisect_right
from collections.abc import Iterable, Sequence
from dataclasses import dataclass
from datetime import datetime, timedelta
from enum import StrEnum
from fractions import Fraction
from functools import cached_property
from itertools import groupby

from bets.metrics import (
    SLE_MIN_SAMPLES,
    SLE_PERCENTILE,
    BetFacts,
    feedback_at,
    percentile,
    time_to_feedback,
)

# Under 5 heard bets there is no estimate (docs/rules.md, F2; T8): a curve from three or four
# answers looks precise and means nothing.
MIN_HEARD = SLE_MIN_SAMPLES

_ZERO = timedelta(0)


def _exact(p: float) -> Fraction:
    """`p` as the decimal it was written as: 0.85 is 17/20, not the float next to it."""
    if not 0 < p <= 1:
        raise ValueError(f"a probability level must be in (0, 1], got {p!r}")
    return Fraction(str(p))


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
    report should get it from `estimate`, and `sle_from` checks it itself.
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
