"""The nudge posted in a bet's thread when its evidence is overdue, and the lead's escalation."""

from __future__ import annotations

from datetime import datetime, timedelta
from typing import Any

from bets.durations import format_duration
from bets.keys import format_key
from bot.blocks import ids
from bot.blocks.card import MAX_HYPOTHESIS_SHOWN, headline, shown
from bot.blocks.report import in_days
from bot.blocks.text import Block, actions, button, context, section, user

MAX_SIGNAL_SHOWN = 1000


def nudge_blocks(bet: Any, *, now: datetime, sle: timedelta, number: int) -> list[Block]:
    """`<@owner>`, what we bet and how we'd know, and buttons for the outcome."""
    age = format_duration(now - bet.shipped_at)
    signal = shown(bet.signal, MAX_SIGNAL_SHOWN) if bet.signal.strip() else "_no signal set_"
    value = str(bet.id)
    return [
        section(
            f"{user(bet.owner_id)}, {headline(bet)} shipped {age} ago. What have we learned?\n"
            f">{shown(bet.hypothesis, MAX_HYPOTHESIS_SHOWN)}\n"
            f"*We'll know when* {signal}"
        ),
        context(
            f"Nudge {number} · reply in this thread with what you learned, "
            f"or pick an outcome · SLE {in_days(sle)}"
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


def nudge_text(bet: Any) -> str:
    return f"{format_key(bet.number)}: evidence is overdue. What have we learned?"


def escalation_blocks(bet: Any, *, lead_id: str | None, reason: str) -> list[Block]:
    who = f"{user(lead_id)}: " if lead_id else ""
    return [
        section(
            f"⏰ {who}{headline(bet)} is overdue for evidence ({reason}). "
            "It now leads the channel's digest."
        )
    ]
