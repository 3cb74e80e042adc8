"""A channel's flow figures over a window, counting every bet (docs/rules.md, "Flow
metrics" and F1–F8): the one computation behind the report, the digest, App Home, the board
and the flow API, so they always say the same numbers.

Every time-to-feedback figure of a window comes from one sample, the bets shipped in it
(F1): the nearest-rank percentiles of its heard bets, the Kaplan–Meier curve over all of
it (F2), "SLE met" (F3) and the trend against the bets shipped in the window before. The
SLE and the forecasts use the last 90 days' sample at `now`, whatever the window (F3, F4).
"""

from __future__ import annotations

from collections.abc import Iterable, Sequence
from dataclasses import dataclass
from datetime import datetime, timedelta
from enum import StrEnum
from fractions import Fraction

from bets.forecasts import (
    BetForecast,
    HeardPercentiles,
    NoForecast,
    Observation,
    RecordedForecast,
    SetForecast,
    SleChoice,
    SleScore,
    Survival,
    TrackRecord,
    awaiting_set,
    forecast,
    forecast_of,
    heard_percentiles,
    kaplan_meier,
    sample,
    sle_from,
    sle_met,
    track_record,
)
from bets.lifecycle import OPEN_STATES, State
from bets.metrics import (
    DEFAULT_SLE,
    LEARNED_STATES,
    MAX_WINDOW,
    SLE_LOOKBACK,
    SLE_PERCENTILE,
    TREND_TOLERANCE,
    Ageing,
    BetFacts,
    ageing_status,
    awaiting_age,
    cycle_time,
    feedback_at,
    is_awaiting,
    is_overdue,
    killed_before_learning,
    lead_time_to_learning,
    median,
)
from bets.timing import expected_of

WEEK = timedelta(weeks=1)
# The shortest time a team is taken to have been observed (F8): a first bet made a minute
# ago does not make one learning a thousand a week.
MIN_OBSERVED = timedelta(days=1)


class Trend(StrEnum):
    FASTER = "faster"
    SLOWER = "slower"
    SAME = "same"


def trend(current: timedelta | None, previous: timedelta | None) -> Trend | None:
    """Compare two medians: within ±10 % of the previous one is the same."""
    if current is None or previous is None:
        return None
    tolerance = previous * TREND_TOLERANCE
    if current < previous - tolerance:
        return Trend.FASTER
    if current > previous + tolerance:
        return Trend.SLOWER
    return Trend.SAME


class MedianKind(StrEnum):
    """Which median a trend compares: counting every bet (F2), or of the heard bets only
    when either window has no estimate."""

    EVERY_BET = "every_bet"
    HEARD = "heard"


# --------------------------------------------------------------------------- the SLE sample


def sle_sample(bets: Iterable[BetFacts], now: datetime) -> tuple[Observation, ...]:
    """The bets shipped in the last 90 days at `now` (F1): the SLE's and the forecasts'
    sample, whatever the report's window."""
    return sample(bets, now=now, start=now - SLE_LOOKBACK, end=now)


def channel_sle(bets: Iterable[BetFacts], now: datetime, configured: timedelta) -> SleChoice:
    """The channel's SLE at `now` (F3): p85 of the last 90 days counting every bet, with
    at least 5 heard, else its configured SLE."""
    return sle_from(kaplan_meier(sle_sample(bets, now)), configured)


def on_track_line(survival: Survival, observations: Sequence[Observation]) -> timedelta | None:
    """The ageing status's "on track" line: the median counting every bet (F2), or of the
    heard bets where that is not reached; None with no heard bet (then half the SLE)."""
    if survival.enough and (every := survival.percentile(0.5)) is not None:
        return every
    return heard_percentiles(observations).p50


# --------------------------------------------------------------------------- the report


@dataclass(frozen=True)
class EveryBet:
    """Time to feedback counting every bet of the window (F2): the Kaplan–Meier
    percentiles, None where the curve does not fall that low ("not reached")."""

    shipped: int
    heard: int
    censored: int
    estimated: bool  # at least 5 heard: below that there is no estimate (T8)
    p50: timedelta | None
    p85: timedelta | None
    p95: timedelta | None
    unheard_share: Fraction  # the curve at the longest time seen (1 with nothing heard)
    longest_wait: timedelta | None  # the longest time seen, heard or not

    @classmethod
    def of(cls, survival: Survival) -> EveryBet:
        enough = survival.enough
        return cls(
            shipped=survival.size,
            heard=survival.heard,
            censored=survival.censored,
            estimated=enough,
            p50=survival.percentile(0.5) if enough else None,
            p85=survival.percentile(0.85) if enough else None,
            p95=survival.percentile(0.95) if enough else None,
            unheard_share=survival.unheard_share,
            longest_wait=survival.longest,
        )


