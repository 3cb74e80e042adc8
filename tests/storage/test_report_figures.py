"""Every figure of the report against an independent computation, on both databases
(issue 20, "Done when").

Seeded, deterministic teams of bets are written straight through storage.models; then, for
windows of 7, 30, 90, 200 and 1,000 days, every figure of
`usecases.flow.channel_figures(...).report` (what `/hypothesis report`, the digest, App Home
and the flow API read) is checked against figures computed here from the raw timestamps, by
the definitions of docs/rules.md ("Flow metrics", T1, T5, T9, T10, F1–F8).

Nothing here calls bets/: the reference is written from the textbook. Percentiles of the
heard bets are nearest rank (the value at rank ⌈p·n⌉ of the sorted sample); the curve is a
plain Kaplan–Meier (for each distinct heard time, the bets at risk are those whose time is at
least it); the awaiting set's date is found by trying every instant where a chance can
change, and its week count by the Poisson-binomial distribution built one bet at a time. All
of it in exact fractions, with p = 85 % as 17/20.
"""

from __future__ import annotations

import math
import random
from collections.abc import Callable
from dataclasses import dataclass, field
from datetime import UTC, datetime, timedelta
from fractions import Fraction

import pytest

from storage.models import Bet, Channel, Evidence, Workspace
from usecases.flow import channel_figures, forecasts_of

NOW = datetime(2026, 11, 2, 10, 0, tzinfo=UTC)
SEED = 20261102
TEAM, CHANNEL = "T1", "C1"
WINDOWS = (7, 30, 90, 200, 1000)

SECOND = timedelta(seconds=1)
DAY = timedelta(days=1)
WEEK = timedelta(weeks=1)
CONFIGURED_SLE = timedelta(days=14)  # a new channel's setting
LOOKBACK = timedelta(days=90)  # the SLE's and the forecasts' sample (F1, F3, F4)
MIN_HEARD = 5  # T8
MIN_REACHED = 5  # F4
MIN_OBSERVED = DAY  # F8: a team is observed for at least a day
DECISIVE = ("supports", "refutes")
LEARNED = ("validated", "invalidated")
OPEN = ("proposed", "building", "shipped")

HALF, P85, P95 = Fraction(1, 2), Fraction(17, 20), Fraction(19, 20)


# --- a team's history -------------------------------------------------------------------------


@dataclass
class Raw:
    """One bet as generated: its stamps, its evidence as (verdict, posted at), and what the
    chasing and the forecasts recorded of it."""

    number: int
    state: str
    created: datetime
    started: datetime | None
    shipped: datetime | None
    closed: datetime | None
    signal: str = "export tickets drop 30%"
    evidence: list[tuple[str, datetime]] = field(default_factory=list)
    expected_on: datetime | None = None  # `expect H-1 <date>`
    expect_within: timedelta | None = None  # "within N" of shipping
    escalated: datetime | None = None
    forecast_at_ship: datetime | None = None  # recorded when it shipped (F6)

    @property
    def first_feedback(self) -> datetime | None:
        """T5: the first decisive evidence posted at or after shipping."""
        if self.shipped is None:
            return None
        shipped = self.shipped
        moments = [at for verdict, at in self.evidence if verdict in DECISIVE and at >= shipped]
        return min(moments, default=None)

    @property
    def first_decisive(self) -> datetime | None:
        """T9: the first decisive evidence at any time, before shipping too."""
        return min((at for verdict, at in self.evidence if verdict in DECISIVE), default=None)

    @property
    def heard_at(self) -> datetime | None:
        """Shipped → first decisive evidence, or the outcome if it came first (a kill is
        not feedback)."""
        if self.shipped is None:
            return None
        moments = [self.first_feedback] if self.first_feedback is not None else []
        if self.state in LEARNED and self.closed is not None:
            moments.append(self.closed)
        return min(moments, default=None)

    @property
    def awaiting(self) -> bool:
        return self.state == "shipped" and self.heard_at is None

    @property
    def expected(self) -> datetime | None:
        """T1: an explicit date wins; else "within N" of shipping."""
        if self.expected_on is not None:
            return self.expected_on
        if self.expect_within is not None and self.shipped is not None:
            return self.shipped + self.expect_within
        return None


def seconds(rng: random.Random, low_days: float, high_days: float) -> timedelta:
    return timedelta(seconds=rng.randint(int(low_days * 86400), int(high_days * 86400)))


