"""A channel's settings: show them, or change them (an event like any other change)."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import time, timedelta
from typing import Any

from bets.hours import format_clock
from bets.timing import ChannelRules
from storage import bets as bet_store
from storage import channels as store
from storage import db
from usecases import views
from usecases.context import Actor, Context
from usecases.flow import rules_of
from usecases.results import Refused, Why

# The typed settings (durations as timedelta) and the seconds columns that keep them.
_SECONDS_COLUMNS = {
    "nudge_after": "nudge_after_s",
    "nudge_repeat": "nudge_repeat_s",
    "sle_default": "sle_default_s",
    "grace": "grace_s",
}


@dataclass(frozen=True)
class ChannelSettings:
    rules: ChannelRules
    changed: bool


def _columns(changes: dict[str, Any]) -> dict[str, Any]:
    """The grammar's typed settings as the channel row stores them."""
    columns: dict[str, Any] = {}
    for name, value in changes.items():
        if name in _SECONDS_COLUMNS:
            assert isinstance(value, timedelta)
            columns[_SECONDS_COLUMNS[name]] = int(value.total_seconds())
        elif name == "hours":
            start, end = value
            columns["hours_start"], columns["hours_end"] = format_clock(start), format_clock(end)
        elif name == "digest_time":
            assert isinstance(value, time)
            columns["digest_time"] = format_clock(value)
        elif name in ("digest_days", "work_days"):
            columns[name] = ",".join(str(day) for day in sorted(value))
        else:
            columns[name] = value
    return columns


async def settings(
    ctx: Context, actor: Actor, changes: dict[str, Any]
) -> ChannelSettings | Refused:
    """The channel's rules, after applying `changes` (typed, as the grammar reads them)."""
    if actor.channel_id is None:
        return Refused(Why.NO_CHANNEL)
    now = ctx.clock()
    if changes:
        async with db.unit_of_work():
            channel = await store.apply_settings(
                actor.team_id,
                actor.channel_id,
                _columns(changes),
                actor_id=actor.user_id,
                now=now,
                default_timezone=ctx.default_timezone,
            )
            await views.channel_changed(actor.team_id, actor.channel_id, now=now)
    else:
        channel = await bet_store.ensure_channel(
            actor.team_id, actor.channel_id, now=now, timezone=ctx.default_timezone
        )
    return ChannelSettings(rules_of(channel), changed=bool(changes))