@dataclass(frozen=True)
class Awaiting:
    """A bet shipped and not heard yet (T13), with its age against the SLE and its
    forecast (F4)."""

    number: int
    shipped_at: datetime
    age: timedelta
    status: Ageing
    forecast: BetForecast | NoForecast
    expected_at: datetime | None = None  # the bet's expected date (T1)
    escalated: bool = False

    @property
    def overdue(self) -> bool:
        """Escalated (T3): the one meaning of "overdue" (F7)."""
        return self.escalated

    @property
    def forecast_at(self) -> datetime | None:
        """The date surfaces show: the 85 % instant, never before the expected date."""
        return self.forecast.shown if isinstance(self.forecast, BetForecast) else None


@dataclass(frozen=True)
class FlowReport:
    now: datetime
    window: timedelta
    window_start: datetime  # the window is [window_start, now]
    # F1: the bets shipped in the window, heard or not
    sample: tuple[Observation, ...]
    heard: HeardPercentiles  # nearest rank, over the heard bets of the sample
    every_bet: EveryBet  # F2
    curve: Survival  # the window's curve, for the chart
    # F3: the SLE from the last 90 days (whatever the window), and met over the window
    sle: SleChoice
    sle_score: SleScore
    on_track: timedelta | None  # the ageing status's "on track" line
    # outcomes closed in the window
    validated: int
    invalidated: int
    validation_rate: float | None  # validated / (validated + invalidated); None when 0
    killed: int
    killed_before_learning: int
    throughput_per_week: float  # F8
    weeks_observed: float  # what the throughput divides by (F8)
    cycle_time_median: timedelta | None  # bets shipped in the window
    lead_time_median: timedelta | None  # bets learned (validated/invalidated) in the window
    # now
    wip: int  # bets in building
    building: tuple[int, ...]
    awaiting: tuple[Awaiting, ...]  # overdue (escalated) first, then oldest first
    outlook: SetForecast  # F5
    without_signal: tuple[int, ...]  # open bets with no signal
    # the window before, for the trend (whole too: T10)
    previous_shipped: int
    previous_median: timedelta | None
    median_kind: MedianKind
    trend: Trend | None
    track_record: TrackRecord  # F6, over the forecasts settled in the window

    @property
    def median(self) -> timedelta | None:
        """The window's headline median, of the kind the trend compares."""
        if self.median_kind is MedianKind.EVERY_BET:
            return self.every_bet.p50
        return self.heard.p50

    @property
    def learned(self) -> int:
        return self.validated + self.invalidated

    @property
    def overdue(self) -> tuple[Awaiting, ...]:
        return tuple(item for item in self.awaiting if item.overdue)


def _in(moment: datetime | None, start: datetime, end: datetime) -> bool:
    return moment is not None and start <= moment <= end


def _median_of(survival: Survival, heard: HeardPercentiles) -> tuple[timedelta | None, bool]:
    """(the median counting every bet, whether it is one), else the heard bets' median."""
    if survival.enough and (every := survival.percentile(0.5)) is not None:
        return every, True
    return heard.p50, False


def throughput(
    learned: int, *, window: timedelta, since: datetime | None, now: datetime
) -> tuple[float, float]:
    """(learned per week, weeks observed) (F8): over the window, or the time since the
    channel's first bet when that is shorter."""
    observed = window if since is None else min(window, max(now - since, MIN_OBSERVED))
    weeks = observed / WEEK
    return learned / weeks, weeks


