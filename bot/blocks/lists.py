"""Lists of bets, help, and plain ephemeral replies."""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from datetime import datetime
from typing import Any
from zoneinfo import ZoneInfo

from bets.forecasts import BetForecast, NoForecast
from bets.keys import format_key
from bets.metrics import is_awaiting, is_overdue
from bets.reading import counted
from bot import figures
from bot.blocks.card import UTC_ZONE, age_text, shown, state_label
from bot.blocks.text import (
    MAX_BLOCKS_MESSAGE,
    MAX_SECTION_TEXT,
    Block,
    cap_blocks,
    context,
    escape,
    header,
    section,
    user,
)

MAX_TITLE_IN_LIST = 120


def bet_line(
    bet: Any,
    now: datetime,
    *,
    forecast: BetForecast | NoForecast | None = None,
    tz: ZoneInfo = UTC_ZONE,
) -> str:
    """`*H-3* Faster search · 🚀 shipped · <@U1> · shipped 3d ago`, with its forecast while
    it awaits feedback (F4) and "escalated" when it is overdue (F7)."""
    title = shown(bet.title, MAX_TITLE_IN_LIST)
    line = (
        f"*{format_key(bet.number)}* {title} · {state_label(bet.state)} · "
        f"{user(bet.owner_id)} · {age_text(bet, now)}"
    )
    if is_overdue(bet):
        line += " · ⏰ escalated"
    elif bet.nudge_count and is_awaiting(bet):
        line += f" · nudged {counted(bet.nudge_count, 'time')}"
    if forecast is not None:
        line += f" · 🔮 {figures.forecast_words(forecast, now=now, tz=tz)}"
    return line


def bet_list(
    bets: Sequence[Any],
    *,
    now: datetime,
    title: str,
    more_hint: str,
    total: int | None = None,
    forecasts: Mapping[int, BetForecast | NoForecast] | None = None,
    tz: ZoneInfo = UTC_ZONE,
) -> list[Block]:
    """A header and one section per bet; past Slack's cap, "and N more — `more_hint`",
    counting the bets of `total` that were not even read."""
    blocks = [header(escape(title))]
    if not bets:
        return [*blocks, context("No bets here.")]
    blocks += [
        section(bet_line(bet, now, forecast=(forecasts or {}).get(bet.number), tz=tz))
        for bet in bets
    ]
    unread = max(0, (total or len(bets)) - len(bets))
    if unread and len(blocks) < MAX_BLOCKS_MESSAGE:
        return [*blocks, context(f"and {unread} more — {more_hint}")]
    return cap_blocks(blocks, more=f"and {{n}} more — {more_hint}", extra=unread)


def _paragraphs(text: str, limit: int) -> list[str]:
    """Split text at line breaks into pieces of at most `limit` characters (longer lines whole)."""
    pieces: list[str] = []
    for line in text.split("\n"):
        if pieces and len(pieces[-1]) + 1 + len(line) <= limit:
            pieces[-1] += "\n" + line
        else:
            pieces.append(line)
    return [piece for piece in pieces if piece.strip()]


def help_blocks(help_text: str) -> list[Block]:
    """Help (our own mrkdwn), split into sections that each fit Slack's limit."""
    return cap_blocks(
        [section(piece) for piece in _paragraphs(help_text, MAX_SECTION_TEXT)],
        more="and {n} more sections of help",
    )


def message(text: str) -> list[Block]:
    """A one-section ephemeral reply; `text` is mrkdwn whose user parts are already escaped."""
    return [section(text)]
