"""Flow metrics: how fast a team learns from what it ships.

Pure functions over `BetFacts`; the clock is always passed in as `now`. Definitions follow
docs/rules.md ("Flow metrics"):

- cycle time             = shipped_at − started_at (when started)
- time to feedback (TTF) = shipped_at → first decisive evidence, or the outcome
                           (validated/invalidated) if that came first; a kill is not feedback
- awaiting feedback      = shipped, no feedback yet; age = now − shipped_at
- lead time to learning  = closed_at − created_at for validated/invalidated bets
- percentiles            = nearest rank: the value at rank ⌈p·n⌉ of the sorted sample
- SLE                    = 85th percentile of TTF over the last 90 days with ≥ 5 samples,
                           else the channel's default
"""

from __future__ import annotations

import math
from collections.abc import Iterable, Sequence
from dataclasses import dataclass
from datetime import datetime, timedelta
from enum import StrEnum
from fractions import Fraction
from typing import TypeVar

from bets.lifecycle import OPEN_STATES, State

SLE_PERCENTILE = 0.85
SLE_LOOKBACK = timedelta(days=90)
SLE_MIN_SAMPLES = 5
# The longest report window (T10): every sample in it counts, with no hidden horizon.
MAX_WINDOW = timedelta(days=3 * 365)
DEFAULT_SLE = timedelta(days=14)
# Medians within ±10 % of the previous window's count as "same".
TREND_TOLERANCE = 0.1

LEARNED_STATES = frozenset({State.VALIDATED, State.INVALIDATED})

_T = TypeVar("_T", timedelta, float)


@dataclass(frozen=True)
class BetFacts:
    """A bet as a plain value: what the rules, the metrics and every surface read of it.

    Storage fills it from a row (all datetimes aware UTC); the first fields are what the
    metrics need, the rest default so that a rule's test names only what it is about.
    """

    number: int
    state: State
    created_at: datetime
    started_at: datetime | None
    shipped_at: datetime | None
    closed_at: datetime | None
    first_feedback_at: datetime | None  # first decisive evidence (supports or refutes)
    has_signal: bool = True
    escalated: bool = False
    # first decisive evidence at any time, before shipping too (T9: learning, not feedback)
    first_decisive_at: datetime | None = None
    learned: str = ""  # "what did we learn?" (invalidate, kill)
    # the rest of the bet, for the surfaces that show it
    id: int = 0
    team_id: str = ""
    channel_id: str = ""
    card_ts: str | None = None  # the card message: the bet's thread
    title: str = ""
    hypothesis: str = ""
    signal: str = ""
    link: str | None = None
    owner_id: str = ""
    creator_id: str = ""
    close_reason: str = ""
    pivot_of_id: int | None = None
    expected_at: datetime | None = None  # an explicit date (`expect H-1 2026-12-01`)
    expect_within: timedelta | None = None  # "within N" of shipping (T1)
    snoozed_until: datetime | None = None
    nudge_count: int = 0
    unanswered_nudges: int = 0
    last_nudged_at: datetime | None = None
    escalated_at: datetime | None = None
    evidence_count: int = 0


# --------------------------------------------------------------------------- percentiles


def percentile(sample: Sequence[_T], p: float) -> _T | None:
    """Nearest-rank percentile: the value at rank ⌈p·n⌉ (1-based) of the sorted sample.

    `p` is in (0, 1]; None for an empty sample. The rank is computed exactly (from the
    decimal text of `p`), so p=0.85 of 20 values is rank 17, not 18 from float error.
    """
    if not 0 < p <= 1:
        raise ValueError(f"percentile p must be in (0, 1], got {p!r}")
    if not sample:
        return None
    ordered = sorted(sample)
    rank = math.ceil(Fraction(str(p)) * len(ordered))
    return ordered[min(max(rank, 1), len(ordered)) - 1]


def median(sample: Sequence[_T]) -> _T | None:
    """The nearest-rank 50th percentile (the lower middle for an even sample)."""
    return percentile(sample, 0.5)


