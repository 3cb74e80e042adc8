"""Slack-shaped bodies the shared builders in tests/signing.py don't make yet: a message
shortcut (message_action) and an external select's type-ahead (block_suggestion)."""

from __future__ import annotations

import io
import json
import time
from typing import Any

from console.signing import API_APP_ID, FORM, VERIFICATION_TOKEN, Json
from console.signing import interactive_body as _form
from console.signing import team_field as _named_team
from console.signing import user_field as _named_user
from testkit.signing import sign


def _team(team_id: str) -> Json:
    return _named_team(team_id, "acme")


def _user(user_id: str, team_id: str) -> Json:
    return _named_user(user_id, "alice", team_id)


def message_shortcut_body(
    callback_id: str,
    *,
    text: str,
    message_ts: str,
    author_id: str = "U2",
    team_id: str = "T1",
    user_id: str = "U1",
    channel_id: str = "C1",
    trigger_id: str = "trig-shortcut",
    response_url: str = "",
    message: Json | None = None,
) -> str:
    """A message shortcut on a message `author_id` wrote (fields of `message` override)."""
    return _form(
        {
            "type": "message_action",
            "token": VERIFICATION_TOKEN,
            "action_ts": f"{time.time():.6f}",
            "team": _team(team_id),
            "user": _user(user_id, team_id),
            "channel": {"id": channel_id, "name": "general"},
            "is_enterprise_install": False,
            "enterprise": None,
            "callback_id": callback_id,
            "trigger_id": trigger_id,
            "response_url": response_url,
            "message_ts": message_ts,
            "message": {
                "type": "message",
                "user": author_id,
                "ts": message_ts,
                "text": text,
                **(message or {}),
            },
            "api_app_id": API_APP_ID,
        }
    )


def block_suggestion_body(
    action_id: str,
    value: str,
    *,
    team_id: str = "T1",
    user_id: str = "U1",
    block_id: str | None = None,
    view_id: str = "V1",
    callback_id: str = "",
) -> str:
    """What Slack sends while someone types into an external_select inside a modal."""
    return _form(
        {
            "type": "block_suggestion",
            "user": _user(user_id, team_id),
            "container": {"type": "view", "view_id": view_id},
            "api_app_id": API_APP_ID,
            "token": VERIFICATION_TOKEN,
            "action_id": action_id,
            "block_id": block_id or action_id,
            "value": value,
            "team": _team(team_id),
            "enterprise": None,
            "is_enterprise_install": False,
            "view": {
                "id": view_id,
                "team_id": team_id,
                "type": "modal",
                "callback_id": callback_id,
                "private_metadata": "",
                "state": {"values": {}},
            },
        }
    )


async def post_large(
    slack: Any, body: str | bytes, content_type: str, headers: dict[str, str]
) -> tuple[int, str]:
    """Post `body` as is, as a stream: aiohttp warns (a ResourceWarning, an error in the
    tests) that a body of a megabyte or more given as bytes is copied on the event loop."""
    raw = body.encode() if isinstance(body, str) else body
    async with slack.session.post(
        slack.url, data=io.BytesIO(raw), headers={"Content-Type": content_type, **headers}
    ) as response:
        return response.status, await response.text()


async def post_signed(slack: Any, body: str) -> tuple[int, Any]:
    """Post a form body signed as Slack would; a JSON answer comes back parsed."""
    status, text = await slack.post_raw(body, FORM, sign(body))
    try:
        return status, json.loads(text) if text else {}
    except ValueError:
        return status, text
