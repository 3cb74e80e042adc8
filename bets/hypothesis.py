"""Reading a bet as people type it ("We believe … We'll know when …"), on any surface: what
it must have to be created (a change and an outcome), and coaching it about the rest."""

from __future__ import annotations

import re
from dataclasses import dataclass
from datetime import timedelta
from enum import StrEnum

from bets.durations import parse_duration

MAX_TITLE = 150
MAX_TEXT = 3000

_SIGNAL = re.compile(r"\bwe(?:'|’|\s+wi)ll\s+know\s+(?:it\s+)?(?:when|if|because)\b", re.I)
_SIGNAL_LEAD = re.compile(r"^\s*" + _SIGNAL.pattern + r"[\s,:]*", re.I)
_BELIEVE = re.compile(r"^\s*we\s+believe\s+(?:that\s+)?", re.I)
_BELIEVE_ALONE = re.compile(r"^\s*we\s+believe\b(?:\s+that\b)?", re.I)
_WITHIN = re.compile(
    r"[\s,]*\bwithin\s+(\d{1,4}\s*(?:h|hours?|d|days?|w|weeks?))\s*[.!]?\s*$", re.I
)
_FOR = re.compile(r"\bfor\s+\S", re.I)
_WILL = re.compile(r"\b(will|would|should|to)\b\s+\S", re.I)
_MEASURABLE = re.compile(
    r"\d|%|percent|\b(rate|ratio|count|number|increase|decrease|drop|grow|rise|fall|fewer|"
    r"more|less|conversion|retention|churn|time|nps|csat|signups?|tickets?)\b",
    re.I,
)


@dataclass(frozen=True)
class OneLiner:
    title: str
    hypothesis: str
    signal: str
    expect_within: timedelta | None


def _clean(text: str) -> str:
    return re.sub(r"\s+", " ", text).strip().rstrip(".").strip()


def _shorten(text: str, limit: int) -> str:
    return text if len(text) <= limit else text[: limit - 1].rstrip() + "…"


def title_for(hypothesis: str) -> str:
    """A short title: the change the bet is about, before "for …" or "will …"."""
    change = _BELIEVE.sub("", hypothesis)
    change = re.split(r"\s+(?:for|will|would|should)\s+", change, maxsplit=1)[0]
    change = _clean(change) or _clean(hypothesis)
    return _shorten(change[:1].upper() + change[1:], 80)


def read_bet(hypothesis: str, signal: str = "") -> OneLiner:
    """A bet as typed on any surface, read one way (docs/rules.md, T1).

    The one-liner carries its signal after "We'll know when"; the New bet form and the
    "Create a bet" step may give it in a field of its own (with or without that lead), and
    then the hypothesis is kept whole. Either way "within N" closing the signal is when it
    should show, counted from shipping: the bet's `expect_within`.
    """
    hypothesis, signal = hypothesis.strip(), signal.strip()
    if signal:
        signal = _SIGNAL_LEAD.sub("", signal)
    elif match := _SIGNAL.search(hypothesis):
        hypothesis, signal = _clean(hypothesis[: match.start()]), hypothesis[match.end() :]
    else:
        hypothesis = _clean(hypothesis)
    expect = None
    within = _WITHIN.search(signal) if signal else None
    if within:
        expect = parse_duration(within.group(1))
        signal = signal[: within.start()]
    signal = _clean(signal)
    return OneLiner(title_for(hypothesis), hypothesis, signal, expect)


def parse_one_liner(text: str) -> OneLiner:
    """Split "We believe X for Y will Z. We'll know when S within 10d" into its parts."""
    return read_bet(text)


class Part(StrEnum):
    """What a hypothesis can't do without."""

    CHANGE = "change"
    OUTCOME = "outcome"


def missing_parts(hypothesis: str) -> tuple[Part, ...]:
    """What the hypothesis lacks to be a bet at all: the change we make and the outcome we
    expect of it ("We believe <change> … will <outcome>"). Empty: it can be created, and the
    coach asks about the rest (for whom, the signal) once it is. One rule for every surface
    that creates a bet: the one-liner, the New bet form and the "Create a bet" step."""
    said = _BELIEVE_ALONE.sub("", _SIGNAL.split(hypothesis, maxsplit=1)[0])
    outcome = _WILL.search(said)
    missing: list[Part] = []
    if not re.search(r"\w", said[: outcome.start()] if outcome else said):
        missing.append(Part.CHANGE)
    if outcome is None:
        missing.append(Part.OUTCOME)
    return tuple(missing)


def coach(hypothesis: str, signal: str) -> list[str]:
    """What a coach would ask about: each missing part, said kindly, once and privately
    (docs/rules.md, T11). Empty means well formed."""
    notes: list[str] = []
    if not _BELIEVE.match(hypothesis) or len(_BELIEVE.sub("", hypothesis).split()) < 2:
        notes.append("What is the change? Start with “We believe <change> …”.")
    if not _FOR.search(hypothesis):
        notes.append("Who is it for? Add “for <whom>” so we know whose behaviour to watch.")
    if not _WILL.search(hypothesis):
        notes.append("What outcome do you expect? Add “will <outcome>”.")
    if not signal:
        notes.append("How will we know? Add a signal: “We'll know when <measurable signal>”.")
    elif not _MEASURABLE.search(signal):
        notes.append(
            "Can the signal be measured? A number or a rate (“signups rise 10%”) makes it testable."
        )
    return notes
