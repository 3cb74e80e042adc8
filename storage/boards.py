"""Boards: which channels keep their bets in a canvas, and whose canvas (each by team_id)."""

from __future__ import annotations

from datetime import datetime

from tortoise.exceptions import IntegrityError
from tortoise.expressions import Q

from storage.models import Board


async def board_of(team_id: str, channel_id: str) -> Board | None:
    return await Board.get_or_none(team_id=team_id, channel_id=channel_id)


async def turned_on(
    team_id: str,
    channel_id: str,
    *,
    canvas_id: str,
    channel_canvas: bool,
    owner_id: str,
    now: datetime,
) -> Board:
    """The channel's board is on, in `canvas_id` (a new board, or one turned on again)."""
    values = {
        "canvas_id": canvas_id,
        "channel_canvas": channel_canvas,
        "enabled": True,
        "owner_id": owner_id,
        "updated_at": now,
    }
    updated = await Board.filter(team_id=team_id, channel_id=channel_id).update(**values)
    if not updated:
        try:
            await Board.create(team_id=team_id, channel_id=channel_id, created_at=now, **values)
        except IntegrityError:  # turned on twice at once: the same values win either way
            await Board.filter(team_id=team_id, channel_id=channel_id).update(**values)
    board = await board_of(team_id, channel_id)
    assert board is not None
    return board


async def turned_off(team_id: str, channel_id: str, *, now: datetime) -> bool:
    """No longer updated; False when it was not on."""
    return bool(
        await Board.filter(team_id=team_id, channel_id=channel_id, enabled=True).update(
            enabled=False, updated_at=now
        )
    )


async def gone(team_id: str, channel_id: str, canvas_id: str, *, now: datetime) -> Board | None:
    """Its canvas was deleted: the board is off. The board, when this call turned it off
    (once, whichever replica saw the deletion first); None when it was off already or has
    moved to another canvas."""
    turned = await Board.filter(
        team_id=team_id, channel_id=channel_id, canvas_id=canvas_id, enabled=True
    ).update(enabled=False, updated_at=now)
    return await board_of(team_id, channel_id) if turned else None


async def enabled_boards() -> list[Board]:
    """Every board that is on, in every workspace (the daily refresh)."""
    return await Board.filter(enabled=True).order_by("team_id", "channel_id")


async def refreshed(board: Board, day: str) -> bool:
    """Note the daily refresh of `day` (the channel's local date): False when another
    replica did it first."""
    stale = Q(refreshed_on__isnull=True) | ~Q(refreshed_on=day)
    return bool(await Board.filter(stale, id=board.id).update(refreshed_on=day))
