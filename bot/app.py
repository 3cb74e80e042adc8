"""Building Hypobot: the Bolt app, its Web API clients, the service and the sender."""

from __future__ import annotations

import logging
import time
from collections.abc import Callable
from dataclasses import dataclass
from datetime import UTC, datetime
from typing import Any
from zoneinfo import ZoneInfo

from slack_bolt.async_app import AsyncApp
from slack_sdk.errors import SlackApiError

from bot import listeners, oauth
from bot.answers import Answers
from bot.backlog import Backlog
from bot.blocks import card as card_blocks
from bot.runtime import Runtime
from bot.slack import SingleWorkspaceAuthorize
from ops.settings import Settings
from outbox.clients import InstalledWorkspaces, SingleWorkspace, SlackClients, web_client
from outbox.kinds import Kind
from outbox.pacing import Limits
from outbox.queue import DOORBELL
from outbox.sender import Post, Sender
from storage import bets as bet_store
from storage.models import Outbox
from usecases.context import Context

log = logging.getLogger("hypobot.app")

ADMIN_CACHE_S = 300


def _now() -> datetime:
    return datetime.now(UTC)


async def card_message(team_id: str, bet_id: int, now: datetime) -> Post | None:
    """A bet's card as chat.postMessage / chat.update arguments, with its dates in the
    channel's zone (T7), to replace its card message once posted; None when the bet is gone
    (purged)."""
    bet = await bet_store.bet_by_id(team_id, bet_id)
    if bet is None:
        return None
    value = bet_store.bet_value(bet)
    pivot_of = await bet_store.number_of(bet.team_id, bet.pivot_of_id)  # type: ignore[attr-defined]
    channel = await bet_store.get_channel(bet.team_id, bet.channel_id)
    tz = ZoneInfo(channel.timezone if channel else "UTC")
    blocks = card_blocks.card(value, now=now, tz=tz, pivot_of_number=pivot_of)
    return Post({"text": card_blocks.card_text(value), "blocks": blocks}, update_ts=bet.card_ts)


async def render_card(row: Outbox, now: datetime) -> Post | None:
    """The card an outbox row asks for, as its bet is when the row is sent."""
    return await card_message(row.team_id, row.bet_id, now) if row.bet_id else None  # type: ignore[attr-defined]


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
    outbox_clients: SlackClients  # the outbox keeps its own retry schedule
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
        outbox_clients=SingleWorkspace(token, settings.slack_api_url),
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
        outbox_clients=InstalledWorkspaces(installed.bot_token, settings.slack_api_url),
    )


def build(
    settings: Settings,
    *,
    clock: Callable[[], datetime] = _now,
    clients: SlackClients | None = None,
) -> tuple[AsyncApp, Runtime]:
    """The Bolt app with every listener registered, and the runtime they share."""
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
        )
    )
    sender = Sender(
        clients or edge.outbox_clients,
        renderers={Kind.CARD: render_card},
        clock=clock,
        limits=Limits(
            channel_rate=settings.slack_channel_posts_per_second,
            channel_burst=settings.slack_channel_post_burst,
            workspace_rate=settings.slack_workspace_posts_per_second,
            workspace_burst=settings.slack_workspace_post_burst,
        ),
    )
    backlog = Backlog()
    # Queued rows wake the sender once committed; it starts when the acks and answers people
    # wait for are out.
    sender.hear(DOORBELL, when=backlog.when_idle)
    runtime = Runtime(
        settings=settings,
        answers=answers,
        sender=sender,
        authorize=edge.authorize,
        clients=(edge.team_clients, sender.clients),
        backlog=backlog,
    )
    listeners.register(edge.app, runtime)
    return edge.app, runtime
