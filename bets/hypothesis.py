"""Reading a one-line bet ("We believe … We'll know when …") and coaching its hypothesis."""

from __future__ import annotations

import re
from dataclasses import dataclass
from datetime import timedelta

from bets.durations import parse_duration

MAX_TITLE = 150
MAX_TEXT = 3000

_SIGNAL = re.compile(r"\bwe(?:'|’|\s+wi)ll\s+know\s+(?:it\s+)?(?:when|if|because)\b", re.I)
_BELIEVE = re.compile(r"^\s*we\s+believe\s+(?:that\s+)?", re.I)
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


def parse_one_liner(text: str) -> OneLiner:
    """Split "We believe X for Y will Z. We'll know when S within 10d" into its parts."""
    text = text.strip()
    match = _SIGNAL.search(text)
    hypothesis, signal = (text[: match.start()], text[match.end() :]) if match else (text, "")
    expect = None
    within = _WITHIN.search(signal) if signal else None
    if within:
        expect = parse_duration(within.group(1))
        signal = signal[: within.start()]
    hypothesis, signal = _clean(hypothesis), _clean(signal)
    return OneLiner(title_for(hypothesis), hypothesis, signal, expect)


def coach(hypothesis: str, signal: str) -> list[str]:
    """What a coach would ask about: each missing part, said kindly. Empty means well formed."""
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
