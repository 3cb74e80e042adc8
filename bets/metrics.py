"""Flow metrics of one bet, and percentiles: how fast a team learns from what it ships.

Pure functions over `BetFacts`; the clock is always passed in as `now`. Definitions follow
docs/rules.md ("Flow metrics"; a window's figures over every bet are bets/flow.py):

- cycle time             = shipped_at − started_at (when started)
- time to feedback (TTF) = shipped_at → first decisive evidence, or the outcome
                           (validated/invalidated) if that came first; a kill is not feedback
- awaiting feedback      = shipped, no feedback yet; age = now − shipped_at
- lead time to learning  = closed_at − created_at for validated/invalidated bets
- percentiles            = nearest rank: the value at rank ⌈p·n⌉ of the sorted sample
- SLE                    = 85th percentile of TTF counting every bet shipped in the last
                           90 days, with ≥ 5 heard, else the channel's default (F3)
"""

from __future__ import annotations

import math
from collections.abc import Iterable, Sequence
from dataclasses import dataclass
from datetime import datetime, timedelta
from enum import StrEnum
from fractions import Fraction
from typing import TypeVar

from bets.lifecycle import State

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
    forecast_at_ship: datetime | None = None  # the 85 % forecast recorded when it shipped (F6)


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


def is_overdue(bet: BetFacts) -> bool:
    """Awaiting feedback and escalated (T3): the one meaning of "overdue" (docs/rules.md,
    F7), for `list overdue`, the digest, App Home and the board. A bet nudged but not
    escalated is "nudged"; nothing is overdue before its expected date (T3 never escalates
    before it)."""
    return is_awaiting(bet) and (bet.escalated or bet.escalated_at is not None)


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


# --------------------------------------------------------------------------- SLE, ageing


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
