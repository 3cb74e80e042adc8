"""A bet's card (its message in the channel) and `/hypothesis show`: card, evidence, history."""

from __future__ import annotations

import re
from collections.abc import Callable, Sequence
from datetime import datetime
from typing import Any
from zoneinfo import ZoneInfo

from bets.evidence import Verdict
from bets.forecasts import BetForecast, NoForecast
from bets.hypothesis import MAX_TITLE
from bets.keys import format_key
from bets.lifecycle import Move, State, allowed_moves
from bets.reading import format_date, format_duration
from bets.timing import expected_of
from bot import figures
from bot.blocks import ids
from bot.blocks.text import (
    MAX_BLOCKS_MESSAGE,
    MAX_FALLBACK_TEXT,
    Block,
    actions,
    button,
    cap_blocks,
    context,
    divider,
    escape,
    link,
    section,
    truncate,
    user,
)

UTC_ZONE = ZoneInfo("UTC")

STATE_EMOJI: dict[State, str] = {
    State.PROPOSED: "💡",
    State.BUILDING: "🛠️",
    State.SHIPPED: "🚀",
    State.VALIDATED: "✅",
    State.INVALIDATED: "❌",
    State.KILLED: "🪦",
}
VERDICT_EMOJI: dict[Verdict, str] = {
    Verdict.SUPPORTS: "👍",
    Verdict.REFUTES: "👎",
    Verdict.INCONCLUSIVE: "🤷",
    Verdict.UNKNOWN: "💬",
}
# The buttons that make a move, by move; the card shows exactly those allowed_moves() permits.
MOVE_ACTION_IDS: dict[Move, str] = {
    Move.START: ids.START,
    Move.SHIP: ids.SHIP,
    Move.VALIDATE: ids.VALIDATE,
    Move.INVALIDATE: ids.INVALIDATE,
    Move.KILL: ids.KILL,
}
# What the age on a card counts from, and the word for it.
_SINCE: dict[State, tuple[str, str]] = {
    State.PROPOSED: ("created", "created_at"),
    State.BUILDING: ("started", "started_at"),
    State.SHIPPED: ("shipped", "shipped_at"),
    State.VALIDATED: ("validated", "closed_at"),
    State.INVALIDATED: ("invalidated", "closed_at"),
    State.KILLED: ("killed", "closed_at"),
}
_CLOSE_LABEL = {State.KILLED: "Stopped because"}  # otherwise "Outcome"
_SIGNAL_PREFIX = re.compile(r"^\s*we(?:'|’|\s+wi)ll\s+know\b", re.IGNORECASE)
HISTORY_LENGTH = 10

MAX_HYPOTHESIS_SHOWN = 2000
MAX_NOTE_SHOWN = 1000  # signal, learned, close reason, one piece of evidence


def shown(text: str, limit: int) -> str:
    """User text as a block may carry it: escaped, then cut to `limit`."""
    return truncate(escape(text.strip()), limit)


def ago(moment: datetime, now: datetime) -> str:
    return f"{format_duration(now - moment)} ago"


def state_label(state: str) -> str:
    """`🚀 shipped`: the state with its emoji."""
    return f"{STATE_EMOJI[State(state)]} {State(state)}"


def age_text(bet: Any, now: datetime) -> str:
    """`shipped 3d ago`: how long the bet has been in its state (created, for proposed)."""
    word, stamp = _SINCE[State(bet.state)]
    moment = getattr(bet, stamp) or bet.created_at
    return f"{word} {ago(moment, now)}"


def headline(bet: Any) -> str:
    """`*H-3 · Faster search*`, escaped."""
    return f"*{format_key(bet.number)} · {shown(bet.title, MAX_TITLE)}*"


def card_text(bet: Any) -> str:
    """The notification text for a card: `H-3 · Faster search · shipped`, escaped."""
    text = f"{format_key(bet.number)} · {shown(bet.title, MAX_TITLE)} · {State(bet.state)}"
    return truncate(text, MAX_FALLBACK_TEXT)


