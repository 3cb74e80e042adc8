"""The one fan-out point: whatever changes a bet (a command, a button, a form, a thread
reply, the API, a workflow step, an import, a job) writes the change's event here, and in
the same unit of work queues every view of the bet that must follow it: its card, and its
channel's board when that is on. A new view is one more line here; no use case names a
view itself.
"""

from __future__ import annotations

from collections.abc import Iterable, Sequence
from dataclasses import dataclass
from datetime import datetime
from typing import Any
from zoneinfo import ZoneInfo

from bets.forecasts import BetForecast, NoForecast
from bets.metrics import BetFacts
from outbox import queue
from outbox.kinds import Kind
from storage import bets as store
from storage.models import Bet, Outbox
from usecases import flow

# Changes the card does not show (it shows no nudge count, nor who was told): the other
# views still follow them.
_NOT_ON_CARD = frozenset({Kind.NUDGE.value, Kind.ESCALATION.value})


def _views(
    team_id: str, channel_id: str, bet_id: int | None, *, event: str, now: datetime
) -> list[Outbox]:
    """The outbox rows that bring every view of the bet up to date with a change of kind
    `event`. Each is rendered when it is sent, from the bet as it is then."""
    views = []
    if event not in _NOT_ON_CARD:
        views.append(queue.draft(Kind.CARD, team_id, channel_id, bet_id=bet_id, now=now))
    return views


async def new_bet(team_id: str, channel_id: str, *, now: datetime) -> list[Outbox]:
    """The views of a bet being created: its channel's board is queued now (before the
    workspace's key lock is taken: it is rendered after commit anyway), the rest are
    returned as drafts to write with the bet (its id is filled in then)."""
    await queue.refresh_board(team_id, channel_id, now=now)
    return _views(team_id, channel_id, None, event="created", now=now)


def created(views: Sequence[Outbox]) -> None:
    """`new_bet`'s rows were written with the bet: the sender hears of them after commit."""
    queue.written(views)


async def changed(
    bet: Bet,
    *,
    actor_id: str,
    now: datetime,
    kind: str,
    from_state: str | None = None,
    to_state: str | None = None,
    data: dict[str, Any] | None = None,
    messages: Iterable[Outbox] = (),
) -> None:
    """Record a change of `bet` (its event) and queue every view that must follow it, with
    the change's own `messages` (say, Hypobot's answer in the bet's thread), in the
    caller's unit of work."""
    await store.write_event(
        bet,
        team_id=bet.team_id,
        actor_id=actor_id,
        now=now,
        kind=kind,
        from_state=from_state,
        to_state=to_state,
        data=data,
    )
    await queue.put([*_views(bet.team_id, bet.channel_id, bet.id, event=kind, now=now), *messages])
    await queue.refresh_board(bet.team_id, bet.channel_id, now=now)


async def follow(bets: Iterable[BetFacts], *, event: str, now: datetime) -> list[Outbox]:
    """The views of several bets changed at once by a job (whose events it writes in bulk
    itself): their boards are queued now, the rest returned to queue with its own rows."""
    bets = list(bets)
    for team_id, channel_id in sorted({(bet.team_id, bet.channel_id) for bet in bets}):
        await queue.refresh_board(team_id, channel_id, now=now)
    return [
        view
        for bet in bets
        for view in _views(bet.team_id, bet.channel_id, bet.id, event=event, now=now)
    ]


async def channel_changed(team_id: str, channel_id: str, *, now: datetime) -> None:
    """Something every bet of a channel shows changed (its settings, an import): its views
    of them all follow (the cards are left as they are: they show no setting)."""
    await queue.refresh_board(team_id, channel_id, now=now)


@dataclass(frozen=True)
class CardFacts:
    """What a bet's card shows, read when the card is sent."""

    bet: BetFacts
    tz: ZoneInfo  # the channel's zone (T7)
    pivot_of_number: int | None
    forecast: BetForecast | NoForecast | None = None  # awaiting feedback: its forecast (F4)


async def card_of(
    team_id: str, bet_id: int, *, now: datetime, default_timezone: str = "UTC"
) -> CardFacts | None:
    """A bet as its card shows it now; None when the bet is gone (purged)."""
    bet = await store.bet_by_id(team_id, bet_id)
    if bet is None:
        return None
    pivot_of = await store.number_of(team_id, bet.pivot_of_id)  # type: ignore[attr-defined]
    channel = await store.get_channel(team_id, bet.channel_id)
    tz = ZoneInfo(channel.timezone if channel else default_timezone)
    value = store.bet_value(bet)
    forecasts = await flow.forecasts_of(team_id, [value], now=now)
    return CardFacts(value, tz, pivot_of, forecasts.get(value.number))
