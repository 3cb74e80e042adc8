"""A channel's board: the canvas Hypobot keeps its bets in, current within seconds of any
change (the fan-out point, usecases/views.py, queues its rewrite), and once a day at the
digest hour, when ages and forecasts move on their own."""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from datetime import date, datetime, timedelta
from typing import Any
from zoneinfo import ZoneInfo

from bets.hours import due_digest
from bets.lifecycle import State
from bets.metrics import BetFacts
from outbox import queue
from outbox.kinds import Kind
from storage import bets as bet_store
from storage import boards as store
from storage import db
from storage.models import Board
from usecases.context import Actor, Context
from usecases.flow import DIGEST_WINDOW, ChannelFigures, channel_figures, rules_of
from usecases.results import Refused, Why

LEARNED_FOR = timedelta(days=30)  # the board lists what was learned in the last 30 days
EVERY_DAY = frozenset(range(7))
CATCH_UP = timedelta(days=1)  # after downtime, a day's refresh still happens


@dataclass(frozen=True)
class BoardOn:
    canvas_id: str
    channel_canvas: bool
    again: bool  # it was on already, or turned on again in the canvas it had


@dataclass(frozen=True)
class BoardOff:
    canvas_id: str
    was_on: bool


@dataclass(frozen=True)
class BoardView:
    """What a board shows: the channel's figures (as the digest and the report compute
    them) and its bets."""

    canvas_id: str
    figures: ChannelFigures
    tz: ZoneInfo

    @property
    def bets(self) -> tuple[BetFacts, ...]:
        return self.figures.bets


async def current(ctx: Context, actor: Actor) -> Board | Refused | None:
    """The board of the channel the actor is in (None: never turned on)."""
    if actor.channel_id is None:
        return Refused(Why.NO_CHANNEL)
    return await store.board_of(actor.team_id, actor.channel_id)


async def turn_on(
    ctx: Context,
    actor: Actor,
    *,
    canvas_id: str,
    channel_canvas: bool,
    link_notice: Callable[[str], dict[str, Any]] | None,
) -> BoardOn | Refused:
    """The board is on in `canvas_id` (made by the Slack edge): written with its event, its
    first rewrite queued, and `link_notice(canvas_id)` posted in the channel once (when the
    canvas is new to it)."""
    if actor.channel_id is None:
        return Refused(Why.NO_CHANNEL)
    now = ctx.clock()
    await bet_store.ensure_channel_row(
        actor.team_id, actor.channel_id, now=now, timezone=ctx.default_timezone
    )
    before = await store.board_of(actor.team_id, actor.channel_id)
    again = before is not None and before.canvas_id == canvas_id
    async with db.unit_of_work():
        await store.turned_on(
            actor.team_id,
            actor.channel_id,
            canvas_id=canvas_id,
            channel_canvas=channel_canvas,
            owner_id=actor.user_id,
            now=now,
        )
        await bet_store.write_event(
            None,
            team_id=actor.team_id,
            actor_id=actor.user_id,
            now=now,
            kind="board",
            data={"on": True, "canvas_id": canvas_id, "channel_canvas": channel_canvas},
            channel_id=actor.channel_id,
        )
        await queue.refresh_board(actor.team_id, actor.channel_id, now=now)
        if link_notice is not None and not again:
            await queue.enqueue(
                Kind.NOTICE, actor.team_id, actor.channel_id, link_notice(canvas_id), now=now
            )
    return BoardOn(canvas_id, channel_canvas, again)


async def turn_off(ctx: Context, actor: Actor) -> BoardOff | Refused:
    """No longer updated; the canvas stays as it is."""
    found = await current(ctx, actor)
    if found is None:
        return Refused(Why.NO_BOARD)
    if isinstance(found, Refused):
        return found
    now = ctx.clock()
    async with db.unit_of_work():
        was_on = await store.turned_off(found.team_id, found.channel_id, now=now)
        if was_on:
            await bet_store.write_event(
                None,
                team_id=found.team_id,
                actor_id=actor.user_id,
                now=now,
                kind="board",
                data={"on": False, "canvas_id": found.canvas_id},
                channel_id=found.channel_id,
            )
    return BoardOff(found.canvas_id, was_on)


async def gone(
    team_id: str,
    channel_id: str,
    *,
    now: datetime,
    tell: Callable[[Board], dict[str, Any]],
) -> bool:
    """Its canvas was deleted (or canvases were turned off for the workspace): the board is
    off, and whoever turned it on is told once, in a direct message (`tell(board)`)."""
    found = await store.board_of(team_id, channel_id)
    if found is None:
        return False
    canvas_id = found.canvas_id
    async with db.unit_of_work():
        board = await store.gone(team_id, channel_id, canvas_id, now=now)
        if board is None:
            return False
        await bet_store.write_event(
            None,
            team_id=team_id,
            actor_id="hypobot",
            now=now,
            kind="board",
            data={"on": False, "canvas_id": canvas_id, "why": "canvas gone"},
            channel_id=channel_id,
        )
        await queue.enqueue(Kind.NOTICE, team_id, board.owner_id, tell(board), now=now)
    return True


async def view(team_id: str, channel_id: str, *, now: datetime) -> BoardView | None:
    """What the channel's board shows now; None when it has no board that is on."""
    board = await store.board_of(team_id, channel_id)
    channel = await bet_store.get_channel(team_id, channel_id)
    if board is None or not board.enabled or channel is None:
        return None
    figures = await channel_figures(
        channel,
        now=now,
        window=DIGEST_WINDOW,
        learned_after=now - LEARNED_FOR,
        with_learned=True,
    )
    return BoardView(board.canvas_id, figures, rules_of(channel).tz)


async def refresh_daily(now: datetime) -> int:
    """Queue the daily rewrite of every board whose channel's digest hour has come today
    (every day, digest or not: ages and forecasts move on their own), once per local day
    whatever the number of replicas. Returns how many were queued."""
    queued = 0
    for board in await store.enabled_boards():
        channel = await bet_store.get_channel(board.team_id, board.channel_id)
        if channel is None:
            continue
        rules = rules_of(channel)
        last = date.fromisoformat(board.refreshed_on) if board.refreshed_on else None
        day = due_digest(
            now, tz=rules.tz, at=rules.digest_at, days=EVERY_DAY, last_period=last, grace=CATCH_UP
        )
        if day is None:
            continue
        async with db.unit_of_work():
            if await store.refreshed(board, day.isoformat()):
                queued += await queue.refresh_board(board.team_id, board.channel_id, now=now)
    return queued


def learned_recently(view: BoardView, now: datetime) -> list[BetFacts]:
    """The bets closed in the last 30 days, the latest first."""
    since = now - LEARNED_FOR
    closed = [
        bet
        for bet in view.bets
        if bet.state.is_final and bet.closed_at is not None and bet.closed_at >= since
    ]
    return sorted(closed, key=lambda bet: (bet.closed_at, bet.number), reverse=True)


def in_state(view: BoardView, state: State) -> list[BetFacts]:
    return sorted((bet for bet in view.bets if bet.state is state), key=lambda bet: bet.number)