# --------------------------------------------------------------------------- per bet


@dataclass(frozen=True)
class FeedbackPoint:
    """One bet's time to feedback, for the report's chart."""

    number: int
    shipped_at: datetime
    feedback_at: datetime
    ttf: timedelta


def feedback_at(bet: BetFacts) -> datetime | None:
    """The moment a shipped bet got feedback: first decisive evidence, or its outcome
    (validated/invalidated) if that came first. None if not shipped or no feedback yet.
    A kill is not feedback."""
    if bet.shipped_at is None:
        return None
    moments = [bet.first_feedback_at] if bet.first_feedback_at is not None else []
    if bet.state in LEARNED_STATES and bet.closed_at is not None:
        moments.append(bet.closed_at)
    return min(moments) if moments else None


def time_to_feedback(bet: BetFacts) -> timedelta | None:
    """shipped_at → `feedback_at(bet)`. Evidence recorded before shipping counts as
    immediate feedback (zero), never as a negative time."""
    moment = feedback_at(bet)
    if moment is None or bet.shipped_at is None:
        return None
    return max(moment - bet.shipped_at, timedelta(0))


def is_awaiting(bet: BetFacts) -> bool:
    """Shipped (state `shipped`) with no decisive evidence yet."""
    return bet.state is State.SHIPPED and bet.shipped_at is not None and feedback_at(bet) is None


def awaiting_age(bet: BetFacts, now: datetime) -> timedelta | None:
    """now − shipped_at for a bet awaiting feedback; None otherwise."""
    if not is_awaiting(bet) or bet.shipped_at is None:
        return None
    return max(now - bet.shipped_at, timedelta(0))


def cycle_time(bet: BetFacts) -> timedelta | None:
    """shipped_at − started_at; None unless both happened."""
    if bet.started_at is None or bet.shipped_at is None:
        return None
    return bet.shipped_at - bet.started_at


def lead_time_to_learning(bet: BetFacts) -> timedelta | None:
    """closed_at − created_at for a validated or invalidated bet; None otherwise."""
    if bet.state not in LEARNED_STATES or bet.closed_at is None:
        return None
    return bet.closed_at - bet.created_at


def killed_before_learning(bet: BetFacts) -> bool:
    """Killed with no decisive evidence at any time (docs/rules.md, T9).

    Evidence from before shipping (a prototype test) is learning too, so a kill after it
    is not counted; `first_decisive_at` carries that, `first_feedback_at` only the
    evidence after shipping.
    """
    return (
        bet.state is State.KILLED
        and bet.first_feedback_at is None
        and bet.first_decisive_at is None
    )


def _feedback_points(
    bets: Iterable[BetFacts], since: datetime, until: datetime, *, include_end: bool = True
) -> list[FeedbackPoint]:
    points = []
    for bet in bets:
        moment = feedback_at(bet)
        ttf = time_to_feedback(bet)
        if moment is None or ttf is None or bet.shipped_at is None or moment < since:
            continue
        if moment > until or (moment == until and not include_end):
            continue
        points.append(FeedbackPoint(bet.number, bet.shipped_at, moment, ttf))
    return sorted(points, key=lambda point: (point.feedback_at, point.number))


def ttf_sample(bets: Iterable[BetFacts], *, since: datetime, until: datetime) -> list[timedelta]:
    """TTF of every bet whose feedback moment falls in [since, until], in feedback order."""
    return [point.ttf for point in _feedback_points(bets, since, until)]


def recent_ttfs(bets: Iterable[BetFacts], now: datetime) -> list[timedelta]:
    """The SLE sample: TTF of the feedback received over the last 90 days."""
    return ttf_sample(bets, since=now - SLE_LOOKBACK, until=now)


# --------------------------------------------------------------------------- SLE, ageing


@dataclass(frozen=True)
class Sle:
    """A service level expectation: "p of our bets get feedback within `value`"."""

    value: timedelta
    from_sample: bool  # False: the configured default (too few samples)
    n: int  # samples it was computed from (or that were available)


