"""Slack-shaped request bodies (slash commands, clicks, modal submissions, events), signed
the way Slack signs them: what `hypobot console` feeds the app, and what tests post to it."""

from __future__ import annotations

import hashlib
import hmac
import json
import time
import uuid
from typing import Any
from urllib.parse import urlencode

import aiohttp

from console.fakeslack import FakeSlack

API_APP_ID = "A1"
VERIFICATION_TOKEN = "legacy-verification-token"
BOT_USER_ID = FakeSlack.bot_user_id
BOT_ID = FakeSlack.bot_id
FORM = "application/x-www-form-urlencoded"
JSON = "application/json"

Json = dict[str, Any]


def sign(body: str | bytes, *, secret: str, timestamp: int | None = None) -> dict[str, str]:
    """X-Slack-Request-Timestamp and X-Slack-Signature headers for `body` (Content-Type not set)."""
    ts = int(time.time()) if timestamp is None else timestamp
    raw = body.encode() if isinstance(body, str) else body
    digest = hmac.new(secret.encode(), f"v0:{ts}:".encode() + raw, hashlib.sha256).hexdigest()
    return {"X-Slack-Request-Timestamp": str(ts), "X-Slack-Signature": f"v0={digest}"}


def _now_ts() -> str:
    return f"{time.time():.6f}"


def team_field(team_id: str, team_domain: str) -> Json:
    """The `team` object of an interactive payload."""
    return {"id": team_id, "domain": team_domain}


def user_field(user_id: str, user_name: str, team_id: str) -> Json:
    """The `user` object of an interactive payload."""
    return {"id": user_id, "username": user_name, "name": user_name, "team_id": team_id}


def interactive_body(payload: Json) -> str:
    """Interactivity requests are form-encoded with the JSON in a `payload` field."""
    return urlencode({"payload": json.dumps(payload)})


def slash_command_body(
    text: str,
    *,
    team_id: str = "T1",
    user_id: str = "U1",
    channel_id: str = "C1",
    command: str = "/hypothesis",
    trigger_id: str = "trig-1",
    response_url: str = "",
    user_name: str = "alice",
    team_domain: str = "acme",
    channel_name: str = "general",
) -> str:
    """A slash command request body, form-encoded like Slack's."""
    return urlencode(
        {
            "token": VERIFICATION_TOKEN,
            "team_id": team_id,
            "team_domain": team_domain,
            "channel_id": channel_id,
            "channel_name": channel_name,
            "user_id": user_id,
            "user_name": user_name,
            "command": command,
            "text": text,
            "api_app_id": API_APP_ID,
            "is_enterprise_install": "false",
            "response_url": response_url,
            "trigger_id": trigger_id,
        }
    )


def block_action_body(
    action_id: str,
    value: str,
    *,
    team_id: str = "T1",
    user_id: str = "U1",
    channel_id: str | None = "C1",
    message_ts: str | None = None,
    response_url: str = "",
    trigger_id: str = "trig-2",
    container: Json | None = None,
    block_id: str = "b1",
    user_name: str = "alice",
    team_domain: str = "acme",
    message: Json | None = None,
    action: Json | None = None,
) -> str:
    """A block_actions payload for a button click.

    With `message_ts` the click comes from a bot message in `channel_id` (fields of `message`
    override the message's); without it the container is an ephemeral message, which Slack
    sends without a `message`. `action` overrides action fields (e.g. a select's
    `type`/`selected_option`). Pass `container` (e.g. {"type": "view", "view_id": "V1"})
    and channel_id=None for clicks inside a modal.
    """
    action_ts = _now_ts()
    payload: Json = {
        "type": "block_actions",
        "team": team_field(team_id, team_domain),
        "user": user_field(user_id, user_name, team_id),
        "api_app_id": API_APP_ID,
        "token": VERIFICATION_TOKEN,
        "container": container
        or {
            "type": "message",
            "message_ts": message_ts or action_ts,
            "channel_id": channel_id,
            "is_ephemeral": message_ts is None,
        },
        "trigger_id": trigger_id,
        "enterprise": None,
        "is_enterprise_install": False,
        "state": {"values": {}},
        "response_url": response_url,
        "actions": [
            {
                "action_id": action_id,
                "block_id": block_id,
                "text": {"type": "plain_text", "text": action_id, "emoji": True},
                "value": value,
                "type": "button",
                "action_ts": action_ts,
                **(action or {}),
            }
        ],
    }
    if channel_id is not None:
        payload["channel"] = {"id": channel_id, "name": "general"}
    if message_ts is not None:
        payload["message"] = {
            "type": "message",
            "user": BOT_USER_ID,
            "bot_id": BOT_ID,
            "app_id": API_APP_ID,
            "text": "",
            "ts": message_ts,
            "blocks": [],
            **(message or {}),
        }
    return interactive_body(payload)