def _signal_text(bet: Any) -> str:
    signal = bet.signal.strip()
    if not signal:
        if State(bet.state).is_final:
            return "_No signal was set._"  # T11: no suggestion a closed bet can't take
        key = format_key(bet.number)
        return f"_No signal yet — add one:_ `/hypothesis signal {key} {escape('<text>')}`"
    if _SIGNAL_PREFIX.match(signal):
        return f"📏 {shown(signal, MAX_NOTE_SHOWN)}"
    return f"📏 We'll know when {shown(signal, MAX_NOTE_SHOWN)}"


def expected_text(bet: Any, *, now: datetime, tz: ZoneInfo) -> str | None:
    """When the signal should show (T1): a date in the channel's zone (T7), or "N after
    shipping" while "within N" has nothing to count from yet."""
    expected = expected_of(bet)
    if expected is not None:
        return f"signal expected {format_date(expected, tz, now=now)}"
    if bet.expect_within is not None:
        return f"signal expected {format_duration(bet.expect_within)} after shipping"
    return None


def outlook_text(
    bet: Any, forecast: BetForecast | NoForecast | None, *, now: datetime, tz: ZoneInfo
) -> list[str]:
    """When the signal should show (T1) and when the bet will likely be heard (F4): the
    forecast never before the expected date, which it then names itself."""
    if State(bet.state).is_final:
        return []
    expected = expected_text(bet, now=now, tz=tz)
    if forecast is None:
        return [expected] if expected else []
    said = figures.forecast_words(forecast, now=now, tz=tz)
    if isinstance(forecast, BetForecast) and said.startswith("signal expected"):
        return [f"🔮 {said}"]
    return [*([expected] if expected else []), f"🔮 {said}"]


def _facts(
    bet: Any,
    now: datetime,
    tz: ZoneInfo,
    evidence_count: int,
    pivot_of_number: int | None,
    forecast: BetForecast | NoForecast | None,
) -> list[str]:
    facts = [state_label(bet.state), f"owner {user(bet.owner_id)}", age_text(bet, now)]
    facts.append(f"📎 {evidence_count} evidence" if evidence_count else "📎 no evidence yet")
    facts += outlook_text(bet, forecast, now=now, tz=tz)
    snoozed = bet.snoozed_until is not None and bet.snoozed_until > now
    if snoozed and State(bet.state) is State.SHIPPED:
        facts.append(f"💤 snoozed until {format_date(bet.snoozed_until, tz, now=now)}")
    if bet.link:
        facts.append(f"🔗 {link(bet.link, truncate(bet.link.split('://', 1)[-1], 60))}")
    if pivot_of_number is not None:
        facts.append(f"↩️ Pivot of {format_key(pivot_of_number)}")
    return facts


def _closing_text(bet: Any) -> str:
    state = State(bet.state)
    lines = []
    if bet.close_reason.strip() and state.is_final:
        label = _CLOSE_LABEL.get(state, "Outcome")
        lines.append(f"*{label}:* {shown(bet.close_reason, MAX_NOTE_SHOWN)}")
    if bet.learned.strip():
        lines.append(f"*Learned:* {shown(bet.learned, MAX_NOTE_SHOWN)}")
    return "\n".join(lines)


def _legal(move: Move) -> Callable[[State], bool]:
    return lambda state: move in allowed_moves(state)


# The card's buttons in the order they appear, each with when it shows.
_CARD_BUTTONS: tuple[tuple[str, str, str | None, Callable[[State], bool]], ...] = (
    ("🛠️ Start", ids.START, None, _legal(Move.START)),
    ("🚀 Ship", ids.SHIP, "primary", _legal(Move.SHIP)),
    ("📎 Add evidence", ids.ADD_EVIDENCE, None, lambda state: not state.is_final),
    ("✅ Validate", ids.VALIDATE, "primary", _legal(Move.VALIDATE)),
    ("❌ Invalidate", ids.INVALIDATE, None, _legal(Move.INVALIDATE)),
    ("🪦 Kill", ids.KILL, "danger", _legal(Move.KILL)),
    ("💤 Snooze 3d", ids.SNOOZE, None, lambda state: state is State.SHIPPED),
)