def sle(
    ttfs: Sequence[timedelta],
    default: timedelta,
    p: float = SLE_PERCENTILE,
    min_samples: int = SLE_MIN_SAMPLES,
) -> Sle:
    """The p-th percentile of `ttfs` with at least `min_samples` samples, else `default`."""
    if len(ttfs) >= min_samples:
        value = percentile(ttfs, p)
        if value is not None:
            return Sle(value=value, from_sample=True, n=len(ttfs))
    return Sle(value=default, from_sample=False, n=len(ttfs))


class Ageing(StrEnum):
    ON_TRACK = "on_track"
    AT_RISK = "at_risk"
    PAST_SLE = "past_sle"


def ageing_status(age: timedelta, p50: timedelta | None, sle: timedelta) -> Ageing:
    """On track below the median TTF (half the SLE when there is no median), at risk
    below the SLE, past SLE from there on. The on-track line never exceeds the SLE."""
    on_track_line = sle / 2 if p50 is None else min(p50, sle)
    if age < on_track_line:
        return Ageing.ON_TRACK
    if age < sle:
        return Ageing.AT_RISK
    return Ageing.PAST_SLE


def forecast_feedback(
    shipped_at: datetime,
    ttfs: Sequence[timedelta],
    *,
    now: datetime,
    confidence: float = SLE_PERCENTILE,
) -> datetime | None:
    """When a shipped bet will have feedback with probability `confidence`.

    The empirical conditional quantile (no Monte Carlo): given the bet has already waited
    `age = now − shipped_at` without feedback, keep the past TTFs longer than `age` and take
    their nearest-rank `confidence` percentile; the forecast is shipped_at plus that. "With
    the last 90 days' TTF, this bet has an 85% chance of feedback by <date>". None when no
    past TTF is longer than the wait so far (the history says nothing about this bet).
    """
    age = now - shipped_at
    longer = [ttf for ttf in ttfs if ttf > age]
    quantile = percentile(longer, confidence)
    return None if quantile is None else shipped_at + quantile


@dataclass(frozen=True)
class Forecast:
    """A forecast that carries its evidence: an 85% chance of feedback by `by`, from the
    last `sample` TTFs."""

    by: datetime
    sample: int  # how many past TTFs the forecast rests on (shown with it, T8)


def forecast(
    shipped_at: datetime,
    ttfs: Sequence[timedelta],
    *,
    now: datetime,
    confidence: float = SLE_PERCENTILE,
    min_samples: int = SLE_MIN_SAMPLES,
) -> Forecast | None:
    """`forecast_feedback` made honest (T8): withheld under `min_samples` past TTFs, since a
    date from two or three samples looks precise and means nothing; otherwise the date
    with the sample size it rests on. None also when the history says nothing about a bet
    that has already waited longer than every past TTF.
    """
    if len(ttfs) < min_samples:
        return None
    by = forecast_feedback(shipped_at, ttfs, now=now, confidence=confidence)
    return None if by is None else Forecast(by=by, sample=len(ttfs))


# --------------------------------------------------------------------------- report


class Trend(StrEnum):
    FASTER = "faster"
    SLOWER = "slower"
    SAME = "same"


def trend(current: timedelta | None, previous: timedelta | None) -> Trend | None:
    """Compare two median TTFs: within ±10 % of the previous one is the same."""
    if current is None or previous is None:
        return None
    tolerance = previous * TREND_TOLERANCE
    if current < previous - tolerance:
        return Trend.FASTER
    if current > previous + tolerance:
        return Trend.SLOWER
    return Trend.SAME


@dataclass(frozen=True)
class Awaiting:
    """A bet shipped without feedback, with its age against the SLE."""

    number: int
    shipped_at: datetime
    age: timedelta
    status: Ageing
    escalated: bool = False  # escalated after unanswered nudges (from BetFacts)
    expected_by: datetime | None = None  # `forecast` at the SLE percentile (T8)
    forecast_sample: int = 0  # past TTFs behind `expected_by`; 0 when there is none

    @property
    def leads(self) -> bool:
        """Leads the digest: escalated, or its age has passed the SLE."""
        return self.escalated or self.status is Ageing.PAST_SLE


