"""Signed Slack requests for tests: the body builders live in the package (console/signing.py,
where `hypobot console` uses them too); SlackClient posts them to a served app."""

from __future__ import annotations

import json
from typing import Any

import aiohttp

from console.signing import *  # noqa: F403
from console.signing import (  # noqa: F401  (the names tests import from here)
    BOT_ID,
    BOT_USER_ID,
    FORM,
    JSON,
    SIGNING_SECRET,
    Json,
    block_action_body,
    event_body,
    message_event,
    sign,
    slash_command_body,
    view_submission_body,
)


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
        secret: str = SIGNING_SECRET,
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
