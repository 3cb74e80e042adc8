"""Filling in a modal on the terminal: one prompt per input block, answers as view.state.

Slack's client checks required fields and lengths before it submits; so does this. The app's
own checks come back as `response_action: errors` and are asked again.
"""

from __future__ import annotations

import re
from collections.abc import Callable
from dataclasses import dataclass, field
from datetime import date
from typing import Any

from console.render import plain

Json = dict[str, Any]

CANCEL = "cancel"
TEXT_INPUTS = frozenset(
    {"plain_text_input", "url_text_input", "email_text_input", "number_input", "rich_text_input"}
)
CHOICES = frozenset({"radio_buttons", "static_select", "checkboxes"})


@dataclass(frozen=True)
class Field:
    """One input block of the modal."""

    block_id: str
    label: str
    optional: bool
    element: Json
    hint: str = ""

    @property
    def kind(self) -> str:
        return str(self.element.get("type", ""))

    @property
    def action_id(self) -> str:
        return str(self.element.get("action_id", self.block_id))

    @property
    def options(self) -> list[Json]:
        return list(self.element.get("options") or [])

    def placeholder(self) -> str:
        return plain(self.element.get("placeholder"))

    def default(self) -> Any:
        """What an empty answer keeps: the element's initial value, if it has one."""
        e = self.element
        for key in ("initial_value", "initial_user", "initial_conversation", "initial_channel"):
            if e.get(key):
                return e[key]
        if e.get("initial_option"):
            return e["initial_option"]
        if e.get("initial_date"):
            return e["initial_date"]
        return None


@dataclass
class Answer:
    """A field's state as Slack reports it, or the reason the answer can't be taken."""

    state: Json | None = None
    problem: str = ""


# --- reading one answer ------------------------------------------------------------------

_USER_TOKEN = re.compile(r"^<@([A-Z0-9_]+)(?:\|[^>]*)?>$")
_CHANNEL_TOKEN = re.compile(r"^<#([A-Z0-9_]+)(?:\|[^>]*)?>$")


@dataclass
class Directory:
    """How typed names become ids: `@name` → a user, `#name` → a channel."""

    user_id: Callable[[str], str]
    channel_id: Callable[[str], str]


def _choice(field: Field, typed: str) -> Json | None:
    options = field.options
    if typed.isdigit() and 1 <= int(typed) <= len(options):
        return options[int(typed) - 1]
    lowered = typed.lower()
    for option in options:
        value = str(option.get("value", "")).lower()
        words = re.sub(r"^\W+", "", plain(option.get("text")).lower())  # past any emoji
        if value.startswith(lowered) or words.startswith(lowered):
            return option
    return None


def read(field: Field, typed: str, names: Directory) -> Answer:
    """The state Slack would send for `typed` in `field`, or why it isn't acceptable."""
    typed = typed.strip()
    kind = field.kind
    default = field.default()
    if not typed and default is None:
        if field.optional:
            return Answer(_empty(kind))
        return Answer(problem="Please fill in this field (it is required).")
    if kind in TEXT_INPUTS:
        value = typed or str(default)
        limit = field.element.get("max_length")
        if limit and len(value) > int(limit):
            return Answer(problem=f"Please keep it under {int(limit):,} characters.")
        low = field.element.get("min_length")
        if low and len(value) < int(low):
            return Answer(problem=f"Please use at least {int(low)} characters.")
        return Answer({"type": kind, "value": value})
    if kind in ("radio_buttons", "static_select"):
        option = _choice(field, typed) if typed else default
        if option is None:
            return Answer(problem=f"Type a number from 1 to {len(field.options)} (or cancel).")
        return Answer({"type": kind, "selected_option": option})
    if kind == "checkboxes":
        picked = [_choice(field, part.strip()) for part in typed.split(",") if part.strip()]
        if typed and None in picked:
            return Answer(problem="Type the numbers of the boxes to tick, e.g. 1,3.")
        return Answer({"type": kind, "selected_options": picked or default or []})
    if kind == "users_select":
        return Answer({"type": kind, "selected_user": _user(typed, names) if typed else default})
    if kind == "multi_users_select":
        users = [_user(part, names) for part in re.split(r"[,\s]+", typed) if part]
        return Answer({"type": kind, "selected_users": users})
    if kind in ("conversations_select", "channels_select"):
        key = "selected_conversation" if kind == "conversations_select" else "selected_channel"
        return Answer({"type": kind, key: _channel(typed, names) if typed else default})
    if kind == "datepicker":
        try:
            day = date.fromisoformat(typed) if typed else date.fromisoformat(str(default))
        except ValueError:
            return Answer(problem="Type a date like 2026-12-01.")
        return Answer({"type": kind, "selected_date": day.isoformat()})
    return Answer({"type": kind})


def _empty(kind: str) -> Json:
    """What Slack sends for an optional field left blank."""
    key = {
        "radio_buttons": "selected_option",
        "static_select": "selected_option",
        "users_select": "selected_user",
        "conversations_select": "selected_conversation",
        "channels_select": "selected_channel",
        "datepicker": "selected_date",
        "checkboxes": "selected_options",
        "multi_users_select": "selected_users",
    }.get(kind, "value")
    return {"type": kind, key: [] if key.endswith("s") else None}


def _user(typed: str, names: Directory) -> str:
    match = _USER_TOKEN.match(typed)
    return match[1] if match else names.user_id(typed)


def _channel(typed: str, names: Directory) -> str:
    match = _CHANNEL_TOKEN.match(typed)
    return match[1] if match else names.channel_id(typed)


# --- the whole form ----------------------------------------------------------------------


@dataclass
class Form:
    """A modal being filled in: which fields are left to ask, and the answers so far."""

    view: Json
    fields: list[Field]
    answers: dict[str, Json] = field(default_factory=dict)
    queue: list[int] = field(default_factory=list)

    @classmethod
    def of(cls, view: Json) -> Form:
        fields = [
            Field(
                block_id=str(block.get("block_id", "")),
                label=plain(block.get("label")),
                optional=bool(block.get("optional")),
                element=dict(block.get("element") or {}),
                hint=plain(block.get("hint")),
            )
            for block in view.get("blocks") or []
            if block.get("type") == "input"
        ]
        return cls(view=view, fields=fields, queue=list(range(len(fields))))

    @property
    def title(self) -> str:
        return plain(self.view.get("title"))

    @property
    def submit_label(self) -> str:
        return plain(self.view.get("submit")) or "Submit"

    @property
    def shown_blocks(self) -> list[Json]:
        """The blocks that are not inputs: what the modal says above its fields."""
        return [b for b in self.view.get("blocks") or [] if b.get("type") != "input"]

    def current(self) -> Field | None:
        return self.fields[self.queue[0]] if self.queue else None

    def take(self, state: Json) -> None:
        field = self.fields[self.queue.pop(0)]
        self.answers[field.block_id] = {field.action_id: state}

    def values(self) -> dict[str, dict[str, Json]]:
        """view.state.values: every input block, blank ones included, as Slack sends them."""
        return {
            f.block_id: self.answers.get(f.block_id) or {f.action_id: _empty(f.kind)}
            for f in self.fields
        }

    def ask_again(self, errors: dict[str, str]) -> None:
        """After `response_action: errors`: the fields named, in form order."""
        self.queue = [i for i, f in enumerate(self.fields) if f.block_id in errors]