@dataclass(frozen=True)
class FlowReport:
    now: datetime
    window: timedelta
    window_start: datetime  # the window is [window_start, now]
    # time to feedback: feedback received in the window
    feedback: tuple[FeedbackPoint, ...]  # in feedback order
    ttf_median: timedelta | None
    ttf_p85: timedelta | None
    ttf_p95: timedelta | None
    # SLE over the last 90 days (whatever the window); p50 of that sample for ageing
    sle: Sle
    sle_p50: timedelta | None  # None when the SLE is the default
    # fraction of window samples ≤ SLE, awaiting bets past the SLE counting as misses (T8);
    # None when there are neither samples nor such bets
    sle_attainment: float | None
    sle_met: bool | None  # attainment ≥ 85 %; None likewise
    # outcomes closed in the window
    validated: int
    invalidated: int
    validation_rate: float | None  # validated / (validated + invalidated); None when 0
    killed: int
    killed_before_learning: int
    throughput_per_week: float  # validated + invalidated per week of window
    cycle_time_median: timedelta | None  # bets shipped in the window
    lead_time_median: timedelta | None  # bets learned (validated/invalidated) in the window
    # now
    wip: int  # bets in building
    building: tuple[int, ...]
    awaiting: tuple[Awaiting, ...]  # leading (escalated / past SLE) first, then oldest first
    without_signal: tuple[int, ...]  # open bets with no signal
    # the window before, for the digest's trend
    previous_ttf_median: timedelta | None
    trend: Trend | None
    # bets awaiting feedback now and already past the SLE: misses in `sle_attainment` (T8)
    sle_misses_awaiting: int

    @property
    def ttf_count(self) -> int:
        return len(self.feedback)

    @property
    def ttf_sample(self) -> tuple[timedelta, ...]:
        return tuple(point.ttf for point in self.feedback)

    @property
    def learned(self) -> int:
        return self.validated + self.invalidated


def _in(moment: datetime | None, start: datetime, end: datetime) -> bool:
    return moment is not None and start <= moment <= end


