"""Links attached to bets (a bet's link, an evidence link), and the one notice per message
that says which bet a pasted link belongs to."""

from __future__ import annotations

from collections.abc import Callable, Collection, Sequence
from datetime import datetime
from typing import Any

from tortoise.transactions import in_transaction

from storage.models import Bet, Evidence, Outbox

NOTICE = "link"  # the outbox kind of the notice


async def bets_linked(team_id: str, urls: Collection[str], *, limit: int = 10) -> list[Bet]:
    """Bets of the workspace whose link, or one of whose evidence links, is among `urls`."""
    if not urls:
        return []
    via_evidence = Evidence.filter(team_id=team_id, link__in=list(urls)).values_list(
        "bet_id", flat=True
    )
    ids = set(await Bet.filter(team_id=team_id, link__in=list(urls)).values_list("id", flat=True))
    ids |= set(await via_evidence)
    return await Bet.filter(team_id=team_id, id__in=list(ids)).order_by("number").limit(limit)


async def queue_notice(
    team_id: str,
    channel_id: str,
    message_ts: str,
    bets: Sequence[Any],
    *,
    now: datetime,
    payload: Callable[[Sequence[Any]], dict[str, Any]],
) -> Outbox | None:
    """Queue the notice in the message's thread, once per message: a retried delivery finds
    the row the first one wrote (both wait on the first bet's lock)."""
    async with in_transaction():
        await Bet.filter(team_id=team_id, id=bets[0].id).select_for_update().first()
        if await Outbox.exists(
            team_id=team_id, channel_id=channel_id, kind=NOTICE, thread_ts=message_ts
        ):
            return None
        return await Outbox.create(
            team_id=team_id,
            channel_id=channel_id,
            kind=NOTICE,
            bet_id=bets[0].id,
            thread_ts=message_ts,
            payload=payload(bets),
            next_attempt_at=now,
            created_at=now,
        )
