"""What a piece of evidence says about a bet, and which moment it fixes (docs/rules.md, T5,
T9).

Pure rules: the clock and the bet's history are passed in, nothing is read.
"""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass
from datetime import datetime
from enum import StrEnum

from bets.lifecycle import Move


def _require_aware(moment: datetime) -> None:
    if moment.tzinfo is None or moment.utcoffset() is None:
        raise ValueError(f"expected a timezone-aware datetime, got {moment!r}")


class Verdict(StrEnum):
    """What a piece of evidence says about the bet's hypothesis."""

    SUPPORTS = "supports"
    REFUTES = "refutes"
    INCONCLUSIVE = "inconclusive"
    UNKNOWN = "unknown"

    @property
    def is_decisive(self) -> bool:
        """Supports or refutes: only a clear answer is feedback; "maybe" keeps the chase on."""
        return self in DECISIVE


DECISIVE: frozenset[Verdict] = frozenset({Verdict.SUPPORTS, Verdict.REFUTES})


def _earliest(current: datetime | None, moment: datetime) -> datetime:
    return moment if current is None or moment < current else current


def feedback_after(
    current: datetime | None,
    verdict: Verdict,
    posted_at: datetime,
    shipped_at: datetime | None,
) -> datetime | None:
    """The bet's first feedback moment once this evidence is taken into account
    (docs/rules.md, T5).

    Time to feedback measures how fast the *shipped* change told us something, so only
    decisive evidence posted at or after shipping ends it; a prototype test before shipping
    is learning (T9) but the shipped change still waits for its users' signal. The moment is
    the evidence's own posted time, even when someone labels it decisive later, so a slow
    label never stretches the measured wait. Returns the earlier of `current` and
    `posted_at` when the evidence counts, else `current` unchanged.
    """
    _require_aware(posted_at)
    if not verdict.is_decisive or shipped_at is None or posted_at < shipped_at:
        return current
    return _earliest(current, posted_at)


def decisive_after(
    current: datetime | None, verdict: Verdict, posted_at: datetime
) -> datetime | None:
    """The bet's first decisive evidence at any time, shipped or not (docs/rules.md, T9).

    A kill after a refuting prototype test still learned something; this moment, unlike
    `feedback_after`, counts evidence from before shipping so such a kill is not called
    "killed without evidence".
    """
    _require_aware(posted_at)
    if not verdict.is_decisive:
        return current
    return _earliest(current, posted_at)


def verdict_of_move(move: Move) -> Verdict | None:
    """The verdict a closing move records: validating supports, invalidating refutes.

    Other moves (start, ship, kill) carry no verdict: a kill is a decision, not evidence.
    """
    if move is Move.VALIDATE:
        return Verdict.SUPPORTS
    if move is Move.INVALIDATE:
        return Verdict.REFUTES
    return None


def feedback_moments(
    evidence: Iterable[tuple[Verdict, datetime]], shipped_at: datetime | None
) -> tuple[datetime | None, datetime | None]:
    """(first feedback, first decisive at any time) over a bet's evidence as it stands
    now, as (verdict, posted at) pairs: recomputed whole, so a verdict changed back to
    "just a note" stops counting too."""
    feedback: datetime | None = None
    decisive: datetime | None = None
    for verdict, posted_at in evidence:
        feedback = feedback_after(feedback, verdict, posted_at, shipped_at)
        decisive = decisive_after(decisive, verdict, posted_at)
    return feedback, decisive


@dataclass(frozen=True)
class EvidenceFacts:
    """A piece of evidence as a plain value."""

    id: int
    bet_id: int
    verdict: Verdict
    text: str
    link: str | None
    source: str  # command | button | modal | thread | shortcut | api
    author_id: str
    at: datetime  # when it was posted (T5), not when it was labelled
    channel_id: str | None = None
    message_ts: str | None = None
    permalink: str | None = None
    source_name: str = ""  # who sent it from elsewhere (the API caller's "source")
