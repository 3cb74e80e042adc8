"""The lifecycle of a bet: which moves are legal from which state, and what each one stamps.

proposed --start--> building --ship--> shipped --validate--> validated
    |                  |                  +----invalidate--> invalidated
    +------kill--------+------kill--------+------kill------> killed
"""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import datetime
from enum import StrEnum


class State(StrEnum):
    PROPOSED = "proposed"
    BUILDING = "building"
    SHIPPED = "shipped"
    VALIDATED = "validated"
    INVALIDATED = "invalidated"
    KILLED = "killed"

    @property
    def is_final(self) -> bool:
        return self in FINAL_STATES


class Move(StrEnum):
    START = "start"
    SHIP = "ship"
    VALIDATE = "validate"
    INVALIDATE = "invalidate"
    KILL = "kill"


FINAL_STATES = frozenset({State.VALIDATED, State.INVALIDATED, State.KILLED})
OPEN_STATES = frozenset(set(State) - FINAL_STATES)

_NEXT: dict[tuple[State, Move], State] = {
    (State.PROPOSED, Move.START): State.BUILDING,
    (State.PROPOSED, Move.SHIP): State.SHIPPED,
    (State.BUILDING, Move.SHIP): State.SHIPPED,
    (State.SHIPPED, Move.VALIDATE): State.VALIDATED,
    (State.SHIPPED, Move.INVALIDATE): State.INVALIDATED,
    (State.PROPOSED, Move.KILL): State.KILLED,
    (State.BUILDING, Move.KILL): State.KILLED,
    (State.SHIPPED, Move.KILL): State.KILLED,
}

# Which timestamp a move sets on the bet.
_STAMP: dict[Move, str] = {
    Move.START: "started_at",
    Move.SHIP: "shipped_at",
    Move.VALIDATE: "closed_at",
    Move.INVALIDATE: "closed_at",
    Move.KILL: "closed_at",
}

# Moves that close a bet: only its owner, its creator or an admin may make them.
CLOSING_MOVES = frozenset({Move.VALIDATE, Move.INVALIDATE, Move.KILL})


def allowed_moves(state: State) -> tuple[Move, ...]:
    """The moves legal from `state`, in lifecycle order."""
    return tuple(move for move in Move if (state, move) in _NEXT)


@dataclass(frozen=True)
class MoveRequest:
    """What someone asked for: a move plus the words that came with it."""

    move: Move
    text: str = ""  # evidence for validate/invalidate, the reason for kill
    link: str | None = None
    learned: str = ""  # "what did we learn?" for invalidate and kill


@dataclass(frozen=True)
class Change:
    """A legal move, ready to be written: new state, stamps and the event's data."""

    move: Move
    from_state: State
    to_state: State
    at: datetime
    stamps: dict[str, datetime] = field(default_factory=dict)
    data: dict[str, str] = field(default_factory=dict)


class RefusalReason(StrEnum):
    ILLEGAL = "illegal"  # the move is not legal from the state
    NEEDS_EVIDENCE = "needs_evidence"  # validate / invalidate without any evidence
    NEEDS_REASON = "needs_reason"  # kill without a reason


@dataclass(frozen=True)
class Refusal:
    """A move that cannot be made: why, and the moves that are legal from `state`."""

    reason: RefusalReason
    move: Move
    state: State
    allowed: tuple[Move, ...] = ()


def transition(
    state: State, request: MoveRequest, *, now: datetime, has_decisive_evidence: bool = False
) -> Change | Refusal:
    """Decide whether `request` is legal from `state` and what it changes."""
    move = request.move
    target = _NEXT.get((state, move))
    allowed = allowed_moves(state)
    if target is None:
        return Refusal(RefusalReason.ILLEGAL, move, state, allowed)
    text = request.text.strip()
    if move in (Move.VALIDATE, Move.INVALIDATE) and not (
        text or request.link or has_decisive_evidence
    ):
        return Refusal(RefusalReason.NEEDS_EVIDENCE, move, state, allowed)
    if move is Move.KILL and not text:
        return Refusal(RefusalReason.NEEDS_REASON, move, state, allowed)
    data: dict[str, str] = {}
    if text:
        data["reason" if move is Move.KILL else "text"] = text
    if request.link:
        data["link"] = request.link
    if request.learned.strip():
        data["learned"] = request.learned.strip()
    return Change(
        move=move,
        from_state=state,
        to_state=target,
        at=now,
        stamps={_STAMP[move]: now},
        data=data,
    )
