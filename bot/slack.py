"""Bolt's authorization for one bot token (SLACK_BOT_TOKEN mode)."""

from __future__ import annotations

import asyncio
from collections.abc import Awaitable, Callable

from slack_bolt.authorization import AuthorizeResult
from slack_sdk.web.async_client import AsyncWebClient


class SingleWorkspaceAuthorize:
    """Bolt's `authorize` for one bot token: auth.test once per process, not per request.

    Bolt's default single-team authorization calls auth.test lazily on the first request,
    so a slow Web API would delay that request's ack; `warm_up()` at start-up avoids it.
    """

    def __init__(self, client: AsyncWebClient, token: str) -> None:
        self.client = client
        self.token = token
        self._result: AuthorizeResult | None = None
        self._lock = asyncio.Lock()

    async def warm_up(self) -> AuthorizeResult:
        async with self._lock:
            if self._result is None:
                response = await self.client.auth_test(token=self.token)
                self._result = AuthorizeResult.from_auth_test_response(
                    auth_test_response=response, bot_token=self.token
                )
        return self._result

    def for_bolt(self) -> Callable[..., Awaitable[AuthorizeResult]]:
        """A plain function: Bolt reads argument names off it, and would pass `self` too."""

        async def authorize(team_id: str | None = None) -> AuthorizeResult:
            return self._result or await self.warm_up()

        return authorize
