"""The report's figures against an independent computation, on both databases.

A seeded, deterministic team of bets with three years of varied history is written
straight through storage.models; then, for windows of 7 to 1000 days, every figure of
`usecases.flow.channel_figures(...).report` (what `/hypothesis report`, the digest and the
App Home read) is checked against figures computed here from the raw timestamps by the
definitions in DESIGN.md ("Flow metrics", T5, T8, T9, T10). Nothing here calls
bets.metrics: percentiles are nearest rank, the value at rank ⌈p·n⌉ of the sorted sample,
with p as an exact fraction.
"""

from __future__ import annotations

import random
from dataclasses import dataclass, field
from datetime import UTC, datetime, timedelta
from fractions import Fraction

import pytest

from storage.models import Bet, Channel, Evidence, Workspace
from usecases.flow import channel_figures

NOW = datetime(2026, 11, 2, 10, 0, tzinfo=UTC)
SEED = 20261102
TEAM, CHANNEL = "T1", "C1"
WINDOWS = (7, 30, 90, 200, 1000)

DEFAULT_SLE = timedelta(days=14)
SLE_LOOKBACK = timedelta(days=90)
SLE_MIN_SAMPLES = 5
DECISIVE = ("supports", "refutes")
LEARNED = ("validated", "invalidated")
OPEN = ("proposed", "building", "shipped")

HALF, P85, P95 = Fraction(1, 2), Fraction(85, 100), Fraction(95, 100)


# --- the team's history -----------------------------------------------------------------------


@dataclass
class Raw:
    """One bet as generated: its stamps and its evidence, (verdict, posted at)."""

    number: int
    state: str
    created: datetime
    started: datetime | None
    shipped: datetime | None
    closed: datetime | None
    signal: str
    evidence: list[tuple[str, datetime]] = field(default_factory=list)

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
    def feedback_moment(self) -> datetime | None:
        """Shipped → first decisive evidence, or the outcome if it came first (DESIGN)."""
        if self.shipped is None:
            return None
        moments = [self.first_feedback] if self.first_feedback is not None else []
        if self.state in LEARNED and self.closed is not None:
            moments.append(self.closed)
        return min(moments, default=None)

    @property
    def ttf(self) -> timedelta | None:
        moment = self.feedback_moment
        return None if moment is None or self.shipped is None else moment - self.shipped


def _span(rng: random.Random, low_days: float, high_days: float) -> timedelta:
    return timedelta(seconds=rng.randint(int(low_days * 86400), int(high_days * 86400)))


def generate(rng: random.Random, count: int, first_number: int = 1) -> list[Raw]:
    """`count` bets created over ~3 years (most in the last five months), each heading for
    a fate; stamps that would fall after NOW are not reached, so the bet stays open."""
    fates = ["proposed", "building", "shipped", "validated", "invalidated", "killed"]
    weights = [6, 10, 26, 24, 14, 20]
    team = []
    for number in range(first_number, first_number + count):
        ago = _span(rng, 0.2, 150) if rng.random() < 0.6 else _span(rng, 0.2, 1100)
        created = NOW - ago
        fate = rng.choices(fates, weights)[0]
        killed_from = rng.choice(OPEN) if fate == "killed" else None
        reach = {"proposed": 0, "building": 1, "shipped": 2}.get(killed_from or fate, 2)
        started = None
        if reach == 1 or (reach == 2 and rng.random() < 0.75):
            started = created + _span(rng, 0, 12)
        shipped = (started or created) + _span(rng, 0.05, 30) if reach == 2 else None
        closed = None
        if fate in (*LEARNED, "killed"):
            closed = (shipped or started or created) + _span(rng, 0.02, 50)
        stamps = [created, started, shipped, closed]
        started, shipped, closed = (s if s is not None and s <= NOW else None for s in stamps[1:])
        if closed is not None:
            state = fate
        elif shipped is not None:
            state = "shipped"
        elif started is not None:
            state = "building"
        else:
            state = "proposed"
        signal = "" if rng.random() < 0.15 else "export tickets drop 30%"
        raw = Raw(number, state, created, started, shipped, closed, signal)
        end = closed or NOW
        for _ in range(rng.choices([0, 1, 2, 3], [30, 35, 20, 15])[0]):
            verdict = rng.choices(
                ["supports", "refutes", "inconclusive", "unknown"], [30, 25, 25, 20]
            )[0]
            raw.evidence.append(
                (verdict, created + _span(rng, 0, (end - created) / timedelta(days=1)))
            )
        if closed is not None and state in LEARNED:  # the evidence the outcome records
            raw.evidence.append(("supports" if state == "validated" else "refutes", closed))
        team.append(raw)
    return team


async def store(team_id: str, channel_id: str, bets: list[Raw]) -> None:
    """The bets and their evidence as rows, with the moments migration 0004 computes."""
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


# --- the independent computation ------------------------------------------------------------


