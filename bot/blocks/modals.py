"""The modals: New bet, Add evidence, and closing a bet; read_values() reads them back."""

from __future__ import annotations

import json
from collections.abc import Callable, Mapping
from typing import Any

from bets.evidence import Verdict
from bets.hypothesis import MAX_TEXT, MAX_TITLE
from bets.keys import format_key
from bets.lifecycle import Move
from bot.blocks import ids
from bot.blocks.card import VERDICT_EMOJI, headline
from bot.blocks.text import (
    MAX_HINT,
    MAX_LABEL,
    MAX_OPTION_TEXT,
    MAX_PLACEHOLDER,
    MAX_PRIVATE_METADATA,
    MAX_VIEW_BUTTON,
    MAX_VIEW_TITLE,
    Block,
    context,
    escape,
    is_web_url,
    plain,
    section,
    truncate,
    user,
)

VERDICTS = (Verdict.SUPPORTS, Verdict.REFUTES, Verdict.INCONCLUSIVE)
_CLOSE_MOVES = (Move.VALIDATE, Move.INVALIDATE, Move.KILL)


def _plain(text: str, limit: int) -> Block:
    return plain(truncate(escape(text), limit))


def _modal(
    callback_id: str, title: str, submit: str, blocks: list[Block], metadata: dict[str, Any]
) -> Block:
    private_metadata = json.dumps(metadata, separators=(",", ":"))
    if len(private_metadata) > MAX_PRIVATE_METADATA:
        raise ValueError("private_metadata over Slack's limit")
    return {
        "type": "modal",
        "callback_id": callback_id,
        "private_metadata": private_metadata,
        "title": _plain(title, MAX_VIEW_TITLE),
        "submit": _plain(submit, MAX_VIEW_BUTTON),
        "close": _plain("Cancel", MAX_VIEW_BUTTON),
        "blocks": blocks,
    }


def _input(
    field: str, label: str, element: Block, *, optional: bool = False, hint: str | None = None
) -> Block:
    """An input block whose block_id and action_id are both `field`."""
    block: Block = {
        "type": "input",
        "block_id": field,
        "label": _plain(label, MAX_LABEL),
        "element": {**element, "action_id": field},
        "optional": optional,
    }
    if hint:
        block["hint"] = _plain(hint, MAX_HINT)
    return block


def _text_input(
    *,
    max_length: int,
    multiline: bool = False,
    placeholder: str | None = None,
    initial: str | None = None,
) -> Block:
    element: Block = {"type": "plain_text_input", "multiline": multiline, "max_length": max_length}
    if placeholder:
        element["placeholder"] = _plain(placeholder, MAX_PLACEHOLDER)
    if initial:
        # An input's value is never parsed as mrkdwn: it goes in raw, only cut to fit.
        element["initial_value"] = initial[:max_length]
    return element


def _url_input(initial: str | None = None) -> Block:
    element: Block = {"type": "url_text_input", "placeholder": _plain("https://…", MAX_PLACEHOLDER)}
    if initial and is_web_url(initial):  # Slack refuses the view over anything else
        element["initial_value"] = initial
    return element


def _link_input(label: str) -> Block:
    return _input(ids.F_LINK, label, _url_input(), optional=True)


def _bet_context(bet: Any) -> Block:
    return context(f"{headline(bet)} · owner {user(bet.owner_id)}")


def new_bet_modal(
    *,
    channel_id: str,
    owner_id: str,
    errors: Mapping[str, str] | None = None,
    initial: Mapping[str, str] | None = None,
) -> Block:
    """The New bet form. `initial` pre-fills fields by id; `errors` are shown above the form."""
    values = dict(initial or {})
    blocks: list[Block] = []
    if errors:
        blocks.append(section("\n".join(f"⚠️ {escape(message)}" for message in errors.values())))
    owner: Block = {"type": "users_select", "placeholder": _plain("Who owns it?", MAX_PLACEHOLDER)}
    if owner_id:
        owner["initial_user"] = owner_id
    channel: Block = {
        "type": "conversations_select",
        "placeholder": _plain("Where its card and nudges go", MAX_PLACEHOLDER),
        "default_to_current_conversation": True,
        "response_url_enabled": False,
        "filter": {"include": ["public", "private"], "exclude_bot_users": True},
    }
    if channel_id:
        channel["initial_conversation"] = channel_id
    blocks += [
        _input(
            ids.F_TITLE,
            "Title",
            _text_input(max_length=MAX_TITLE, initial=values.get(ids.F_TITLE)),
        ),
        _input(
            ids.F_HYPOTHESIS,
            "Hypothesis",
            _text_input(
                max_length=MAX_TEXT,
                multiline=True,
                placeholder="We believe <change> for <whom> will <outcome>",
                initial=values.get(ids.F_HYPOTHESIS),
            ),
        ),
        _input(
            ids.F_SIGNAL,
            "Signal",
            _text_input(
                max_length=MAX_TEXT,
                placeholder="We'll know when <measurable signal>",
                initial=values.get(ids.F_SIGNAL),
            ),
            optional=True,
            hint="What would tell us it worked? A number or a rate makes it testable.",
        ),
        _input(ids.F_OWNER, "Owner", owner),
        _input(ids.F_LINK, "Link", _url_input(values.get(ids.F_LINK)), optional=True),
        _input(
            ids.F_EXPECT,
            "When should the signal show?",
            _text_input(
                max_length=40, placeholder="10d or 2026-12-01", initial=values.get(ids.F_EXPECT)
            ),
            optional=True,
            hint="Nudges about missing evidence start from then.",
        ),
        _input(ids.F_CHANNEL, "Channel", channel),
    ]
    return _modal(ids.NEW_BET_VIEW, "New bet", "Create bet", blocks, {"channel_id": channel_id})


