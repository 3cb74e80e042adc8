"""Web API clients for what goes out: where calls go (SLACK_API_URL), how they retry, and
which token a workspace's messages are sent with."""

from __future__ import annotations

import logging
from collections.abc import Awaitable, Callable
from typing import Protocol

import aiohttp
from slack_sdk.http_retry.async_handler import AsyncRetryHandler
from slack_sdk.http_retry.builtin_async_handlers import (
    AsyncConnectionErrorRetryHandler,
    AsyncRateLimitErrorRetryHandler,
    AsyncServerErrorRetryHandler,
)
from slack_sdk.web.async_client import AsyncWebClient

from ops.settings import Settings, SettingsError
from storage import installations
from storage.installations import TokenCipher, UnreadableToken

log = logging.getLogger("hypobot.outbox")

API_TIMEOUT_S = 10


def web_client(token: str | None, base_url: str, *, retries: bool = True) -> AsyncWebClient:
    """A client for `base_url`.

    Interactive calls (views.open, users.info) retry a dropped connection, 429 and 5xx
    once or twice in place. The outbox sender passes retries=False: it keeps its own
    schedule on the row, so a rate-limited channel never holds a sender asleep beyond what
    it chose to wait, and a post whose connection dropped is looked for in the channel
    before it is sent again, never blindly re-sent.
    """
    handlers: list[AsyncRetryHandler] = []
    if retries:
        handlers += [
            AsyncConnectionErrorRetryHandler(max_retry_count=2),
            AsyncRateLimitErrorRetryHandler(max_retry_count=1),
            AsyncServerErrorRetryHandler(max_retry_count=2),
        ]
    return AsyncWebClient(
        token=token, base_url=base_url, timeout=API_TIMEOUT_S, retry_handlers=handlers
    )


class SlackClients(Protocol):
    """The client to use for one workspace (one bot token, or one per installation)."""

    async def for_team(self, team_id: str) -> AsyncWebClient | None: ...

    async def close(self) -> None: ...


class _Session:
    """One aiohttp session (a pool of kept-alive connections) shared by a set of clients.

    Without one, slack_sdk opens and closes a session, and a TCP connection, per call.
    Made on first use, inside the running event loop; closed at shutdown."""

    def __init__(self) -> None:
        self._session: aiohttp.ClientSession | None = None

    def lend(self, client: AsyncWebClient) -> AsyncWebClient:
        if self._session is None or self._session.closed:
            self._session = aiohttp.ClientSession()
        client.session = self._session
        return client

    async def close(self) -> None:
        if self._session is not None and not self._session.closed:
            await self._session.close()


class SingleWorkspace:
    """SLACK_BOT_TOKEN mode: the same token for every call."""

    def __init__(self, token: str | None, base_url: str, *, retries: bool = False) -> None:
        self.client = web_client(token, base_url, retries=retries)
        self.session = _Session()

    async def for_team(self, team_id: str) -> AsyncWebClient | None:
        return self.session.lend(self.client)

    async def close(self) -> None:
        await self.session.close()


class InstalledWorkspaces:
    """OAuth mode: each team's own bot token, from its installation, one client per team.

    The token is looked up on every call, not remembered: after an uninstall (seen by any
    replica) the team gets no client, and its outbox rows fail as "no_installation".
    """

    def __init__(
        self,
        bot_token: Callable[[str], Awaitable[str | None]],
        base_url: str,
        *,
        retries: bool = False,
    ) -> None:
        self.bot_token = bot_token
        self.base_url = base_url
        self.retries = retries
        self._clients: dict[str, AsyncWebClient] = {}
        self.session = _Session()

    async def for_team(self, team_id: str) -> AsyncWebClient | None:
        token = await self.bot_token(team_id)
        if token is None:
            self._clients.pop(team_id, None)
            return None
        client = self._clients.get(team_id)
        if client is None or client.token != token:
            client = web_client(token, self.base_url, retries=self.retries)
            self._clients[team_id] = client
        return self.session.lend(client)

    async def close(self) -> None:
        await self.session.close()


class InstalledTokens:
    """Each workspace's bot token from its installation (OAuth mode), opened with
    HYPOBOT_ENCRYPTION_KEY; None for a workspace not installed, or whose token was sealed
    with another key (logged: it must install again)."""

    def __init__(self, key: str) -> None:
        self.cipher = TokenCipher(key)

    async def __call__(self, team_id: str) -> str | None:
        try:
            found = await installations.find(team_id, self.cipher)
        except UnreadableToken:
            log.error(
                "installation.unreadable",
                extra={"team_id": team_id, "hint": "sealed with another HYPOBOT_ENCRYPTION_KEY"},
            )
            return None
        return found.bot_token if found else None


def for_settings(settings: Settings, *, retries: bool = False) -> SlackClients:
    """The clients the settings call for: one bot token (SLACK_BOT_TOKEN), or each installed
    workspace's own (SLACK_CLIENT_ID, tokens kept sealed in the database)."""
    if settings.multi_workspace:
        if settings.hypobot_encryption_key is None:
            raise SettingsError("HYPOBOT_ENCRYPTION_KEY is required to keep bot tokens")
        tokens = InstalledTokens(settings.hypobot_encryption_key.get_secret_value())
        return InstalledWorkspaces(tokens, settings.slack_api_url, retries=retries)
    token = settings.slack_bot_token.get_secret_value() if settings.slack_bot_token else None
    return SingleWorkspace(token, settings.slack_api_url, retries=retries)