def nearest_rank(sample: list[timedelta], p: Fraction) -> timedelta | None:
    """The value at rank ⌈p·n⌉ (1-based) of the sorted sample."""
    if not sample:
        return None
    ordered = sorted(sample)
    rank = -(-p.numerator * len(ordered) // p.denominator)  # exact ceiling
    return ordered[max(rank, 1) - 1]


def within(moment: datetime | None, start: datetime, end: datetime) -> bool:
    return moment is not None and start <= moment <= end


@dataclass(frozen=True)
class Expected:
    feedback: list[int]  # bet numbers, in feedback order
    ttf_median: timedelta | None
    ttf_p85: timedelta | None
    ttf_p95: timedelta | None
    sle: timedelta
    sle_from_sample: bool
    sle_n: int
    sle_p50: timedelta | None
    attainment: Fraction | None
    met: bool | None
    misses_awaiting: int
    validated: int
    invalidated: int
    killed: int
    killed_before_learning: int
    validation_rate: Fraction | None
    throughput_per_week: Fraction
    cycle_time_median: timedelta | None
    lead_time_median: timedelta | None
    building: tuple[int, ...]
    awaiting: list[tuple[int, timedelta, str]]  # number, age, status; oldest first
    without_signal: tuple[int, ...]
    previous_median: timedelta | None
    trend: str | None


def expected_figures(bets: list[Raw], window: timedelta) -> Expected:
    start = NOW - window
    got_feedback = [bet for bet in bets if within(bet.feedback_moment, start, NOW)]
    got_feedback.sort(key=lambda bet: (bet.feedback_moment, bet.number))
    ttfs = [bet.ttf for bet in got_feedback if bet.ttf is not None]

    recent = [
        bet.ttf
        for bet in bets
        if bet.ttf is not None and within(bet.feedback_moment, NOW - SLE_LOOKBACK, NOW)
    ]
    from_sample = len(recent) >= SLE_MIN_SAMPLES
    sle = nearest_rank(recent, P85) if from_sample else DEFAULT_SLE
    assert sle is not None
    p50 = nearest_rank(recent, HALF) if from_sample else None

    awaiting_bets = [bet for bet in bets if bet.state == "shipped" and bet.feedback_moment is None]
    ages = {bet.number: NOW - bet.shipped for bet in awaiting_bets if bet.shipped is not None}
    misses = sum(1 for age in ages.values() if age >= sle)  # already past the SLE (T8)
    counted = len(ttfs) + misses
    hits = sum(1 for ttf in ttfs if ttf <= sle)
    attainment = Fraction(hits, counted) if counted else None
    met = None if attainment is None else attainment >= P85

    def status(age: timedelta) -> str:
        if p50 is not None and age < p50:
            return "on_track"
        return "at_risk" if age < sle else "past_sle"

    closed = [bet for bet in bets if within(bet.closed, start, NOW)]
    validated = sum(1 for bet in closed if bet.state == "validated")
    invalidated = sum(1 for bet in closed if bet.state == "invalidated")
    killed = [bet for bet in closed if bet.state == "killed"]
    learned = validated + invalidated

    cycle_times = [
        bet.shipped - bet.started
        for bet in bets
        if bet.started is not None and bet.shipped is not None and within(bet.shipped, start, NOW)
    ]
    lead_times = [bet.closed - bet.created for bet in closed if bet.state in LEARNED and bet.closed]

    previous = [
        bet.ttf
        for bet in bets
        if bet.ttf is not None
        and bet.feedback_moment is not None
        and start - window <= bet.feedback_moment < start
    ]
    median, previous_median = nearest_rank(ttfs, HALF), nearest_rank(previous, HALF)
    trend = None
    if median is not None and previous_median is not None:
        tolerance = previous_median / 10
        if median < previous_median - tolerance:
            trend = "faster"
        elif median > previous_median + tolerance:
            trend = "slower"
        else:
            trend = "same"

    oldest_first = sorted(ages.items(), key=lambda item: (-item[1], item[0]))
    return Expected(
        feedback=[bet.number for bet in got_feedback],
        ttf_median=median,
        ttf_p85=nearest_rank(ttfs, P85),
        ttf_p95=nearest_rank(ttfs, P95),
        sle=sle,
        sle_from_sample=from_sample,
        sle_n=len(recent),
        sle_p50=p50,
        attainment=attainment,
        met=met,
        misses_awaiting=misses,
        validated=validated,
        invalidated=invalidated,
        killed=len(killed),
        killed_before_learning=sum(1 for bet in killed if bet.first_decisive is None),
        validation_rate=Fraction(validated, learned) if learned else None,
        throughput_per_week=Fraction(learned)
        * Fraction(timedelta(weeks=1) // timedelta(seconds=1), window // timedelta(seconds=1)),
        cycle_time_median=nearest_rank(cycle_times, HALF),
        lead_time_median=nearest_rank(lead_times, HALF),
        building=tuple(sorted(bet.number for bet in bets if bet.state == "building")),
        awaiting=[(number, age, status(age)) for number, age in oldest_first],
        without_signal=tuple(
            sorted(bet.number for bet in bets if bet.state in OPEN and not bet.signal.strip())
        ),
        previous_median=previous_median,
        trend=trend,
    )


# --- the team, and what it must contain to be worth checking ----------------------------------


def the_team() -> tuple[list[Raw], list[Raw], list[Raw]]:
    """C1's bets, then bets of another channel and of another workspace (noise)."""
    rng = random.Random(SEED)
    return generate(rng, 90), generate(rng, 12), generate(rng, 12)


def test_the_generated_team_exercises_every_rule() -> None:
    bets, _, _ = the_team()
    states = {bet.state for bet in bets}
    assert states == {"proposed", "building", "shipped", "validated", "invalidated", "killed"}
    ninety = expected_figures(bets, timedelta(days=90))
    assert ninety.sle_from_sample and ninety.sle_n >= SLE_MIN_SAMPLES
    assert ninety.misses_awaiting >= 1  # awaiting bets past the SLE count as misses (T8)
    killed = [bet for bet in bets if bet.state == "killed"]
    assert any(bet.first_decisive is None for bet in killed)  # killed without evidence
    # T9: killed after learning before shipping only
    assert any(bet.first_decisive is not None and bet.first_feedback is None for bet in killed)
    shipped = [bet for bet in bets if bet.state == "shipped"]
    # T5/T13: decisive evidence only before shipping still awaits; after shipping does not
    assert any(bet.first_decisive is not None and bet.first_feedback is None for bet in shipped)
    assert any(bet.first_feedback is not None for bet in shipped)
    # T10: long windows reach samples no shorter window sees, the trend's window too
    long = expected_figures(bets, timedelta(days=1000))
    assert len(long.feedback) > len(expected_figures(bets, timedelta(days=200)).feedback)
    assert long.previous_median is not None
    for days in WINDOWS[1:]:
        assert expected_figures(bets, timedelta(days=days)).feedback


# --- the report against it ----------------------------------------------------------------------


@pytest.fixture
async def team(database: str) -> list[Raw]:
    bets, elsewhere, other_team = the_team()
    for team_id in (TEAM, "T2"):
        await Workspace.create(team_id=team_id, last_bet_number=200, created_at=NOW)
    for team_id, channel_id in ((TEAM, CHANNEL), (TEAM, "C2"), ("T2", CHANNEL)):
        await Channel.create(team_id=team_id, channel_id=channel_id, created_at=NOW)
    await store(TEAM, CHANNEL, bets)
    await store(TEAM, "C2", [Raw(**{**vars(b), "number": b.number + 100}) for b in elsewhere])
    await store("T2", CHANNEL, other_team)
    return bets


@pytest.mark.parametrize("days", WINDOWS)
async def test_every_report_figure_matches_an_independent_computation(
    team: list[Raw], days: int
) -> None:
    window = timedelta(days=days)
    channel = await Channel.get(team_id=TEAM, channel_id=CHANNEL)
    figures = await channel_figures(channel, now=NOW, window=window)
    report = figures.report
    want = expected_figures(team, window)

    assert (report.now, report.window, report.window_start) == (NOW, window, NOW - window)
    # time to feedback in the window
    assert [point.number for point in report.feedback] == want.feedback
    assert report.ttf_count == len(want.feedback)
    assert report.ttf_median == want.ttf_median
    assert report.ttf_p85 == want.ttf_p85
    assert report.ttf_p95 == want.ttf_p95
    # the SLE (the last 90 days, whatever the window) and whether it was met (T8)
    assert report.sle.value == want.sle
    assert report.sle.from_sample == want.sle_from_sample
    assert report.sle.n == want.sle_n
    assert report.sle_p50 == want.sle_p50
    assert report.sle_misses_awaiting == want.misses_awaiting
    if want.attainment is None:
        assert report.sle_attainment is None
    else:
        assert report.sle_attainment == float(want.attainment)
    assert report.sle_met == want.met
    # outcomes in the window (T9)
    assert (report.validated, report.invalidated) == (want.validated, want.invalidated)
    assert (report.killed, report.killed_before_learning) == (
        want.killed,
        want.killed_before_learning,
    )
    if want.validation_rate is None:
        assert report.validation_rate is None
    else:
        assert report.validation_rate == float(want.validation_rate)
    assert report.throughput_per_week == pytest.approx(float(want.throughput_per_week), rel=1e-12)
    assert report.cycle_time_median == want.cycle_time_median
    assert report.lead_time_median == want.lead_time_median
    # now
    assert report.wip == len(want.building)
    assert report.building == want.building
    assert [(item.number, item.age, str(item.status)) for item in report.awaiting] == want.awaiting
    assert report.without_signal == want.without_signal
    # the window before, whole (T10)
    assert report.previous_ttf_median == want.previous_median
    assert (None if report.trend is None else str(report.trend)) == want.trend