def settle_state(raw: Raw) -> Raw:
    """Stamps after NOW are not reached yet: the bet stays where it got to."""
    raw.started, raw.shipped, raw.closed = (
        s if s is not None and s <= NOW else None for s in (raw.started, raw.shipped, raw.closed)
    )
    if raw.closed is None:
        raw.state = "shipped" if raw.shipped else "building" if raw.started else "proposed"
    return raw


def chase_and_forecast(rng: random.Random, raw: Raw) -> None:
    """What the app records of a shipped bet, at random: an expected date (T1), an
    escalation (T3), the forecast made when it shipped (F6)."""
    if raw.shipped is None:
        return
    draw = rng.random()
    if draw < 0.3:
        raw.expect_within = seconds(rng, 1, 60)
    elif draw < 0.45:
        raw.expected_on = raw.shipped + seconds(rng, 0, 80)
    if rng.random() < 0.25:
        raw.escalated = min(raw.shipped + seconds(rng, 3, 40), NOW)
    if rng.random() < 0.7:
        raw.forecast_at_ship = raw.shipped + seconds(rng, 0.5, 40)


def generate(
    rng: random.Random,
    count: int,
    *,
    first: int = 1,
    weights: tuple[int, ...] = (6, 10, 26, 24, 14, 20),
    evidence: tuple[int, ...] = (30, 35, 20, 15),
    recent: float = 0.6,
) -> list[Raw]:
    """`count` bets created over ~3 years (`recent` of them in the last five months), each
    heading for a fate (proposed, building, shipped, validated, invalidated, killed by
    `weights`) with 0 to 3 pieces of evidence (by `evidence`)."""
    fates = ["proposed", "building", "shipped", "validated", "invalidated", "killed"]
    team = []
    for number in range(first, first + count):
        ago = seconds(rng, 0.2, 150) if rng.random() < recent else seconds(rng, 0.2, 1100)
        created = NOW - ago
        fate = rng.choices(fates, weights)[0]
        killed_from = rng.choice(OPEN) if fate == "killed" else None
        reach = {"proposed": 0, "building": 1, "shipped": 2}.get(killed_from or fate, 2)
        started = None
        if reach == 1 or (reach == 2 and rng.random() < 0.75):
            started = created + seconds(rng, 0, 12)
        shipped = (started or created) + seconds(rng, 0.05, 30) if reach == 2 else None
        closed = None
        if fate in (*LEARNED, "killed"):
            closed = (shipped or started or created) + seconds(rng, 0.02, 50)
        raw = settle_state(Raw(number, fate, created, started, shipped, closed))
        if rng.random() < 0.15:
            raw.signal = ""
        end = raw.closed or NOW
        for _ in range(rng.choices([0, 1, 2, 3], evidence)[0]):
            verdict = rng.choices(
                ["supports", "refutes", "inconclusive", "unknown"], [30, 25, 25, 20]
            )[0]
            raw.evidence.append((verdict, created + seconds(rng, 0, (end - created) / DAY)))
        if raw.closed is not None and raw.state in LEARNED:  # the evidence the outcome records
            raw.evidence.append(("supports" if raw.state == "validated" else "refutes", raw.closed))
        chase_and_forecast(rng, raw)
        team.append(raw)
    return team


def varied(rng: random.Random) -> list[Raw]:
    """Three years of every kind of bet, and a few from the three years before (the
    1,000-day window's trend compares with them, T10)."""
    team = generate(rng, 90)
    for number in range(91, 96):
        shipped = NOW - seconds(rng, 1100, 1990)
        closed = shipped + seconds(rng, 1, 30)
        team.append(
            Raw(
                number,
                "validated",
                shipped - DAY,
                None,
                shipped,
                closed,
                evidence=[("supports", closed)],
            )
        )
    return team


def mostly_unheard(rng: random.Random) -> list[Raw]:
    """A team that ships and forgets: most shipped bets never get evidence, many are killed
    unheard."""
    return generate(rng, 80, weights=(2, 4, 50, 12, 6, 26), evidence=(70, 20, 10, 0), recent=0.8)


def well_heard(rng: random.Random) -> list[Raw]:
    """A team that hears back: most bets shipped in the last 100 days are heard within three
    weeks, a few are killed unheard, the youngest still wait."""
    team = []
    for number in range(1, 61):
        shipped = NOW - seconds(rng, 0, 100)
        raw = Raw(number, "shipped", shipped - seconds(rng, 0, 10), None, shipped, None)
        if rng.random() < 0.5:
            raw.started = raw.created + seconds(rng, 0, (shipped - raw.created) / DAY)
        ttf = seconds(rng, 0.1, 3) if rng.random() < 0.5 else seconds(rng, 3, 21)
        fate = rng.choices(["validated", "invalidated", "heard", "killed"], [45, 25, 20, 10])[0]
        if fate == "killed":
            kill = shipped + seconds(rng, 1, 10)
            if kill <= NOW:
                raw.state, raw.closed = "killed", kill
        elif shipped + ttf <= NOW:
            raw.evidence.append(("supports", shipped + ttf))
            if fate != "heard":
                raw.state, raw.closed = fate, min(shipped + ttf + seconds(rng, 0, 2), NOW)
        chase_and_forecast(rng, raw)
        team.append(raw)
    return team


