"""Bets written for a test through the real use cases (no Slack in between)."""

from __future__ import annotations

from datetime import datetime

from bets.evidence import Verdict
from bets.lifecycle import MoveRequest
from bets.metrics import BetFacts
from usecases import bets as usecase
from usecases.bets import BetDraft, Created, NewEvidence
from usecases.context import Actor, Context
from usecases.results import Refused


def at(now: datetime) -> Context:
    return Context(clock=lambda: now)


async def stored_bet(
    team_id: str,
    *,
    now: datetime,
    channel: str = "C1",
    title: str = "Faster search",
    hypothesis: str = "We believe faster search for admins will cut tickets",
    signal: str = "tickets drop 20%",
    owner: str = "U1",
) -> BetFacts:
    """A new bet (its event and card row queued), as `/hypothesis new` makes it."""
    made = await usecase.create(
        at(now),
        Actor(team_id, owner, channel),
        BetDraft(channel_id=channel, title=title, hypothesis=hypothesis, signal=signal),
    )
    assert isinstance(made, Created), made
    return made.bet


async def moved(
    team_id: str, bet_id: int, request: MoveRequest, *, now: datetime, actor: str = "U1"
) -> BetFacts:
    done = await usecase.move(at(now), Actor(team_id, actor), request, source="test", bet_id=bet_id)
    assert not isinstance(done, Refused), done
    return done.bet


async def evidence(
    team_id: str, bet_id: int, verdict: Verdict, text: str, *, now: datetime, actor: str = "U1"
) -> None:
    done = await usecase.add_evidence(
        at(now), Actor(team_id, actor), NewEvidence(verdict, text, "command"), bet_id=bet_id
    )
    assert not isinstance(done, Refused), done
