"""The App Home tab: my open bets grouped by state, each with its legal moves."""

from __future__ import annotations

from collections.abc import Sequence
from datetime import datetime
from typing import Any

from bets.lifecycle import OPEN_STATES, State
from bot.blocks import card, ids
from bot.blocks.lists import bet_line
from bot.blocks.text import (
    MAX_BLOCKS_VIEW,
    Block,
    actions,
    button,
    cap_blocks,
    context,
    divider,
    header,
    section,
)

_ORDER = (State.SHIPPED, State.BUILDING, State.PROPOSED)


def home_view(bets: Sequence[Any], *, now: datetime) -> dict[str, Any]:
    blocks: list[Block] = [
        header("Your bets"),
        actions(button("New bet", ids.NEW_BET, "new", "primary")),
    ]
    if not bets:
        blocks.append(
            context("No open bets. Start one with the button above or `/hypothesis new …`.")
        )
    for state in _ORDER:
        group = [bet for bet in bets if bet.state == state and state in OPEN_STATES]
        if not group:
            continue
        blocks += [divider(), section(f"*{card.state_label(state)}* · {len(group)}")]
        for bet in group:
            blocks.append(section(bet_line(bet, now)))
            moves = card.card(bet, now=now)[-1]
            if moves.get("type") == "actions":
                blocks.append(moves)
    return {
        "type": "home",
        "blocks": cap_blocks(
            blocks, limit=MAX_BLOCKS_VIEW, more="and {n} more — `/hypothesis list mine`"
        ),
    }
