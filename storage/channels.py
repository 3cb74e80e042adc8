"""Channels Hypobot tracks: their settings, and what their digest needs of the database."""

from __future__ import annotations

from collections.abc import Mapping
from datetime import date, datetime
from typing import Any

from tortoise.expressions import Q
from tortoise.transactions import in_transaction

from bets.lifecycle import OPEN_STATES
from bets.metrics import BetFacts
from storage.bets import BET_COLUMNS, bet_from_columns, ensure_channel
from storage.models import Bet, Channel, Event


async def tracked_channels(*, digest_only: bool = False) -> list[Channel]:
    query = Channel.all()
    if digest_only:
        query = query.filter(digest_enabled=True)
    return await query.order_by("team_id", "channel_id")


async def apply_settings(
    team_id: str,
    channel_id: str,
    changes: Mapping[str, Any],
    *,
    actor_id: str,
    now: datetime,
    default_timezone: str,
) -> Channel:
    """Change a channel's settings and write the change as an event, together."""
    await ensure_channel(team_id, channel_id, now=now, timezone=default_timezone)
    async with in_transaction():
        channel = (
            await Channel.filter(team_id=team_id, channel_id=channel_id).select_for_update().first()
        )
        assert channel is not None
        before = {name: getattr(channel, name) for name in changes}
        for name, value in changes.items():
            setattr(channel, name, value)
        await channel.save()
        await Event.create(
            team_id=team_id,
            bet_id=None,
            channel_id=channel_id,
            actor_id=actor_id,
            at=now,
            kind="settings",
            data={"before": before, "after": dict(changes)},
        )
    return channel


async def lock(team_id: str, channel_id: str) -> None:
    """Lock the channel's row for the rest of the unit of work (its nudge budget is counted
    under it: replicas sweeping the channel at once take turns here)."""
    await Channel.filter(team_id=team_id, channel_id=channel_id).select_for_update().first()


async def bets_for_metrics(team_id: str, channel_id: str, *, since: datetime) -> list[BetFacts]:
    """Open bets, bets closed since `since` and bets whose recorded forecast (F6) falls
    since then, as plain values: one query, however many bets (every figure over a window
    starting at or after `since` is whole)."""
    rows = (
        await Bet.filter(team_id=team_id, channel_id=channel_id)
        .filter(
            Q(state__in=list(OPEN_STATES))
            | Q(closed_at__gte=since)
            | Q(forecast_at_ship__gte=since)
        )
        .order_by("number")
        .values_list(*BET_COLUMNS)
    )
    return [bet_from_columns(row) for row in rows]


async def first_bet_at(team_id: str, channel_id: str) -> datetime | None:
    """When the channel's first bet was made (F8: the weeks a team has been observed)."""
    found = (
        await Bet.filter(team_id=team_id, channel_id=channel_id)
        .order_by("created_at")
        .first()
        .values_list("created_at", flat=True)
    )
    return found  # type: ignore[return-value]


async def note_digest(channel: Channel, *, day: date, now: datetime, posted: bool) -> None:
    """The channel's digest for `day` is settled (posted now, or skipped as empty)."""
    await Channel.filter(id=channel.id).update(
        last_digest_on=day.isoformat(),
        last_digest_at=now if posted else channel.last_digest_at,
    )
