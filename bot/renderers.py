"""Messages made when they are sent, from what their outbox row points at as it is then:
the renderers the sender is handed (it never imports the Slack edge itself)."""

from __future__ import annotations

from collections.abc import Mapping
from datetime import datetime

from bot.blocks import card as card_blocks
from outbox.kinds import Kind
from outbox.sender import Post, Render
from storage.models import Outbox
from usecases import views


async def card_message(team_id: str, bet_id: int, now: datetime) -> Post | None:
    """A bet's card as chat.postMessage / chat.update arguments, with its dates in the
    channel's zone (T7), replacing its card message once there is one; None when the bet is
    gone (purged)."""
    facts = await views.card_of(team_id, bet_id, now=now)
    if facts is None:
        return None
    bet = facts.bet
    blocks = card_blocks.card(
        bet,
        now=now,
        tz=facts.tz,
        pivot_of_number=facts.pivot_of_number,
        forecast=facts.forecast,
    )
    return Post({"text": card_blocks.card_text(bet), "blocks": blocks}, update_ts=bet.card_ts)


async def card(row: Outbox, now: datetime) -> Post | None:
    """The card an outbox row asks for, as its bet is when the row is sent."""
    bet_id = row.bet_id  # type: ignore[attr-defined]
    return await card_message(row.team_id, bet_id, now) if bet_id else None


RENDERERS: Mapping[Kind, Render] = {Kind.CARD: card}