def _input_blocks(values: dict[str, dict[str, Json]]) -> list[Json]:
    """Input blocks matching a view.state.values mapping (one per block_id)."""
    blocks: list[Json] = []
    for block_id, actions in values.items():
        if not actions:
            continue
        action_id, state = next(iter(actions.items()))
        blocks.append(
            {
                "type": "input",
                "block_id": block_id,
                "label": {"type": "plain_text", "text": block_id},
                "element": {"type": state.get("type", "plain_text_input"), "action_id": action_id},
            }
        )
    return blocks


def view_submission_body(
    callback_id: str,
    values: dict[str, dict[str, Json]],
    *,
    private_metadata: str = "",
    team_id: str = "T1",
    user_id: str = "U1",
    view_id: str = "V1",
    user_name: str = "alice",
    team_domain: str = "acme",
    trigger_id: str = "trig-3",
    opened: Json | None = None,
) -> str:
    """A view_submission payload; `values` is view.state.values:
    {block_id: {action_id: {"type": ..., "value" | "selected_*": ...}}}.

    `opened` is the view as views.open saved it (its blocks, title, buttons); without it,
    input blocks matching `values` stand in.
    """

    def plain(text: str) -> Json:
        return {"type": "plain_text", "text": text, "emoji": True}

    view: Json = {
        "id": view_id,
        "team_id": team_id,
        "type": "modal",
        "blocks": _input_blocks(values),
        "private_metadata": private_metadata,
        "callback_id": callback_id,
        "state": {"values": values},
        "hash": f"{_now_ts()}.{view_id}",
        "title": plain("Hypobot"),
        "clear_on_close": False,
        "notify_on_close": False,
        "close": plain("Cancel"),
        "submit": plain("Submit"),
        "previous_view_id": None,
        "root_view_id": view_id,
        "app_id": API_APP_ID,
        "external_id": "",
        "app_installed_team_id": team_id,
        "bot_id": BOT_ID,
    }
    if opened is not None:
        shown = ("blocks", "title", "close", "submit", "external_id", "hash", "root_view_id")
        view.update({key: opened[key] for key in shown if key in opened})
    return interactive_body(
        {
            "type": "view_submission",
            "team": team_field(team_id, team_domain),
            "user": user_field(user_id, user_name, team_id),
            "api_app_id": API_APP_ID,
            "token": VERIFICATION_TOKEN,
            "trigger_id": trigger_id,
            "view": view,
            "response_urls": [],
            "enterprise": None,
            "is_enterprise_install": False,
        }
    )


def event_body(
    event: Json, *, team_id: str = "T1", event_id: str | None = None, event_time: int | None = None
) -> str:
    """An Events API event_callback envelope (JSON) around `event`."""
    return json.dumps(
        {
            "token": VERIFICATION_TOKEN,
            "team_id": team_id,
            "context_team_id": team_id,
            "context_enterprise_id": None,
            "api_app_id": API_APP_ID,
            "event": event,
            "type": "event_callback",
            "event_id": event_id or f"Ev{uuid.uuid4().hex[:10].upper()}",
            "event_time": int(time.time()) if event_time is None else event_time,
            "authorizations": [
                {
                    "enterprise_id": None,
                    "team_id": team_id,
                    "user_id": BOT_USER_ID,
                    "is_bot": True,
                    "is_enterprise_install": False,
                }
            ],
            "is_ext_shared_channel": False,
            "event_context": f"4-{uuid.uuid4().hex}",
        }
    )


