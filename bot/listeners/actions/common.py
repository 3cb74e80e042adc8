"""What every button listener does first: who clicked, in which workspace, on which row."""

from __future__ import annotations

from typing import Any

from bot.answers import Actor


def actor_of(body: dict[str, Any]) -> Actor:
    team = (body.get("team") or {}).get("id") or body["user"]["team_id"]
    channel = (body.get("channel") or {}).get("id")
    return Actor(team, body["user"]["id"], channel)


def row_id(action: dict[str, Any]) -> int | None:
    """The database id a button carries in its value; None when it was tampered with."""
    value = str(action.get("value") or "")
    # isdigit() alone also takes "²" (which int() rejects) and "１" (which it reads as 1).
    return int(value) if value.isascii() and value.isdigit() and len(value) < 12 else None
