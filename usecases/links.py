"""Links that belong to a bet: when someone posts a bet's link (or an evidence link),
Hypobot says in the message's thread which bet it belongs to, once per message."""

from __future__ import annotations

from collections.abc import Callable, Collection, Sequence
from typing import Any

from bets.metrics import BetFacts
from outbox import queue
from outbox import rows as outbox_rows
from outbox.kinds import Kind
from storage import bets as bet_store
from storage import db
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
    """Queue the notice for the bets `urls` belong to, in the message's thread; False when
    none does, or when this message already has its notice (Slack's retries: a retried
    delivery waits on the first bet's lock, then finds the row the first one wrote)."""
    bets = [bet_store.bet_value(bet) for bet in await store.bets_linked(team_id, urls)]
    if not bets:
        return False
    async with db.unit_of_work():
        await store.lock(team_id, bets[0].id)
        if await outbox_rows.has_message(team_id, channel_id, Kind.LINK, thread_ts=message_ts):
            return False
        await queue.enqueue(
            Kind.LINK,
            team_id,
            channel_id,
            payload(bets),
            now=ctx.clock(),
            thread_ts=message_ts,
            bet_id=bets[0].id,
        )
    return True
