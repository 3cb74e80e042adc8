"""The nudge posted in a bet's thread when its evidence is overdue, and the lead's escalation."""

from __future__ import annotations

from datetime import datetime, timedelta
from typing import Any
from zoneinfo import ZoneInfo

from bets.keys import format_key
from bets.reading import counted, format_date, format_duration
from bets.timing import EscalationReason
from bot.blocks import ids
from bot.blocks.card import MAX_HYPOTHESIS_SHOWN, headline, shown
from bot.blocks.text import Block, actions, button, context, escape, section, user

MAX_SIGNAL_SHOWN = 1000


def nudge_blocks(bet: Any, *, now: datetime, sle: timedelta, number: int) -> list[Block]:
    """`<@owner>`, what we bet and how we'd know, and buttons for the outcome."""
    age = format_duration(now - bet.shipped_at)
    value = str(bet.id)
    return [
        section(
            f"{user(bet.owner_id)}, {headline(bet)} shipped {age} ago. What have we learned?\n"
            f">{shown(bet.hypothesis, MAX_HYPOTHESIS_SHOWN)}\n"
            f"{_signal_line(bet)}"
        ),
        context(
            f"Nudge {number} · reply in this thread with what you learned, "
            f"or pick an outcome · SLE {format_duration(sle)}"
        ),
        actions(
            button("👍 Supports", ids.NUDGE_SUPPORTS, value),
            button("👎 Refutes", ids.NUDGE_REFUTES, value),
            button("✅ Validate", ids.VALIDATE, value, "primary"),
            button("❌ Invalidate", ids.INVALIDATE, value),
            button("💤 Snooze 3d", ids.SNOOZE, value),
            button("🪦 Kill", ids.KILL, value, "danger"),
        ),
    ]


def _signal_line(bet: Any) -> str:
    """How we'd know, or that nobody said yet and how to say it."""
    if bet.signal.strip():
        return f"*We'll know when* {shown(bet.signal, MAX_SIGNAL_SHOWN)}"
    return (
        "*No signal yet:* nobody said how we'd know it worked. Name one: "
        f"`/hypothesis signal {format_key(bet.number)} {escape('<what we will see>')}`"
    )


def nudge_text(bet: Any) -> str:
    return f"{format_key(bet.number)}: evidence is overdue. What have we learned?"


def escalation_text(bet: Any) -> str:
    return f"{format_key(bet.number)} is overdue for evidence"


def escalation_blocks(
    bet: Any,
    *,
    lead_id: str | None,
    reason: EscalationReason,
    unanswered: int,
    sle: timedelta,
    now: datetime,
    owner_away_until: datetime | None,
    tz: ZoneInfo,
) -> list[Block]:
    """The lead's mention in the bet's thread (T3), saying why, and when the owner is away
    until when (T4)."""
    who = f"{user(lead_id)}: " if lead_id else ""
    if reason is EscalationReason.UNANSWERED:
        why = f"{counted(unanswered, 'nudge')} without an answer"
    else:
        age = format_duration(now - bet.shipped_at)
        why = f"shipped {age} ago, past the SLE of {format_duration(sle)}"
    text = f"⏰ {who}{headline(bet)} is overdue for evidence ({why}). It now leads the digest."
    if owner_away_until is not None:
        until = format_date(owner_away_until, tz, now=now)
        text += f" Its owner {user(bet.owner_id)} is away until {until}."
    return [section(text)]