def evidence_modal(bet: Any, *, verdict: str | None = None) -> Block:
    """Add evidence to a bet: a verdict (preselected when given), and what was seen and/or a
    link."""
    options = [
        {
            "text": _plain(f"{VERDICT_EMOJI[verdict]} {verdict.capitalize()}", MAX_OPTION_TEXT),
            "value": verdict,
        }
        for verdict in VERDICTS
    ]
    blocks = [
        _bet_context(bet),
        _input(
            ids.F_VERDICT,
            "What does it say?",
            {
                "type": "radio_buttons",
                "options": options,
                **({"initial_option": options[VERDICTS.index(verdict)]} if verdict else {}),
            },
        ),
        _input(
            ids.F_TEXT,
            "What did you see?",
            _text_input(max_length=MAX_TEXT, multiline=True),
            optional=True,
            hint="Words, a link, or both.",
        ),
        _link_input("Link"),
    ]
    title = f"Evidence on {format_key(bet.number)}"
    return _modal(ids.EVIDENCE_VIEW, title, "Add evidence", blocks, {"bet_id": bet.id})


def _evidence_hint(bet: Any) -> str:
    if bet.first_feedback_at is not None:
        return f"Optional: {format_key(bet.number)} already has decisive evidence."
    return "Say what you saw, give a link, or both."


def close_modal(bet: Any, move: Move) -> Block:
    """Validate, invalidate or kill a bet, asking for what each move needs."""
    if move not in _CLOSE_MOVES:
        raise ValueError(f"close_modal takes validate, invalidate or kill, not {move}")
    learned = _input(
        ids.F_LEARNED,
        "What did we learn?",
        _text_input(max_length=MAX_TEXT, multiline=True),
    )
    blocks = [_bet_context(bet)]
    if move is Move.KILL:
        reason = _text_input(max_length=MAX_TEXT, multiline=True)
        blocks += [_input(ids.F_TEXT, "Why stop it?", reason), learned]
    else:
        evidence = _text_input(max_length=MAX_TEXT, multiline=True)
        blocks += [
            _input(
                ids.F_TEXT, "What did you see?", evidence, optional=True, hint=_evidence_hint(bet)
            ),
            _link_input("Link to the evidence"),
        ]
        if move is Move.INVALIDATE:
            blocks.append(learned)
    title = f"{move.capitalize()} {format_key(bet.number)}"
    submit = "Kill bet" if move is Move.KILL else move.capitalize()
    metadata = {"bet_id": bet.id, "move": str(move)}
    return _modal(ids.CLOSE_VIEW, title, submit, blocks, metadata)


# How each input element reports its value in view.state.values.
_READERS: dict[str, Callable[[Mapping[str, Any]], Any]] = {
    "plain_text_input": lambda state: state.get("value"),
    "url_text_input": lambda state: state.get("value"),
    "email_text_input": lambda state: state.get("value"),
    "number_input": lambda state: state.get("value"),
    "users_select": lambda state: state.get("selected_user"),
    "conversations_select": lambda state: state.get("selected_conversation"),
    "channels_select": lambda state: state.get("selected_channel"),
    "radio_buttons": lambda state: (state.get("selected_option") or {}).get("value"),
    "static_select": lambda state: (state.get("selected_option") or {}).get("value"),
    "datepicker": lambda state: state.get("selected_date"),
}


def read_values(view_state_values: Mapping[str, Mapping[str, Any]]) -> dict[str, str | None]:
    """Flatten view.state.values to {action_id: value}; blank answers become None."""
    values: dict[str, str | None] = {}
    for actions in view_state_values.values():
        for action_id, state in actions.items():
            reader = _READERS.get(state.get("type", ""))
            if reader is None:
                continue
            value = reader(state)
            values[action_id] = value.strip() or None if isinstance(value, str) else None
    return values
