"""Bets as `hypobot export` writes them: one record per bet with everything it is (its
expected date as set, its pivot, snooze, coach notes, evidence and history), so that
`hypobot import` makes the same bet again and exporting that gives the same file.

The HTTP API answers with these very records (api/bodies.py: BetRecord, EvidenceRecord
name every field), so a script reads one shape from either."""

from __future__ import annotations

from collections.abc import Iterable, Sequence
from datetime import datetime
from typing import Any

from bets.keys import format_key
from bets.lifecycle import State
from storage import bets as store
from storage.imports import IMPORTED
from storage.models import Bet


def _iso(moment: datetime | None) -> str | None:
    return moment.isoformat() if moment else None


def _sorted_keys(value: Any) -> Any:
    """JSON data with its objects' keys in order: PostgreSQL's jsonb reorders them and
    SQLite keeps them as written, so the same history reads the same from either."""
    if isinstance(value, dict):
        return {key: _sorted_keys(value[key]) for key in sorted(value)}
    if isinstance(value, list):
        return [_sorted_keys(item) for item in value]
    return value


def bet_record(
    bet: Any, evidence: Sequence[Any], events: Sequence[Any], *, pivot_of: int | None = None
) -> dict[str, Any]:
    """One bet's record; `evidence` and `events` may hold other bets' too (they are picked
    by bet id), oldest first; `pivot_of` is the key number of the bet it pivots from.

    The history leaves out the bet's "imported" event: it notes where this database got
    the bet from (file, line), not something that happened to the bet, and an import
    writes its own. So an exported bet reads the same in every database it is imported
    into."""
    return {
        "team_id": bet.team_id,
        "key": format_key(bet.number),
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
        # "within N" of shipping (T1), in seconds, when that is how it was set.
        "expect_within_s": bet.expect_within_s,
        "snoozed_until": _iso(bet.snoozed_until),
        "pivot_of": format_key(pivot_of) if pivot_of is not None else None,
        "coach_notes": bet.coach_notes,
        "first_decisive_at": _iso(bet.first_decisive_at),
        "evidence": [
            {
                "text": e.text,
                "link": e.link,
                "verdict": e.verdict,
                "source": e.source,
                "source_name": e.source_name,
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
                "data": _sorted_keys(e.data),
            }
            for e in events
            if e.bet_id == bet.id and e.kind != IMPORTED
        ],
    }


def _pivot_numbers(bets: Iterable[Bet]) -> dict[int, int]:
    return {bet.id: bet.number for bet in bets}


async def team_export(team_id: str) -> list[dict[str, Any]]:
    """Every bet of a workspace, by key, with everything `hypobot import` reads back."""
    bets = await store.all_bets(team_id)
    evidence = await store.all_evidence(team_id)
    events = await store.all_events(team_id)
    numbers = _pivot_numbers(bets)
    return [
        bet_record(bet, evidence, events, pivot_of=numbers.get(bet.pivot_of_id))  # type: ignore[attr-defined]
        for bet in bets
    ]


async def team_records(team_id: str) -> list[dict[str, Any]]:
    """Every bet of a workspace, by key, as the API answers with them: the export's
    records, one shape for both."""
    return await team_export(team_id)


async def record_of(team_id: str, number: int) -> dict[str, Any] | None:
    """One bet of a workspace by its key number (its export record), or None."""
    bet = await store.bet_by_number(team_id, number)
    return await _record_of_row(bet) if bet is not None else None


async def _record_of_row(bet: Bet) -> dict[str, Any]:
    evidence = sorted(await store.evidence_of(bet.team_id, bet.id), key=lambda e: (e.at, e.id))
    pivot_of = await store.number_of(bet.team_id, bet.pivot_of_id)  # type: ignore[attr-defined]
    return bet_record(bet, evidence, await store.events_of(bet.team_id, bet.id), pivot_of=pivot_of)


async def records_in(
    team_id: str, *, state: State | None = None, limit: int = 200
) -> list[dict[str, Any]]:
    """A workspace's bets (in `state`, when given), by key, at most `limit` of them, as
    export records."""
    rows = await store.all_bets(team_id)
    if state is not None:
        rows = [bet for bet in rows if bet.state == state]
    return [await _record_of_row(bet) for bet in rows[:limit]]
