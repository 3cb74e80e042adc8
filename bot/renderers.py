"""Messages made when they are sent, from what their outbox row points at as it is then:
the renderers the sender is handed (it never imports the Slack edge itself)."""

from __future__ import annotations

from collections.abc import Mapping
from datetime import datetime

from bot.answers import board_gone_notice
from bot.blocks import card as card_blocks
from bot.blocks.board import board_markdown
from outbox.kinds import Kind, channel_of_lane
from outbox.sender import CanvasEdit, OnFailed, Post, Render
from storage.models import Outbox
from usecases import boards, views


async def card_message(team_id: str, bet_id: int, now: datetime) -> Post | None:
    """A bet's card as chat.postMessage / chat.update arguments, with its dates in the
    channel's zone (T7), replacing its card message once there is one; None when the bet is
    gone (purged)."""
    facts = await views.card_of(team_id, bet_id, now=now)
    if facts is None:
        return None
    bet = facts.bet
    blocks = card_blocks.card(
        bet,
        now=now,
        tz=facts.tz,
        pivot_of_number=facts.pivot_of_number,
        forecast=facts.forecast,
    )
    return Post({"text": card_blocks.card_text(bet), "blocks": blocks}, update_ts=bet.card_ts)


async def card(row: Outbox, now: datetime) -> Post | None:
    """The card an outbox row asks for, as its bet is when the row is sent."""
    bet_id = row.bet_id  # type: ignore[attr-defined]
    return await card_message(row.team_id, bet_id, now) if bet_id else None


async def board(row: Outbox, now: datetime) -> CanvasEdit | None:
    """The channel's board as it is when the row is sent (None: turned off meanwhile)."""
    view = await boards.view(row.team_id, channel_of_lane(row.channel_id), now=now)
    if view is None:
        return None
    return CanvasEdit(view.canvas_id, board_markdown(view, now=now))


async def board_failed(row: Outbox, code: str, now: datetime) -> None:
    """Slack refused a board's rewrite for good: when its canvas is gone (deleted, or
    canvases turned off), the board is off, and whoever turned it on is told once."""
    if code in GONE:
        channel_id = channel_of_lane(row.channel_id)
        await boards.gone(
            row.team_id,
            channel_id,
            now=now,
            tell=lambda _: board_gone_notice(row.team_id, channel_id),
        )


GONE = frozenset(
    {"canvas_not_found", "canvas_disabled_user_team", "free_teams_cannot_edit_standalone_canvases"}
)
RENDERERS: Mapping[Kind, Render] = {Kind.CARD: card, Kind.BOARD: board}
ON_FAILED: Mapping[Kind, OnFailed] = {Kind.BOARD: board_failed}