def card(
    bet: Any,
    *,
    now: datetime,
    tz: ZoneInfo = UTC_ZONE,
    evidence_count: int | None = None,
    pivot_of_number: int | None = None,
    forecast: BetForecast | NoForecast | None = None,
) -> list[Block]:
    """A bet's card: what it bets on, how we'll know, where it stands (with its forecast
    while it awaits feedback), and the legal moves. Coaching is never on it (T11): that was
    said once, privately, on creation."""
    count = bet.evidence_count if evidence_count is None else evidence_count
    blocks = [
        section(f"{headline(bet)}\n{shown(bet.hypothesis, MAX_HYPOTHESIS_SHOWN)}"),
        section(_signal_text(bet)),
        context(*_facts(bet, now, tz, count, pivot_of_number, forecast)),
    ]
    closing = _closing_text(bet)
    if closing:
        blocks.append(section(closing))
    state = State(bet.state)
    buttons = [
        button(text, action_id, str(bet.id), style)
        for text, action_id, style, shows in _CARD_BUTTONS
        if shows(state)
    ]
    if buttons:
        blocks.append(actions(*buttons))
    return blocks


def evidence_text(evidence: Any, now: datetime) -> str:
    """One piece of evidence: verdict, who, when, where from, then its words and link."""
    verdict = Verdict(evidence.verdict)
    source = escape(evidence.source)
    if evidence.permalink:
        source = link(evidence.permalink, evidence.source)
    lines = [
        f"{VERDICT_EMOJI[verdict]} *{verdict}* · {user(evidence.author_id)} · "
        f"{ago(evidence.at, now)} · {source}"
    ]
    if evidence.text.strip():
        lines.append(shown(evidence.text, MAX_NOTE_SHOWN))
    if evidence.link:
        lines.append(f"🔗 {link(evidence.link)}")
    return "\n".join(lines)


def _event_line(event: Any, now: datetime) -> str:
    line = f"• {escape(event.kind)}"
    if event.from_state and event.to_state:
        line += f" {escape(event.from_state)} → {escape(event.to_state)}"
    return f"{line} · {user(event.actor_id)} · {ago(event.at, now)}"


def show_blocks(
    bet: Any,
    evidence: Sequence[Any],
    events: Sequence[Any],
    *,
    now: datetime,
    tz: ZoneInfo = UTC_ZONE,
    pivot_of_number: int | None = None,
    forecast: BetForecast | NoForecast | None = None,
) -> list[Block]:
    """`/hypothesis show`: the card, its evidence newest first, and its latest history."""
    key = format_key(bet.number)
    blocks = card(
        bet,
        now=now,
        tz=tz,
        evidence_count=len(evidence),
        pivot_of_number=pivot_of_number,
        forecast=forecast,
    )
    blocks += [divider(), section("*Evidence*")]
    recent = sorted(events, key=lambda event: event.at)[-HISTORY_LENGTH:]
    history: list[Block] = []
    if recent:
        history = [section("*History*"), context("\n".join(_event_line(e, now) for e in recent))]
    if evidence:
        newest_first = sorted(evidence, key=lambda item: item.at, reverse=True)
        blocks += cap_blocks(
            [section(evidence_text(item, now)) for item in newest_first],
            limit=MAX_BLOCKS_MESSAGE - len(blocks) - len(history),
            more="and {n} older pieces of evidence",
        )
    elif State(bet.state).is_final:
        blocks.append(context("None was recorded."))
    else:
        example = escape("<text and/or link>")
        blocks.append(context(f"None yet — `/hypothesis evidence {key} + {example}`"))
    return blocks + history
