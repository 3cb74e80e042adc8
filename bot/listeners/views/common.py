"""Reading a submitted modal: who, which workspace, its fields, and its private metadata."""

from __future__ import annotations

import json
from typing import Any

from slack_bolt.context.ack.async_ack import AsyncAck

from bot import grammar
from bot.answers import Actor
from bot.blocks import modals
from bot.blocks.text import escape

MAX_LINK = 2000


def actor_of(body: dict[str, Any], channel_id: str | None = None) -> Actor:
    team = (body.get("team") or {}).get("id") or body["user"]["team_id"]
    return Actor(team, body["user"]["id"], channel_id)


def fields_of(view: dict[str, Any]) -> dict[str, str | None]:
    return modals.read_values(view.get("state", {}).get("values", {}))


def typed_text(value: str | None) -> str:
    """Text as typed in a modal input, made storable.

    Slack sends input values raw, not escaped like message text, so `&amp;` or `<b>` typed
    there is meant literally; escaping first makes clean_text's decoding a round trip.
    """
    return grammar.clean_text(escape(value or ""))


def metadata_of(view: dict[str, Any]) -> dict[str, Any]:
    try:
        meta = json.loads(view.get("private_metadata") or "{}")
    except ValueError:
        return {}
    return meta if isinstance(meta, dict) else {}


def link_error(link: str | None) -> str | None:
    if link and (not link.startswith(("http://", "https://")) or len(link) > MAX_LINK):
        return "Use a web link starting with https:// (at most 2,000 characters)."
    return None


async def show_errors(ack: AsyncAck, errors: dict[str, str]) -> None:
    """Keep the modal open with a message under each field that needs fixing."""
    await ack(response_action="errors", errors=errors)