def ties(rng: random.Random) -> list[Raw]:
    """Whole days only: several bets heard after the same time, and bets still waiting or
    killed at exactly a time others were heard at (censored at a heard time is at risk)."""
    team = []
    for number in range(1, 61):
        shipped = NOW - DAY * rng.randint(0, 120)
        created = shipped - DAY * rng.randint(0, 5)
        ttf = DAY * rng.choice([0, 1, 2, 2, 3, 5, 5, 8, 13])
        fate = rng.choices(["heard", "killed", "validated"], [45, 15, 40])[0]
        raw = Raw(number, "shipped", created, None, shipped, None)
        if shipped + ttf <= NOW:  # else still waiting, at a whole number of days
            if fate == "killed":
                raw.state, raw.closed = "killed", shipped + ttf
            else:
                raw.evidence.append(("supports", shipped + ttf))
                if fate == "validated":
                    raw.state, raw.closed = "validated", shipped + ttf
        chase_and_forecast(rng, raw)
        if raw.forecast_at_ship is not None:  # on whole days too: settled exactly at it
            raw.forecast_at_ship = shipped + DAY * rng.randint(0, 13)
        team.append(raw)
    # waiting and killed at exactly 13 days, the longest time heard (and the SLE: a miss
    # either way); and one waiting far longer than any was heard, so S never reaches 0
    for number, state in ((61, "shipped"), (62, "killed"), (63, "killed")):
        shipped = NOW - DAY * (13 if state == "shipped" else 20 + number)
        closed = shipped + 13 * DAY if state == "killed" else None
        team.append(Raw(number, state, shipped - DAY, None, shipped, closed))
    team.append(Raw(64, "shipped", NOW - 41 * DAY, None, NOW - 40 * DAY, None))
    return team


def one_old_bet(rng: random.Random) -> list[Raw]:
    """A young team that hears back from most bets, and one bet shipped long before all the
    others and still waiting; another just outside the 90 days' sample."""
    team = []
    for number in range(1, 41):
        shipped = NOW - seconds(rng, 0, 80)
        ttf = seconds(rng, 0, 20)
        raw = Raw(number, "shipped", shipped - seconds(rng, 0, 10), None, shipped, None)
        if shipped + ttf <= NOW and rng.random() < 0.93:
            raw.state, raw.closed = rng.choice(LEARNED), shipped + ttf
            raw.evidence.append(("supports", shipped + ttf))
        chase_and_forecast(rng, raw)
        team.append(raw)
    for number, age in ((41, 800), (42, 95)):
        shipped = NOW - DAY * age - seconds(rng, 0, 1)
        team.append(Raw(number, "shipped", shipped - DAY, None, shipped, None, escalated=NOW))
    return team


