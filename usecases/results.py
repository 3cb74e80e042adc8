"""What a use case answers: done (a value per use case) or refused, with the reason as a
typed value and the moves that are legal from here. Never words: bot/ says them."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime
from enum import StrEnum
from typing import Any

from bets.hypothesis import Part
from bets.lifecycle import Move, State
from storage.db import UNREACHABLE

# Errors that mean the database could not be reached: nothing was changed, try again.
DATABASE_UNREACHABLE = UNREACHABLE


class Why(StrEnum):
    """Why a use case changed nothing."""

    NO_SUCH_BET = "no_such_bet"
    NO_SUCH_EVIDENCE = "no_such_evidence"
    ILLEGAL_MOVE = "illegal_move"  # the move is not legal from the bet's state
    NEEDS_EVIDENCE = "needs_evidence"  # validate / invalidate without evidence
    NEEDS_REASON = "needs_reason"  # kill without a reason
    NOT_YOURS_TO_CLOSE = "not_yours_to_close"
    CLOSED = "closed"  # a closed bet takes no evidence and no change
    WRONG_STATE = "wrong_state"  # e.g. snooze needs a shipped bet
    NOT_PIVOTABLE = "not_pivotable"  # only a closed bet can be pivoted
    ALREADY_EVIDENCE = "already_evidence"  # that Slack message is evidence already
    EMPTY_EVIDENCE = "empty_evidence"
    BAD_WHEN = "bad_when"  # not a duration or a future date
    PAST_DATE = "past_date"
    NO_CHANNEL = "no_channel"  # needs to run in a channel
    NO_BETS_HERE = "no_bets_here"
    NO_HYPOTHESIS = "no_hypothesis"  # no change or no outcome: not a bet yet
    NO_BOARD = "no_board"  # `board off` where no board was turned on


@dataclass(frozen=True)
class Refused:
    """Nothing was changed, and why. `allowed` lists the moves legal from `state`."""

    why: Why
    number: int | None = None  # the bet, when there is one
    state: State | None = None
    move: Move | None = None
    allowed: tuple[Move, ...] = ()
    needs: tuple[State, ...] = ()  # WRONG_STATE: the states that could take it
    quoted: str = ""  # what the person typed, for BAD_WHEN
    other_number: int | None = None  # ALREADY_EVIDENCE: the bet it is evidence on
    owner_id: str = ""  # NOT_YOURS_TO_CLOSE: who may
    creator_id: str = ""
    missing: tuple[Part, ...] = ()  # NO_HYPOTHESIS: what the hypothesis lacks


@dataclass(frozen=True)
class Happened:
    """One line of a bet's history (an event), as a plain value."""

    kind: str
    actor_id: str
    at: datetime
    from_state: str | None
    to_state: str | None
    data: dict[str, Any]
