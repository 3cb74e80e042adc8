"""The notice under a message whose link belongs to a bet: the bet's key, title and state."""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any

from bets.keys import format_key
from bot.blocks.card import headline, state_label
from bot.blocks.text import MAX_FALLBACK_TEXT, Block, context, section, truncate


def link_notice(bets: Sequence[Any]) -> dict[str, Any]:
    """chat.postMessage arguments: one line per bet the message's links belong to."""
    intro = "This link belongs to" if len(bets) == 1 else "These links belong to"
    lines = [f"🔗 {headline(bet)} · {state_label(bet.state)}" for bet in bets]
    keys = ", ".join(format_key(bet.number) for bet in bets)
    blocks: list[Block] = [
        section("\n".join(lines)),
        context(f"`/hypothesis show {format_key(bets[0].number)}` shows its evidence and history."),
    ]
    return {"text": truncate(f"{intro} {keys}", MAX_FALLBACK_TEXT), "blocks": blocks}
