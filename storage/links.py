"""Links attached to bets (a bet's link, an evidence link), and the one notice per message
that says which bet a pasted link belongs to."""

from __future__ import annotations

from collections.abc import Collection

from storage.models import Bet, Evidence


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


async def lock(team_id: str, bet_id: int) -> None:
    """Lock a bet's row for the rest of the unit of work (deliveries of one message queue
    here, so only the first queues its notice)."""
    await Bet.filter(team_id=team_id, id=bet_id).select_for_update().first()