def few_heard(rng: random.Random) -> list[Raw]:
    """Four bets heard in three years; the rest waiting, killed or not shipped."""
    team = generate(rng, 30, weights=(10, 10, 50, 0, 0, 30), evidence=(100, 0, 0, 0))
    heard = [raw for raw in team if raw.awaiting][:4]
    for raw in heard:
        assert raw.shipped is not None
        raw.evidence.append(("refutes", raw.shipped + (NOW - raw.shipped) // 3 // SECOND * SECOND))
    return team


TEAMS: dict[str, Callable[[random.Random], list[Raw]]] = {
    "varied": varied,
    "well_heard": well_heard,
    "mostly_unheard": mostly_unheard,
    "ties": ties,
    "one_old_bet": one_old_bet,
    "few_heard": few_heard,
}


def the_team(name: str) -> list[Raw]:
    return TEAMS[name](random.Random(f"{SEED}-{name}"))


def noise() -> tuple[list[Raw], list[Raw]]:
    """Bets of another channel of the workspace and of another workspace."""
    rng = random.Random(SEED)
    return generate(rng, 12, first=1001), generate(rng, 12, first=1)


async def store(team_id: str, channel_id: str, bets: list[Raw]) -> None:
    """The bets and their evidence as rows, with the moments the app keeps on the bet."""
    for raw in bets:
        row = await Bet.create(
            team_id=team_id,
            number=raw.number,
            channel_id=channel_id,
            card_ts=f"1700000000.{raw.number:06d}",
            title=f"Bet {raw.number}",
            hypothesis="We believe an export for admins will cut tickets",
            signal=raw.signal,
            owner_id="U1",
            creator_id="U1",
            state=raw.state,
            created_at=raw.created,
            started_at=raw.started,
            shipped_at=raw.shipped,
            closed_at=raw.closed,
            first_feedback_at=raw.first_feedback,
            first_decisive_at=raw.first_decisive,
            expected_at=raw.expected_on,
            expect_within_s=None
            if raw.expect_within is None
            else int(raw.expect_within.total_seconds()),
            escalated_at=raw.escalated,
            nudge_count=1 if raw.escalated else 0,
            forecast_at_ship=raw.forecast_at_ship,
            learned="what we saw" if raw.state in ("invalidated", "killed") else "",
            close_reason="superseded" if raw.state == "killed" else "",
            evidence_count=len(raw.evidence),
            updated_at=raw.closed or raw.shipped or raw.started or raw.created,
        )
        for index, (verdict, at) in enumerate(raw.evidence):
            await Evidence.create(
                team_id=team_id,
                bet=row,
                text=f"observation {index}",
                verdict=verdict,
                source="command",
                author_id="U2",
                at=at,
            )


# --- the independent computation ----------------------------------------------------------------


def nearest_rank(values: list[timedelta], p: Fraction) -> timedelta | None:
    """The value at rank ⌈p·n⌉ (1-based) of the sorted sample."""
    if not values:
        return None
    ordered = sorted(values)
    return ordered[max(math.ceil(p * len(ordered)), 1) - 1]


@dataclass(frozen=True)
class Seen:
    """One bet of a sample: heard at its time to feedback, or censored where it stopped."""

    number: int
    time: timedelta
    heard: bool


def sample_of(bets: list[Raw], start: datetime, end: datetime, *, with_end: bool) -> list[Seen]:
    """F1: the bets shipped in [start, end] (or [start, end)), as they stand at NOW."""
    seen = []
    for bet in bets:
        if bet.shipped is None or bet.shipped < start or bet.shipped > end:
            continue
        if bet.shipped == end and not with_end:
            continue
        if bet.heard_at is not None:
            seen.append(Seen(bet.number, bet.heard_at - bet.shipped, True))
        else:
            stop = bet.closed if bet.closed is not None else NOW
            seen.append(Seen(bet.number, stop - bet.shipped, False))
    return sorted(seen, key=lambda one: one.number)


class Curve:
    """The textbook Kaplan–Meier estimate of a sample (F2)."""

    def __init__(self, sample: list[Seen]) -> None:
        self.times = [one.time for one in sample]
        self.heard = sum(1 for one in sample if one.heard)
        self.steps: list[tuple[timedelta, Fraction]] = []
        survival = Fraction(1)
        for t in sorted({one.time for one in sample if one.heard}):
            at_risk = sum(1 for one in sample if one.time >= t)
            died = sum(1 for one in sample if one.heard and one.time == t)
            survival *= 1 - Fraction(died, at_risk)
            self.steps.append((t, survival))

    def at(self, t: timedelta) -> Fraction:
        """S(t): the product over the heard times up to t."""
        value = Fraction(1)
        for time, survival in self.steps:
            if time <= t:
                value = survival
        return value

    def percentile(self, p: Fraction) -> timedelta | None:
        for time, survival in self.steps:
            if survival <= 1 - p:
                return time
        return None

    def estimate(self, p: Fraction) -> timedelta | None:
        """The percentile when there is an estimate (≥ 5 heard), else None."""
        return self.percentile(p) if self.heard >= MIN_HEARD else None

    def reached(self, age: timedelta) -> int:
        return sum(1 for time in self.times if time >= age)


@dataclass(frozen=True)
class Forecast:
    """F4: (number, shipped, age, by, shown) or why not (reason, others as long)."""

    number: int
    by: datetime | None
    shown: datetime | None
    reason: str | None
    others: int


def forecast(bet: Raw, curve: Curve, *, in_sample: bool) -> Forecast:
    assert bet.shipped is not None
    age = NOW - bet.shipped
    reached = curve.reached(age)
    others = max(reached - 1, 0) if in_sample else reached
    if curve.heard < MIN_HEARD:
        return Forecast(bet.number, None, None, "not_enough_history", others)
    if reached < MIN_REACHED:
        return Forecast(bet.number, None, None, "waited_longer", others)
    before = curve.at(age)
    # the earliest heard time after `age` where the chance 1 − S(t)/S(age) reaches 85 %
    for time, survival in curve.steps:
        if time > age and before > 0 and 1 - survival / before >= P85:
            by = bet.shipped + time
            shown = by if bet.expected is None else max(by, bet.expected)
            return Forecast(bet.number, by, shown, None, others)
    return Forecast(bet.number, None, None, "not_reached", others)


def chance(bet: Raw, curve: Curve, instant: datetime) -> Fraction:
    """P(heard by `instant` | unheard now) = 1 − S(instant − shipped)/S(age)."""
    assert bet.shipped is not None
    if instant <= NOW:
        return Fraction(0)
    before = curve.at(NOW - bet.shipped)
    return 1 - curve.at(instant - bet.shipped) / before


def all_heard_by(members: list[Raw], curve: Curve) -> datetime | None:
    """F5: the first instant where the product of the members' chances reaches 85 %,
    trying every instant where a chance can change (a member's shipping + a heard time)."""
    candidates = sorted(
        {
            bet.shipped + time
            for bet in members
            for time, _ in curve.steps
            if bet.shipped is not None and bet.shipped + time > NOW
        }
    )
    for instant in candidates:
        product = Fraction(1)
        for bet in members:
            product *= chance(bet, curve, instant)
            if product < P85:
                break
        if product >= P85:
            return instant
    return None


def likely_count(chances: list[Fraction]) -> int:
    """F5: the largest k with P(at least k heard) ≥ 85 %, from the Poisson-binomial
    distribution built one bet at a time."""
    exactly = [Fraction(1)]  # P(exactly k heard) among the bets so far
    for p in chances:
        grown = [Fraction(0)] * (len(exactly) + 1)
        for k, q in enumerate(exactly):
            grown[k] += q * (1 - p)
            grown[k + 1] += q * p
        exactly = grown
    return max(k for k in range(len(exactly)) if sum(exactly[k:]) >= P85)


def status(age: timedelta, line: timedelta | None, sle: timedelta) -> str:
    on_track = sle / 2 if line is None else min(line, sle)
    if age < on_track:
        return "on_track"
    return "at_risk" if age < sle else "past_sle"


def within(moment: datetime | None, start: datetime, end: datetime) -> bool:
    return moment is not None and start <= moment <= end


@dataclass(frozen=True)
class Expected:
    sample: list[tuple[int, timedelta, bool]]
    heard: tuple[int, timedelta | None, timedelta | None, timedelta | None]
    every_bet: tuple[int, int, int, timedelta | None, timedelta | None, timedelta | None]
    unheard_share: Fraction
    curve: list[tuple[timedelta, Fraction]]  # the chart's curve: (heard time, S after it)
    longest_wait: timedelta | None
    sle: timedelta
    sle_source: str
    sle_heard: int
    met: int
    missed: int
    validated: int
    invalidated: int
    killed: int
    killed_before_learning: int
    validation_rate: Fraction | None
    throughput_per_week: Fraction
    cycle_time_median: timedelta | None
    lead_time_median: timedelta | None
    building: tuple[int, ...]
    awaiting: list[tuple[int, timedelta, str, bool]]  # overdue first, then oldest first
    forecasts: dict[int, Forecast]
    all_heard_at: datetime | None  # shown: never before a member's expected date
    all_heard_by: datetime | None
    in_a_week: tuple[int, int]  # (at least, of)
    without: tuple[int, ...]  # awaiting bets without a forecast
    without_signal: tuple[int, ...]
    previous_shipped: int
    median_kind: str
    median: timedelta | None
    previous_median: timedelta | None
    trend: str | None
    track_record: tuple[int, int]  # settled, hits


def expected_figures(bets: list[Raw], window: timedelta) -> Expected:
    start = NOW - window
    sample = sample_of(bets, start, NOW, with_end=True)
    curve = Curve(sample)
    heard_times = [one.time for one in sample if one.heard]

    recent = sample_of(bets, NOW - LOOKBACK, NOW, with_end=True)
    recent_curve = Curve(recent)
    sle = recent_curve.estimate(P85)
    source = "history" if sle is not None else "configured"
    sle = CONFIGURED_SLE if sle is None else sle
    line = recent_curve.estimate(HALF)
    if line is None:
        line = nearest_rank([one.time for one in recent if one.heard], HALF)

    met = sum(1 for one in sample if one.heard and one.time <= sle)
    # heard later than the SLE, or unheard (waiting or killed) at or past its age: a miss;
    # unheard before its age: not known, left out
    missed = sum(
        1 for one in sample if (one.heard and one.time > sle) or (not one.heard and one.time >= sle)
    )

    closed = [bet for bet in bets if within(bet.closed, start, NOW)]
    validated = sum(1 for bet in closed if bet.state == "validated")
    invalidated = sum(1 for bet in closed if bet.state == "invalidated")
    killed = [bet for bet in closed if bet.state == "killed"]
    learned = validated + invalidated
    first_bet = min(bet.created for bet in bets)
    observed = min(window, max(NOW - first_bet, MIN_OBSERVED))

    cycle_times = [
        bet.shipped - bet.started
        for bet in bets
        if bet.started is not None and bet.shipped is not None and within(bet.shipped, start, NOW)
    ]
    lead_times = [bet.closed - bet.created for bet in closed if bet.state in LEARNED and bet.closed]

    waiting = [bet for bet in bets if bet.awaiting]
    forecasts = {
        bet.number: forecast(bet, recent_curve, in_sample=bet.shipped >= NOW - LOOKBACK)  # type: ignore[operator]
        for bet in waiting
    }
    ages = {bet.number: NOW - bet.shipped for bet in waiting if bet.shipped is not None}
    overdue = {bet.number for bet in waiting if bet.escalated is not None}
    order = sorted(ages, key=lambda n: (n not in overdue, -ages[n], n))

    members = [bet for bet in waiting if forecasts[bet.number].by is not None]
    everyone = all_heard_by(members, recent_curve) if members else None
    shown = everyone
    if everyone is not None:
        shown = max([everyone, *(bet.expected for bet in members if bet.expected is not None)])
    horizon = NOW + WEEK
    week = likely_count([chance(bet, recent_curve, horizon) for bet in members])

    previous = sample_of(bets, start - window, start, with_end=False)
    previous_curve = Curve(previous)
    previous_heard = [one.time for one in previous if one.heard]
    now_every, before_every = curve.estimate(HALF), previous_curve.estimate(HALF)
    if now_every is not None and before_every is not None:
        kind, median, previous_median = "every_bet", now_every, before_every
    else:
        kind = "heard"
        median, previous_median = (
            nearest_rank(heard_times, HALF),
            nearest_rank(previous_heard, HALF),
        )
    trend = None
    if median is not None and previous_median is not None:
        tolerance = previous_median / 10
        if median < previous_median - tolerance:
            trend = "faster"
        elif median > previous_median + tolerance:
            trend = "slower"
        else:
            trend = "same"

    records = [bet for bet in bets if within(bet.forecast_at_ship, start, NOW)]
    hits = sum(
        1
        for bet in records
        if bet.heard_at is not None
        and bet.forecast_at_ship
        and bet.heard_at <= bet.forecast_at_ship
    )

    return Expected(
        sample=[(one.number, one.time, one.heard) for one in sample],
        heard=(
            len(heard_times),
            nearest_rank(heard_times, HALF),
            nearest_rank(heard_times, P85),
            nearest_rank(heard_times, P95),
        ),
        every_bet=(
            len(sample),
            curve.heard,
            len(sample) - curve.heard,
            curve.estimate(HALF),
            curve.estimate(P85),
            curve.estimate(P95),
        ),
        unheard_share=curve.steps[-1][1] if curve.steps else Fraction(1),
        curve=curve.steps,
        longest_wait=max(curve.times, default=None),
        sle=sle,
        sle_source=source,
        sle_heard=recent_curve.heard,
        met=met,
        missed=missed,
        validated=validated,
        invalidated=invalidated,
        killed=len(killed),
        killed_before_learning=sum(1 for bet in killed if bet.first_decisive is None),
        validation_rate=Fraction(validated, learned) if learned else None,
        throughput_per_week=Fraction(learned)
        * Fraction(WEEK // timedelta(seconds=1))
        / Fraction(observed // timedelta(seconds=1)),
        cycle_time_median=nearest_rank(cycle_times, HALF),
        lead_time_median=nearest_rank(lead_times, HALF),
        building=tuple(sorted(bet.number for bet in bets if bet.state == "building")),
        awaiting=[(n, ages[n], status(ages[n], line, sle), n in overdue) for n in order],
        forecasts=forecasts,
        all_heard_at=shown,
        all_heard_by=everyone,
        in_a_week=(week, len(members)),
        without=tuple(sorted(n for n, made in forecasts.items() if made.by is None)),
        without_signal=tuple(
            sorted(bet.number for bet in bets if bet.state in OPEN and not bet.signal.strip())
        ),
        previous_shipped=len(previous),
        median_kind=kind,
        median=median,
        previous_median=previous_median,
        trend=trend,
        track_record=(len(records), hits),
    )


# --- the teams, and what they must contain to be worth checking --------------------------------


def test_the_generated_teams_exercise_every_rule() -> None:
    every = {name: the_team(name) for name in TEAMS}
    figures = {
        (name, days): expected_figures(bets, DAY * days)
        for name, bets in every.items()
        for days in WINDOWS
    }
    varied = every["varied"]
    assert {bet.state for bet in varied} == {*OPEN, *LEARNED, "killed"}
    # T9: killed without any evidence, and killed after learning before shipping only
    killed = [bet for bet in varied if bet.state == "killed"]
    assert any(bet.first_decisive is None for bet in killed)
    assert any(bet.first_decisive is not None and bet.first_feedback is None for bet in killed)
    # T5/T13: decisive evidence only before shipping still awaits
    shipped = [bet for bet in varied if bet.state == "shipped"]
    assert any(bet.first_decisive is not None and bet.first_feedback is None for bet in shipped)
    assert any(bet.first_feedback is not None for bet in shipped)  # heard, not closed yet
    # T10: long windows reach bets no shorter window sees, the trend's window too
    assert len(figures["varied", 1000].sample) > len(figures["varied", 200].sample)
    assert figures["varied", 1000].previous_shipped >= MIN_HEARD
    # F1/F2: killed unheard bets are censored; teams with many bets never heard, where the
    # curve stops short and the percentiles are not reached
    assert any(bet.state == "killed" and bet.shipped and not bet.heard_at for bet in varied)
    unheard = figures["mostly_unheard", 90]
    assert unheard.every_bet[2] > unheard.every_bet[1] >= MIN_HEARD
    assert unheard.every_bet[4] is None and unheard.sle_source == "configured"
    # F3: SLE from history in some teams, with misses; from the setting in others
    assert {f.sle_source for f in figures.values()} == {"history", "configured"}
    assert any(f.sle_source == "history" and f.missed for f in figures.values())
    # ties: several bets heard at the same time, and censored at a heard time
    tied = figures["ties", 200].sample
    heard_times = [time for _, time, heard in tied if heard]
    assert len(heard_times) > len(set(heard_times)) + 10
    assert {time for _, time, heard in tied if not heard} & set(heard_times)
    assert figures["ties", 90].sle == 13 * DAY and figures["ties", 90].sle_source == "history"
    assert 0 < figures["ties", 90].unheard_share < 1 - P85
    assert any(not heard and time == 13 * DAY for _, time, heard in figures["ties", 90].sample)
    # a bet older than all others: the longest wait; fewer than 5 heard: no estimate
    assert figures["one_old_bet", 1000].longest_wait == max(
        NOW - bet.shipped for bet in every["one_old_bet"] if bet.shipped
    )
    assert figures["one_old_bet", 1000].longest_wait > DAY * 800  # type: ignore[operator]
    assert all(figures["few_heard", days].every_bet[1] < MIN_HEARD for days in WINDOWS)
    # F4: forecasts, and every kind of no forecast, and expected dates after the forecast
    forecasts = [made for f in figures.values() for made in f.forecasts.values()]
    assert {made.reason for made in forecasts} == {
        None,
        "not_enough_history",
        "waited_longer",
        "not_reached",
    }
    assert any(made.by is not None and made.shown != made.by for made in forecasts)
    assert any(made.by is not None and made.shown == made.by for made in forecasts)
    # F5: an outlook with a date, one without; F6: settled forecasts, hits and misses
    assert any(f.all_heard_at is not None for f in figures.values())
    assert any(f.all_heard_at != f.all_heard_by for f in figures.values())  # an expected date
    assert any(f.in_a_week[1] and f.all_heard_at is None for f in figures.values())
    assert any(0 < f.track_record[1] < f.track_record[0] for f in figures.values())
    # F7: escalated bets are overdue, and lead
    assert any(overdue for f in figures.values() for *_, overdue in f.awaiting)
    # the trend: both kinds of median
    assert {f.median_kind for f in figures.values()} == {"every_bet", "heard"}


# --- the report against it ------------------------------------------------------------------------


@pytest.fixture(params=list(TEAMS))
async def team(request: pytest.FixtureRequest, database: str) -> list[Raw]:
    bets = the_team(request.param)
    elsewhere, other_team = noise()
    for team_id in (TEAM, "T2"):
        await Workspace.create(team_id=team_id, last_bet_number=2000, created_at=NOW)
    for team_id, channel_id in ((TEAM, CHANNEL), (TEAM, "C2"), ("T2", CHANNEL)):
        await Channel.create(team_id=team_id, channel_id=channel_id, created_at=NOW)
    await store(TEAM, CHANNEL, bets)
    await store(TEAM, "C2", elsewhere)
    await store("T2", CHANNEL, other_team)
    return bets


async def test_every_report_figure_matches_an_independent_computation(team: list[Raw]) -> None:
    channel = await Channel.get(team_id=TEAM, channel_id=CHANNEL)
    for days in WINDOWS:
        window = DAY * days
        figures = await channel_figures(channel, now=NOW, window=window)
        report = figures.report
        want = expected_figures(team, window)
        why = f"window {days}d"

        assert (report.now, report.window, report.window_start) == (NOW, window, NOW - window)
        # F1: the bets shipped in the window, heard or censored
        assert [(o.number, o.time, o.heard) for o in report.sample] == want.sample, why
        # "heard": nearest rank over the heard bets
        h = report.heard
        assert (h.count, h.p50, h.p85, h.p95) == want.heard, why
        # "every_bet": Kaplan–Meier (F2)
        e = report.every_bet
        assert (e.shipped, e.heard, e.censored, e.p50, e.p85, e.p95) == want.every_bet, why
        assert e.estimated == (want.every_bet[1] >= MIN_HEARD), why
        assert (e.unheard_share, e.longest_wait) == (want.unheard_share, want.longest_wait), why
        assert [(step.time, step.survival) for step in report.curve.steps] == want.curve, why
        # "sle": from the last 90 days whatever the window (F3), met over the window's bets
        assert report.sle.value == want.sle, why
        assert (str(report.sle.source), report.sle.heard) == (want.sle_source, want.sle_heard)
        assert (report.sle_score.met, report.sle_score.missed) == (want.met, want.missed), why
        share = report.sle_score.share
        counted = want.met + want.missed
        assert share == (Fraction(want.met, counted) if counted else None), why
        # outcomes closed in the window (T9), and "validation_rate"
        assert (report.validated, report.invalidated) == (want.validated, want.invalidated)
        assert (report.killed, report.killed_before_learning) == (
            want.killed,
            want.killed_before_learning,
        ), why
        if want.validation_rate is None:
            assert report.validation_rate is None, why
        else:
            assert report.validation_rate == float(want.validation_rate), why
        # "throughput_per_week": over the weeks observed (F8)
        assert report.throughput_per_week == pytest.approx(
            float(want.throughput_per_week), rel=1e-12
        ), why
        assert report.cycle_time_median == want.cycle_time_median, why
        assert report.lead_time_median == want.lead_time_median, why
        # "wip", "awaiting": now, overdue (escalated, F7) first, then oldest first
        assert (report.wip, report.building) == (len(want.building), want.building), why
        assert [
            (item.number, item.age, str(item.status), item.overdue) for item in report.awaiting
        ] == want.awaiting, why
        # each awaiting bet's forecast (F4): the 85 % date, never before its expected
        # date, or why there is none
        for item in report.awaiting:
            made = want.forecasts[item.number]
            assert item.forecast_at == made.shown, (why, item.number)
            if made.reason is None:
                assert item.forecast.by == made.by, (why, item.number)  # type: ignore[union-attr]
            else:
                assert (str(item.forecast.reason), item.forecast.others_as_long) == (  # type: ignore[union-attr]
                    made.reason,
                    made.others,
                ), (why, item.number)
        # "all_heard_85_at" and "in_a_week" (F5); the bets without a forecast are named
        outlook = report.outlook
        assert outlook.all_heard_by == want.all_heard_by, why
        assert outlook.all_heard_shown == want.all_heard_at, why
        assert outlook.horizon == NOW + WEEK
        assert (outlook.heard_by_horizon, len(outlook.members)) == want.in_a_week, why
        assert tuple(item.number for item in outlook.without) == want.without, why
        # "track_record" (F6): the forecasts recorded at shipping, settled in the window
        record = report.track_record
        assert (record.settled, record.hits) == want.track_record, why
        assert report.without_signal == want.without_signal, why
        # the trend: against the bets shipped in the window before, whole (T10)
        assert report.previous_shipped == want.previous_shipped, why
        assert (str(report.median_kind), report.median) == (want.median_kind, want.median), why
        assert report.previous_median == want.previous_median, why
        assert (None if report.trend is None else str(report.trend)) == want.trend, why
        # the card, `show`, `list` and App Home read each bet's forecast on their own
        # (usecases.flow.forecasts_of): the same as the report's
        awaiting = {item.number for item in report.awaiting}
        alone = await forecasts_of(
            TEAM, [bet for bet in figures.bets if bet.number in awaiting], now=NOW
        )
        assert alone == {item.number: item.forecast for item in report.awaiting}, why
