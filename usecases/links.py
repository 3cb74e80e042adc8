"""Links that belong to a bet: when someone posts a bet's link (or an evidence link),
Hypobot says in the message's thread which bet it belongs to, once per message."""

from __future__ import annotations

from collections.abc import Callable, Collection, Sequence
from typing import Any

from bets.metrics import BetFacts
from storage import bets as bet_store
from storage import links as store
from usecases.context import Context


async def notice_links(
    ctx: Context,
    *,
    team_id: str,
    channel_id: str,
    message_ts: str,
    urls: Collection[str],
    payload: Callable[[Sequence[BetFacts]], dict[str, Any]],
) -> bool:
    """Queue the notice for the bets `urls` belong to; False when none does, or when this
    message already has its notice (Slack's retries)."""
    bets = [bet_store.bet_value(bet) for bet in await store.bets_linked(team_id, urls)]
    if not bets:
        return False
    queued = await store.queue_notice(
        team_id, channel_id, message_ts, bets, now=ctx.clock(), payload=payload
    )
    return queued is not None