def function_executed_body(
    callback_id: str,
    inputs: Json,
    *,
    team_id: str = "T1",
    enterprise_id: str | None = None,
    execution_id: str | None = None,
    bot_access_token: str = "xwfp-fake-step-token",
    event_id: str | None = None,
) -> str:
    """A `function_executed` event: a workflow ran the app's step `callback_id` with
    `inputs`. With `enterprise_id` it comes from an org-wide install (Enterprise Grid), from
    the workspace `team_id` where the workflow ran. The step's just-in-time token is
    `bot_access_token`, which Bolt uses to complete the step."""
    envelope = json.loads(
        event_body(
            {
                "type": "function_executed",
                "function": {
                    "id": f"Fn{uuid.uuid4().hex[:10].upper()}",
                    "callback_id": callback_id,
                    "title": callback_id,
                    "type": "app",
                    "app_id": API_APP_ID,
                    "input_parameters": [],
                    "output_parameters": [],
                },
                "inputs": inputs,
                "function_execution_id": execution_id or f"Fx{uuid.uuid4().hex[:10].upper()}",
                "workflow_execution_id": f"Wx{uuid.uuid4().hex[:10].upper()}",
                "event_ts": _now_ts(),
                "bot_access_token": bot_access_token,
            },
            team_id=team_id,
            event_id=event_id,
        )
    )
    if enterprise_id is not None:
        envelope["enterprise_id"] = envelope["context_enterprise_id"] = enterprise_id
        envelope["authorizations"][0].update(
            {"enterprise_id": enterprise_id, "is_enterprise_install": True}
        )
    return json.dumps(envelope)


def message_event(
    text: str,
    *,
    channel: str = "C1",
    user: str = "U1",
    ts: str,
    thread_ts: str | None = None,
    subtype: str | None = None,
    bot_id: str | None = None,
    team: str = "T1",
) -> Json:
    """A `message` event as delivered inside event_body()."""
    channel_type = {"D": "im", "G": "group"}.get(channel[:1], "channel")
    event: Json = {
        "type": "message",
        "user": user,
        "text": text,
        "ts": ts,
        "team": team,
        "blocks": [
            {
                "type": "rich_text",
                "block_id": uuid.uuid4().hex[:5],
                "elements": [
                    {"type": "rich_text_section", "elements": [{"type": "text", "text": text}]}
                ],
            }
        ],
        "channel": channel,
        "event_ts": ts,
        "channel_type": channel_type,
    }
    if bot_id is None and subtype is None:
        event["client_msg_id"] = str(uuid.uuid4())
    optional = {"thread_ts": thread_ts, "subtype": subtype, "bot_id": bot_id}
    event.update({key: value for key, value in optional.items() if value is not None})
    return event


def _parse_response(text: str) -> Json | str:
    if text.lstrip().startswith("{"):
        try:
            parsed: Json = json.loads(text)
        except ValueError:
            return text
        return parsed
    return text


class SlackClient:
    """Posts signed Slack requests to a served Bolt app (its /slack/events endpoint)."""

    def __init__(
        self,
        base_url: str,
        session: aiohttp.ClientSession,
        secret: str,
        *,
        path: str = "/slack/events",
    ) -> None:
        self.url = base_url.rstrip("/") + path
        self.session = session
        self.secret = secret

    async def command(self, text: str, **kw: Any) -> tuple[int, Json | str]:
        return await self._send(slash_command_body(text, **kw), FORM)

    async def action(self, action_id: str, value: str, **kw: Any) -> tuple[int, Json | str]:
        return await self._send(block_action_body(action_id, value, **kw), FORM)

    async def submit_view(
        self, callback_id: str, values: dict[str, dict[str, Json]], **kw: Any
    ) -> tuple[int, Json | str]:
        return await self._send(view_submission_body(callback_id, values, **kw), FORM)

    async def event(
        self,
        event: Json,
        *,
        retry_num: int | None = None,
        retry_reason: str = "http_timeout",
        **kw: Any,
    ) -> tuple[int, Json | str]:
        retry_headers = (
            {}
            if retry_num is None
            else {"X-Slack-Retry-Num": str(retry_num), "X-Slack-Retry-Reason": retry_reason}
        )
        return await self._send(event_body(event, **kw), JSON, retry_headers)

    async def step(
        self, callback_id: str, inputs: Json, *, retry_num: int | None = None, **kw: Any
    ) -> tuple[int, Json | str]:
        """A workflow runs the step `callback_id` (see function_executed_body)."""
        retry = {} if retry_num is None else {"X-Slack-Retry-Num": str(retry_num)}
        return await self._send(function_executed_body(callback_id, inputs, **kw), JSON, retry)

    async def post_raw(
        self, body: str | bytes, content_type: str, headers: dict[str, str]
    ) -> tuple[int, str]:
        """Post `body` as is (no signing added); returns (status, response text)."""
        async with self.session.post(
            self.url, data=body, headers={"Content-Type": content_type, **headers}
        ) as response:
            return response.status, await response.text()

    async def _send(
        self, body: str, content_type: str, extra_headers: dict[str, str] | None = None
    ) -> tuple[int, Json | str]:
        headers = {**sign(body, secret=self.secret), **(extra_headers or {})}
        status, text = await self.post_raw(body, content_type, headers)
        return status, _parse_response(text)
