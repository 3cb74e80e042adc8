"""The App Home tab: my open bets grouped by state, each with its legal moves, and how the
channels I bet in are learning (awaiting feedback, WIP against its limit, median TTF, SLE)."""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from datetime import datetime
from typing import Any
from zoneinfo import ZoneInfo

from bets.flow import FlowReport
from bets.forecasts import BetForecast, NoForecast, SleSource
from bets.lifecycle import OPEN_STATES, State
from bets.reading import counted, format_duration
from bot import figures
from bot.blocks import card, ids
from bot.blocks.card import UTC_ZONE
from bot.blocks.digest import wip_text
from bot.blocks.lists import bet_line
from bot.blocks.text import (
    MAX_BLOCKS_VIEW,
    Block,
    actions,
    button,
    context,
    divider,
    header,
    section,
)
from usecases.flow import ChannelFigures

_ORDER = (State.SHIPPED, State.BUILDING, State.PROPOSED)


def _bet_blocks(
    bets: Sequence[Any],
    now: datetime,
    *,
    budget: int,
    total: int,
    forecasts: Mapping[int, BetForecast | NoForecast],
    tz: ZoneInfo,
) -> list[Block]:
    """My open bets by state, each line with its buttons, in at most `budget` blocks; the
    bets that don't fit (and those of `total` not read) are counted in "and N more —
    `/hypothesis list mine`"."""
    if not bets:
        return [context("No open bets. Start one with the button above or `/hypothesis new …`.")]
    room = budget - 1  # the "and N more" line
    blocks: list[Block] = []
    left = max(0, total - len(bets))
    for state in _ORDER:
        group = [bet for bet in bets if bet.state == state and state in OPEN_STATES]
        if not group:
            continue
        heading = [divider(), section(f"*{card.state_label(state)}* · {len(group)}")]
        shown: list[Block] = []
        for index, bet in enumerate(group):
            moves = card.card(bet, now=now)[-1]
            forecast = forecasts.get(bet.number)
            lines = [section(bet_line(bet, now, forecast=forecast, tz=tz))]
            if moves.get("type") == "actions":
                lines.append(moves)
            if len(blocks) + len(heading) + len(shown) + len(lines) > room:
                left += len(group) - index
                break
            shown += lines
        if shown:
            blocks += heading + shown
    if left:
        blocks.append(context(f"and {left} more — `/hypothesis list mine`"))
    return blocks


def _ttf_text(report: FlowReport) -> str:
    window = figures.window_words(report.window)
    return f"⏱️ *time to feedback* {figures.median_words(report)} (last {window})"


def _sle_text(report: FlowReport) -> str:
    level = report.sle
    source = (
        f"from {counted(level.heard, 'bet')} heard"
        if level.source is SleSource.HISTORY
        else "the channel's setting"
    )
    return f"🎯 *SLE* {format_duration(level.value)} ({source})"


def channel_section(flow: ChannelFigures) -> Block:
    report = flow.report
    return section(
        f"*<#{flow.channel_id}>*\n{wip_text(report, flow.rules.wip_limit)}\n"
        f"{_ttf_text(report)} · {_sle_text(report)}"
    )


def _channel_blocks(channels: Sequence[ChannelFigures]) -> list[Block]:
    if not channels:
        return []
    return [
        divider(),
        header("Your channels"),
        *(channel_section(flow) for flow in channels),
        context("The channels of your latest bets. Their digest has the details."),
    ]


def home_view(
    bets: Sequence[Any],
    *,
    now: datetime,
    channels: Sequence[ChannelFigures] = (),
    total: int | None = None,
    forecasts: Mapping[int, BetForecast | NoForecast] | None = None,
    tz: ZoneInfo = UTC_ZONE,
) -> dict[str, Any]:
    """The Home tab: a New bet button, my bets (cut to fit), then my channels' figures."""
    head: list[Block] = [
        header("Your bets"),
        actions(button("New bet", ids.NEW_BET, "new", "primary")),
    ]
    tail = _channel_blocks(channels)
    room = MAX_BLOCKS_VIEW - len(head) - len(tail)
    mine = _bet_blocks(
        bets,
        now,
        budget=room,
        total=len(bets) if total is None else total,
        forecasts=forecasts or {},
        tz=tz,
    )
    return {"type": "home", "blocks": [*head, *mine, *tail]}