def flow_report(
    bets: Sequence[BetFacts],
    *,
    now: datetime,
    window: timedelta,
    configured_sle: timedelta = DEFAULT_SLE,
    first_bet_at: datetime | None = None,
) -> FlowReport:
    """The flow figures over the window [now − window, now], and the state of things now.

    `bets` must hold every bet open now or closed since `now − max(2·window, 90 days)`, and
    every bet whose recorded forecast falls in the window: then every sample of the window
    and of the window before it counts (T10). `first_bet_at`: when the channel's first bet
    was made (F8).
    """
    if window <= timedelta(0):
        raise ValueError("the report window must be positive")
    if window > MAX_WINDOW:
        raise ValueError("the report window must be at most three years")
    start = now - window

    observations = sample(bets, now=now, start=start, end=now)
    heard = heard_percentiles(observations)
    curve = kaplan_meier(observations)
    recent = sle_sample(bets, now)
    recent_curve = kaplan_meier(recent)
    level = sle_from(recent_curve, configured_sle)
    line = on_track_line(recent_curve, recent)

    earlier = sample(bets, now=now, start=start - window, end=start, include_end=False)
    current_median, every_now = _median_of(curve, heard)
    previous_median, every_before = _median_of(kaplan_meier(earlier), heard_percentiles(earlier))
    if every_now and every_before:
        kind = MedianKind.EVERY_BET
    else:
        kind = MedianKind.HEARD
        current_median, previous_median = heard.p50, heard_percentiles(earlier).p50

    closed = [bet for bet in bets if _in(bet.closed_at, start, now)]
    validated = sum(1 for bet in closed if bet.state is State.VALIDATED)
    invalidated = sum(1 for bet in closed if bet.state is State.INVALIDATED)
    killed = [bet for bet in closed if bet.state is State.KILLED]
    learned = validated + invalidated
    per_week, weeks = throughput(learned, window=window, since=first_bet_at, now=now)

    cycle_times = [
        ct
        for bet in bets
        if _in(bet.shipped_at, start, now) and (ct := cycle_time(bet)) is not None
    ]
    lead_times = [lt for bet in closed if (lt := lead_time_to_learning(bet)) is not None]
    building = tuple(sorted(bet.number for bet in bets if bet.state is State.BUILDING))

    lookback = now - SLE_LOOKBACK
    awaiting = sorted(
        (
            Awaiting(
                number=bet.number,
                shipped_at=bet.shipped_at,
                age=age,
                status=ageing_status(age, line, level.value),
                forecast=forecast_of(
                    recent_curve, bet, now=now, in_sample=bet.shipped_at >= lookback
                ),
                expected_at=expected_of(bet),
                escalated=is_overdue(bet),
            )
            for bet in bets
            if (age := awaiting_age(bet, now)) is not None and bet.shipped_at is not None
        ),
        key=lambda item: (not item.overdue, -item.age, item.number),
    )
    outlook = awaiting_set(recent_curve, (item.forecast for item in awaiting), now=now)
    recorded = [
        RecordedForecast(bet.number, bet.forecast_at_ship, feedback_at(bet))
        for bet in bets
        if bet.forecast_at_ship is not None
    ]
    without_signal = tuple(
        sorted(bet.number for bet in bets if bet.state in OPEN_STATES and not bet.has_signal)
    )
    return FlowReport(
        now=now,
        window=window,
        window_start=start,
        sample=observations,
        heard=heard,
        every_bet=EveryBet.of(curve),
        curve=curve,
        sle=level,
        sle_score=sle_met(observations, level.value),
        on_track=line,
        validated=validated,
        invalidated=invalidated,
        validation_rate=validated / learned if learned else None,
        killed=len(killed),
        killed_before_learning=sum(1 for bet in killed if killed_before_learning(bet)),
        throughput_per_week=per_week,
        weeks_observed=weeks,
        cycle_time_median=median(cycle_times),
        lead_time_median=median(lead_times),
        wip=len(building),
        building=building,
        awaiting=tuple(awaiting),
        outlook=outlook,
        without_signal=without_signal,
        previous_shipped=len(earlier),
        previous_median=previous_median,
        median_kind=kind,
        trend=trend(current_median, previous_median),
        track_record=track_record(recorded, now=now, start=start, end=now),
    )


__all__ = [
    "LEARNED_STATES",
    "SLE_PERCENTILE",
    "Ageing",
    "Awaiting",
    "EveryBet",
    "FlowReport",
    "MedianKind",
    "Trend",
    "channel_sle",
    "flow_report",
    "trend",
]


def forecast_at_shipping(
    bets: Iterable[BetFacts], *, number: int, now: datetime
) -> datetime | None:
    """The 85 % forecast of a bet shipping at `now` (F4 with a = 0, from the last 90 days'
    sample then, the bet not in it yet), recorded to keep score (F6); None when there is
    none to make (fewer than 5 heard, or the curve never falls that low)."""
    made = forecast(
        kaplan_meier(sle_sample(bets, now)), number=number, shipped_at=now, now=now, in_sample=False
    )
    return made.by if isinstance(made, BetForecast) else None


def bet_forecasts(
    awaiting: Iterable[BetFacts], shipped: Iterable[BetFacts], *, now: datetime
) -> dict[int, BetForecast | NoForecast]:
    """The forecasts (F4) of a channel's bets awaiting feedback, by key number, from its
    bets shipped in the last 90 days (`shipped`: at least those): what the card, `show`,
    `list`, App Home and the API say of each bet, as the report and the digest do."""
    curve = kaplan_meier(sle_sample(shipped, now))
    lookback = now - SLE_LOOKBACK
    return {
        bet.number: forecast_of(curve, bet, now=now, in_sample=bet.shipped_at >= lookback)
        for bet in awaiting
        if is_awaiting(bet) and bet.shipped_at is not None
    }
