"""The kinds of message the outbox carries: one name per kind, everywhere."""

from __future__ import annotations

from enum import StrEnum


class Kind(StrEnum):
    """What an outbox row is. Rows whose payload is rendered when they are sent (the card)
    carry no payload; the others carry the message as queued."""

    CARD = "card"  # a bet's card: posted once, then updated in place (its thread is the bet's)
    REPLY = "reply"  # Hypobot's answer to a reply in a bet's thread
    EVIDENCE = "evidence"  # evidence from elsewhere (API, workflow step), in the bet's thread
    NUDGE = "nudge"  # chasing a shipped bet's evidence, in its thread
    ESCALATION = "escalation"  # the lead mentioned, in the bet's thread
    DIGEST = "digest"  # a channel's daily summary
    REPORT = "report"  # `/hypothesis report`, posted in the channel
    LINK = "link"  # which bet a pasted link belongs to, in the message's thread

    @property
    def in_bet_thread(self) -> bool:
        """Goes in the bet's thread: queued before the bet has a card, it waits for it."""
        return self in _IN_BET_THREAD


_IN_BET_THREAD = frozenset({Kind.NUDGE, Kind.ESCALATION})