def flow_report(
    bets: Sequence[BetFacts],
    *,
    now: datetime,
    window: timedelta,
    default_sle: timedelta = DEFAULT_SLE,
    previous_window: bool = True,
) -> FlowReport:
    """The flow figures over the window [now − window, now], plus the state of things now.

    Every sample in the window counts, up to `MAX_WINDOW` (docs/rules.md, T10); longer is
    refused rather than silently cut.
    """
    if window <= timedelta(0):
        raise ValueError("the report window must be positive")
    if window > MAX_WINDOW:
        raise ValueError("the report window must be at most three years")
    start = now - window

    feedback = tuple(_feedback_points(bets, start, now))
    ttfs = [point.ttf for point in feedback]

    recent = recent_ttfs(bets, now)
    level = sle(recent, default_sle)
    p50 = median(recent) if level.from_sample else None
    # T8: a bet still waiting past the SLE has already missed it; leaving it out would make
    # the slowest bets improve the figure.
    # "Past the SLE" as the ageing status says it (T8, one meaning): age ≥ the SLE.
    misses_awaiting = sum(
        1
        for bet in bets
        if (age := awaiting_age(bet, now)) is not None
        and ageing_status(age, p50, level.value) is Ageing.PAST_SLE
    )
    counted = len(ttfs) + misses_awaiting
    if counted:
        within = sum(1 for ttf in ttfs if ttf <= level.value)
        attainment: float | None = within / counted
        met: bool | None = Fraction(within, counted) >= Fraction(str(SLE_PERCENTILE))
    else:
        attainment = met = None

    closed = [bet for bet in bets if _in(bet.closed_at, start, now)]
    validated = sum(1 for bet in closed if bet.state is State.VALIDATED)
    invalidated = sum(1 for bet in closed if bet.state is State.INVALIDATED)
    killed = [bet for bet in closed if bet.state is State.KILLED]
    learned = validated + invalidated

    cycle_times = [
        ct
        for bet in bets
        if _in(bet.shipped_at, start, now) and (ct := cycle_time(bet)) is not None
    ]
    lead_times = [lt for bet in closed if (lt := lead_time_to_learning(bet)) is not None]

    building = tuple(sorted(bet.number for bet in bets if bet.state is State.BUILDING))
    awaiting = sorted(
        (
            Awaiting(
                number=bet.number,
                shipped_at=bet.shipped_at,
                age=age,
                status=ageing_status(age, p50, level.value),
                escalated=bet.escalated,
                expected_by=None if outlook is None else outlook.by,
                forecast_sample=0 if outlook is None else outlook.sample,
            )
            for bet in bets
            if (age := awaiting_age(bet, now)) is not None and bet.shipped_at is not None
            for outlook in (forecast(bet.shipped_at, recent, now=now),)
        ),
        key=lambda item: (not item.leads, -item.age, item.number),
    )
    without_signal = tuple(
        sorted(bet.number for bet in bets if bet.state in OPEN_STATES and not bet.has_signal)
    )

    previous_median: timedelta | None = None
    if previous_window:
        # [start − window, start): the current window owns its first instant
        earlier = _feedback_points(bets, start - window, start, include_end=False)
        previous_median = median([point.ttf for point in earlier])
    ttf_median = median(ttfs)

    return FlowReport(
        now=now,
        window=window,
        window_start=start,
        feedback=feedback,
        ttf_median=ttf_median,
        ttf_p85=percentile(ttfs, 0.85),
        ttf_p95=percentile(ttfs, 0.95),
        sle=level,
        sle_p50=p50,
        sle_attainment=attainment,
        sle_met=met,
        validated=validated,
        invalidated=invalidated,
        validation_rate=validated / learned if learned else None,
        killed=len(killed),
        killed_before_learning=sum(1 for bet in killed if killed_before_learning(bet)),
        throughput_per_week=learned / (window / timedelta(weeks=1)),
        cycle_time_median=median(cycle_times),
        lead_time_median=median(lead_times),
        wip=len(building),
        building=building,
        awaiting=tuple(awaiting),
        without_signal=without_signal,
        previous_ttf_median=previous_median,
        trend=trend(ttf_median, previous_median) if previous_window else None,
        sle_misses_awaiting=misses_awaiting,
    )


# --------------------------------------------------------------------------- learned since


@dataclass(frozen=True)
class Learning:
    """A bet that reached an outcome."""

    number: int
    outcome: State  # validated, invalidated or killed
    closed_at: datetime
    killed_before_learning: bool = False
    learned: bool = False  # a kill that recorded what was learned (never "before learning")


@dataclass(frozen=True)
class LearnedSince:
    validated: tuple[Learning, ...]
    invalidated: tuple[Learning, ...]
    killed: tuple[Learning, ...]

    @property
    def count(self) -> int:
        return len(self.validated) + len(self.invalidated) + len(self.killed)

    @property
    def is_empty(self) -> bool:
        return self.count == 0


def learned_since(bets: Iterable[BetFacts], since: datetime | None, now: datetime) -> LearnedSince:
    """The bets validated, invalidated or killed in (since, now], in closing order.
    `since=None` means from the beginning."""
    closed = sorted(
        (
            Learning(
                bet.number,
                bet.state,
                bet.closed_at,
                killed_before_learning(bet),
                bool(bet.learned.strip()),
            )
            for bet in bets
            if bet.state.is_final
            and bet.closed_at is not None
            and (since is None or bet.closed_at > since)
            and bet.closed_at <= now
        ),
        key=lambda item: (item.closed_at, item.number),
    )
    return LearnedSince(
        validated=tuple(item for item in closed if item.outcome is State.VALIDATED),
        invalidated=tuple(item for item in closed if item.outcome is State.INVALIDATED),
        killed=tuple(item for item in closed if item.outcome is State.KILLED),
    )
