"""Bets as `hypobot export` writes them: one record per bet, with its evidence and events.
The HTTP API answers with the same records, so a script reads one shape from either."""

from __future__ import annotations

from collections.abc import Sequence
from datetime import datetime
from typing import Any

from bets.lifecycle import State
from storage import bets as store
from storage.models import Bet


def _iso(moment: datetime | None) -> str | None:
    return moment.isoformat() if moment else None


def bet_record(bet: Any, evidence: Sequence[Any], events: Sequence[Any]) -> dict[str, Any]:
    """One bet's record; `evidence` and `events` may hold other bets' too (they are picked
    by bet id), oldest first."""
    return {
        "team_id": bet.team_id,
        "key": f"H-{bet.number}",
        "channel_id": bet.channel_id,
        "title": bet.title,
        "state": bet.state,
        "hypothesis": bet.hypothesis,
        "signal": bet.signal,
        "owner": bet.owner_id,
        "creator": bet.creator_id,
        "link": bet.link,
        "learned": bet.learned,
        "close_reason": bet.close_reason,
        "created_at": _iso(bet.created_at),
        "started_at": _iso(bet.started_at),
        "shipped_at": _iso(bet.shipped_at),
        "closed_at": _iso(bet.closed_at),
        "first_feedback_at": _iso(bet.first_feedback_at),
        "expected_at": _iso(bet.expected_at),
        "evidence": [
            {
                "text": e.text,
                "link": e.link,
                "verdict": e.verdict,
                "source": e.source,
                "author": e.author_id,
                "at": _iso(e.at),
                "permalink": e.permalink,
            }
            for e in evidence
            if e.bet_id == bet.id
        ],
        "events": [
            {
                "kind": e.kind,
                "actor": e.actor_id,
                "at": _iso(e.at),
                "from": e.from_state,
                "to": e.to_state,
                "data": e.data,
            }
            for e in events
            if e.bet_id == bet.id
        ],
    }


async def team_records(team_id: str) -> list[dict[str, Any]]:
    """Every bet of a workspace, by key."""
    evidence = await store.all_evidence(team_id)
    events = await store.all_events(team_id)
    return [bet_record(bet, evidence, events) for bet in await store.all_bets(team_id)]


async def record_of(team_id: str, number: int) -> dict[str, Any] | None:
    """One bet of a workspace by its key number, or None."""
    bet = await store.bet_by_number(team_id, number)
    return await _record_of_row(bet) if bet is not None else None


async def _record_of_row(bet: Bet) -> dict[str, Any]:
    evidence = sorted(await store.evidence_of(bet.team_id, bet.id), key=lambda e: (e.at, e.id))
    return bet_record(bet, evidence, await store.events_of(bet.team_id, bet.id))


async def records_in(
    team_id: str, *, state: State | None = None, limit: int = 200
) -> list[dict[str, Any]]:
    """A workspace's bets (in `state`, when given), by key, at most `limit` of them."""
    rows = await store.all_bets(team_id)
    if state is not None:
        rows = [bet for bet in rows if bet.state == state]
    return [await _record_of_row(bet) for bet in rows[:limit]]
