"""Hypobot's answers in a bet's thread: what to make of a reply, and short confirmations."""

from __future__ import annotations

from typing import Any

from bets.evidence import Verdict
from bets.keys import format_key
from bets.lifecycle import Move, State, allowed_moves
from bot.blocks import ids
from bot.blocks.card import VERDICT_EMOJI
from bot.blocks.lists import message
from bot.blocks.text import Block, actions, button, escape, section, user


def reply_prompt(bet: Any, evidence: Any) -> list[Block]:
    """Asks what a reply recorded as evidence says; outcome buttons only where legal."""
    key = format_key(bet.number)
    value = str(evidence.id)
    legal = allowed_moves(State(bet.state))
    buttons = [
        button(f"{VERDICT_EMOJI[Verdict.SUPPORTS]} Supports", ids.VERDICT_SUPPORTS, value),
        button(f"{VERDICT_EMOJI[Verdict.REFUTES]} Refutes", ids.VERDICT_REFUTES, value),
        button("📝 Just a note", ids.VERDICT_NOTE, value),
    ]
    if Move.VALIDATE in legal:
        buttons.append(button(f"✅ Validate {key}", ids.REPLY_VALIDATE, value, "primary"))
    if Move.INVALIDATE in legal:
        buttons.append(button(f"❌ Invalidate {key}", ids.REPLY_INVALIDATE, value))
    return [
        section(f"Recorded as evidence on *{key}* (verdict unknown). What does it say?"),
        actions(*buttons),
    ]


def reply_answered(bet: Any, evidence: Any, verdict_label: str) -> list[Block]:
    """Replaces the prompt once someone has answered it: no buttons left to click."""
    key = format_key(bet.number)
    return [
        section(
            f"{user(evidence.author_id)}'s reply is evidence on *{key}*: {escape(verdict_label)}."
        )
    ]


def confirmation(text: str) -> list[Block]:
    """A short ephemeral "done"; `text` is mrkdwn whose user parts are already escaped."""
    return message(f"✅ {text}")
