"""The "Record as evidence" message shortcut: its modal, the bet picker's options, and the
view that confirms what was recorded."""

from __future__ import annotations

import json
from collections.abc import Sequence
from typing import Any

from bets.hypothesis import MAX_TEXT
from bets.keys import format_key
from bot.blocks import ids
from bot.blocks.card import VERDICT_EMOJI, headline, shown

# The modal's field helpers are shared with the other modals rather than written twice.
from bot.blocks.modals import VERDICTS, _input, _modal, _plain, _text_input
from bot.blocks.text import (
    MAX_OPTION_TEXT,
    MAX_PLACEHOLDER,
    MAX_PRIVATE_METADATA,
    MAX_VIEW_BUTTON,
    MAX_VIEW_TITLE,
    Block,
    context,
    section,
    truncate,
    user,
)

MAX_OPTIONS = 100  # Slack shows at most 100 options from a block_suggestion answer
MAX_QUOTE_SHOWN = 300
MAX_NOTE = 1000


def _metadata_fitting(metadata: dict[str, Any], text: str) -> dict[str, Any]:
    """`metadata` plus as much of `text` as private_metadata can carry (cut with "…").

    JSON escapes grow text unevenly (an emoji takes 12 characters), so the longest cut that
    fits is found by bisection."""

    def with_text(limit: int) -> dict[str, Any]:
        return {**metadata, "text": truncate(text, limit)}

    def fits(limit: int) -> bool:
        size = len(json.dumps(with_text(limit), separators=(",", ":")))
        return size <= MAX_PRIVATE_METADATA

    low, high = 0, min(len(text), MAX_TEXT)
    while low < high:
        middle = (low + high + 1) // 2
        if fits(middle):
            low = middle
        else:
            high = middle - 1
    return with_text(low)


def record_modal(
    *,
    channel_id: str,
    message_ts: str,
    text: str,
    author_id: str | None,
    permalink: str | None,
) -> Block:
    """Pick a bet and a verdict for a message. `text` is the message's cleaned text, carried
    in private_metadata (cut to fit) so the submission needs no second look at Slack."""
    quote = shown(text, MAX_QUOTE_SHOWN) if text.strip() else "_(no text: its link is kept)_"
    who = f"{user(author_id)}'s message" if author_id else "This message"
    bet_picker: Block = {
        "type": "external_select",
        "placeholder": _plain("Type H-12 or words from its title", MAX_PLACEHOLDER),
        "min_query_length": 0,
    }
    verdicts = [
        {
            "text": _plain(f"{VERDICT_EMOJI[verdict]} {verdict.capitalize()}", MAX_OPTION_TEXT),
            "value": verdict,
        }
        for verdict in VERDICTS
    ]
    blocks = [
        context(f"{who}, recorded as evidence:\n>{quote}"),
        _input(ids.F_BET, "Which bet is it evidence on?", bet_picker),
        _input(ids.F_VERDICT, "What does it say?", {"type": "radio_buttons", "options": verdicts}),
        _input(
            ids.F_NOTE,
            "Note",
            _text_input(max_length=MAX_NOTE, multiline=True),
            optional=True,
            hint="Kept with the message's text, e.g. why it matters for this bet.",
        ),
    ]
    metadata = _metadata_fitting(
        {"channel_id": channel_id, "message_ts": message_ts, "permalink": permalink}, text
    )
    return _modal(ids.RECORD_EVIDENCE_VIEW, "Record as evidence", "Record", blocks, metadata)


def bet_option(bet: Any) -> Block:
    """`H-12 · Faster search`, the bet's id as value."""
    label = f"{format_key(bet.number)} · {bet.title}"
    return {"text": _plain(label, MAX_OPTION_TEXT), "value": str(bet.id)}


def bet_options(bets: Sequence[Any]) -> list[Block]:
    return [bet_option(bet) for bet in bets[:MAX_OPTIONS]]


def recorded_view(bet: Any, verdict: str) -> Block:
    """What the modal turns into once the evidence is in: where it went, nothing to submit."""
    return {
        "type": "modal",
        "title": _plain("Evidence recorded", MAX_VIEW_TITLE),
        "close": _plain("Done", MAX_VIEW_BUTTON),
        "blocks": [
            section(f"{VERDICT_EMOJI[verdict]} Recorded *{verdict}* evidence on {headline(bet)}."),
            context(f"Its card in <#{bet.channel_id}> shows it now."),
        ],
    }


def evidence_text(message_text: str, note: str) -> str:
    """The evidence's words: the message, then the note of whoever recorded it."""
    parts = [part for part in (message_text.strip(), note.strip()) if part]
    return truncate("\n\nNote: ".join(parts), MAX_TEXT)
