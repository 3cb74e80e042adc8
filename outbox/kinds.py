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
    NOTICE = "notice"  # a plain word from Hypobot in a channel (where the board is) or a DM
    BOARD = "board"  # a channel's board: its canvas rewritten from the bets as they are then

    @property
    def in_bet_thread(self) -> bool:
        """Goes in the bet's thread: queued before the bet has a card, it waits for it."""
        return self in _IN_BET_THREAD


_IN_BET_THREAD = frozenset({Kind.NUDGE, Kind.ESCALATION})
# Kinds delivered to a canvas, not posted in the channel: the channel's posting limit is not
# theirs (canvases.edit has its own, Slack's tier 3), and sending one again changes nothing.
CANVAS_KINDS = frozenset({Kind.BOARD})


# A board's rewrites queue apart from its channel's posts, so that neither waits for the
# other's limits: their rows' channel_id is the board's lane, "C0123/board".
_BOARD_LANE = "/board"


def board_lane(channel_id: str) -> str:
    return channel_id + _BOARD_LANE


def channel_of_lane(channel_id: str) -> str:
    """The channel a row is about (its own channel, for a board's lane)."""
    return channel_id.removesuffix(_BOARD_LANE)
