"""Building Hypobot: the Bolt app, its Web API clients, the service and the sender."""

from __future__ import annotations

import logging
import time
from collections.abc import Callable
from dataclasses import dataclass
from datetime import UTC, datetime
from typing import Any

from slack_bolt.async_app import AsyncApp
from slack_sdk.errors import SlackApiError

from bot import listeners, oauth
from bot.answers import Answers
from bot.canvases import Canvases
from bot.runtime import Acks, Runtime
from bot.slack import SingleWorkspaceAuthorize
from ops.settings import Settings
from outbox.clients import InstalledWorkspaces, SingleWorkspace, SlackClients, web_client
from outbox.sender import Sender
from usecases.context import Context

log = logging.getLogger("hypobot.app")

ADMIN_CACHE_S = 300


def _now() -> datetime:
    return datetime.now(UTC)


class WorkspaceAdmins:
    """Slack workspace admins and owners, per users.info with the team's own token,
    remembered for five minutes."""

    def __init__(self, clients: SlackClients) -> None:
        self.clients = clients
        self._seen: dict[tuple[str, str], tuple[float, bool]] = {}

    async def __call__(self, team_id: str, user_id: str) -> bool:
        cached = self._seen.get((team_id, user_id))
        if cached and time.monotonic() - cached[0] < ADMIN_CACHE_S:
            return cached[1]
        client = await self.clients.for_team(team_id)
        if client is None:
            return False
        try:
            user = (await client.users_info(user=user_id)).get("user") or {}
        except SlackApiError:
            return False
        admin = bool(user.get("is_admin") or user.get("is_owner"))
        self._seen[(team_id, user_id)] = (time.monotonic(), admin)
        return admin


@dataclass
class Edge:
    """How this process reaches Slack: the Bolt app, and the clients that act for a team."""

    app: AsyncApp
    team_clients: SlackClients  # interactive calls (users.info): retried in place
    authorize: SingleWorkspaceAuthorize | None = None


def _one_workspace(settings: Settings, bolt: dict[str, Any]) -> Edge:
    """SLACK_BOT_TOKEN: one workspace, one token."""
    token = settings.slack_bot_token.get_secret_value() if settings.slack_bot_token else None
    api = web_client(token, settings.slack_api_url)
    authorize = SingleWorkspaceAuthorize(api, token) if token else None
    app = AsyncApp(client=api, authorize=authorize.for_bolt() if authorize else None, **bolt)
    return Edge(
        app,
        team_clients=SingleWorkspace(token, settings.slack_api_url, retries=True),
        authorize=authorize,
    )


def _any_workspace(settings: Settings, bolt: dict[str, Any], clock: Callable[[], datetime]) -> Edge:
    """SLACK_CLIENT_ID: installed through /slack/install, each team with its own token."""
    if settings.slack_bot_token is not None:
        log.warning("settings.bot_token_ignored", extra={"reason": "SLACK_CLIENT_ID is set"})
    installed = oauth.installations(settings, clock=clock)
    app = AsyncApp(
        client=web_client(None, settings.slack_api_url),
        authorize=oauth.InstallationAuthorize(installed),
        oauth_settings=oauth.oauth_settings(settings, installed, clock=clock),
        user_facing_authorize_error_message=oauth.NOT_INSTALLED,
        **bolt,
    )
    return Edge(
        app,
        team_clients=InstalledWorkspaces(installed.bot_token, settings.slack_api_url, retries=True),
    )


def build(
    settings: Settings,
    *,
    sender: Sender,
    backlog: Acks,
    clock: Callable[[], datetime] = _now,
) -> tuple[AsyncApp, Runtime]:
    """The Bolt app with every listener registered, and the runtime they share; `sender`
    delivers what they queue, `backlog` counts the requests not yet acked."""
    secret = (
        settings.slack_signing_secret.get_secret_value() if settings.slack_signing_secret else None
    )
    bolt: dict[str, Any] = {
        "signing_secret": secret,
        # Listeners ack first and keep working after the response has gone back to Slack.
        "process_before_response": False,
        "logger": logging.getLogger("hypobot.bolt"),
    }
    edge = (
        _any_workspace(settings, bolt, clock)
        if settings.multi_workspace
        else _one_workspace(settings, bolt)
    )
    answers = Answers(
        Context(
            clock=clock,
            default_timezone=settings.default_timezone,
            admins=settings.hypobot_admins,
            is_workspace_admin=WorkspaceAdmins(edge.team_clients),
        ),
        canvases=Canvases(edge.team_clients),
    )
    runtime = Runtime(
        settings=settings,
        answers=answers,
        sender=sender,
        backlog=backlog,
        authorize=edge.authorize,
        clients=(edge.team_clients, sender.clients),
    )
    listeners.register(edge.app, runtime)
    return edge.app, runtime
