"""Building Hypobot: the Bolt app, its Web API clients, the service and the courier."""

from __future__ import annotations

import logging
import time
from collections.abc import Callable
from datetime import UTC, datetime
from typing import Any

from slack_bolt.async_app import AsyncApp
from slack_sdk.errors import SlackApiError
from slack_sdk.web.async_client import AsyncWebClient

from bot import listeners
from bot.blocks import card as card_blocks
from bot.runtime import Runtime
from bot.service import Service
from bot.settings import Settings
from bot.slack import SingleWorkspace, SingleWorkspaceAuthorize, SlackClients, web_client
from jobs.outbox import Courier
from storage import bets as bet_store
from storage.models import Bet

log = logging.getLogger("hypobot.app")

ADMIN_CACHE_S = 300


def _now() -> datetime:
    return datetime.now(UTC)


async def render_card(bet: Bet, now: datetime) -> dict[str, Any]:
    """The card as chat.postMessage / chat.update arguments (rendered when sent)."""
    pivot_of = await bet_store.bet_by_id(bet.team_id, bet.pivot_of_id) if bet.pivot_of_id else None
    blocks = card_blocks.card(bet, now=now, pivot_of_number=pivot_of.number if pivot_of else None)
    return {"text": card_blocks.card_text(bet), "blocks": blocks}


class WorkspaceAdmins:
    """Slack workspace admins and owners, per users.info, remembered for five minutes."""

    def __init__(self, client: AsyncWebClient) -> None:
        self.client = client
        self._seen: dict[tuple[str, str], tuple[float, bool]] = {}

    async def __call__(self, team_id: str, user_id: str) -> bool:
        cached = self._seen.get((team_id, user_id))
        if cached and time.monotonic() - cached[0] < ADMIN_CACHE_S:
            return cached[1]
        try:
            user = (await self.client.users_info(user=user_id)).get("user") or {}
        except SlackApiError:
            return False
        admin = bool(user.get("is_admin") or user.get("is_owner"))
        self._seen[(team_id, user_id)] = (time.monotonic(), admin)
        return admin


def build(
    settings: Settings,
    *,
    clock: Callable[[], datetime] = _now,
    clients: SlackClients | None = None,
) -> tuple[AsyncApp, Runtime]:
    """The Bolt app with every listener registered, and the runtime they share."""
    token = settings.slack_bot_token.get_secret_value() if settings.slack_bot_token else None
    secret = (
        settings.slack_signing_secret.get_secret_value() if settings.slack_signing_secret else None
    )
    api = web_client(token, settings.slack_api_url)
    authorize = SingleWorkspaceAuthorize(api, token) if token else None
    app = AsyncApp(
        signing_secret=secret,
        client=api,
        authorize=authorize.for_bolt() if authorize else None,
        # Listeners ack first and keep working after the response has gone back to Slack.
        process_before_response=False,
        logger=logging.getLogger("hypobot.bolt"),
    )
    service = Service(
        admins=settings.hypobot_admins,
        default_timezone=settings.default_timezone,
        is_workspace_admin=WorkspaceAdmins(api),
        clock=clock,
    )
    courier = Courier(
        clients or SingleWorkspace(token, settings.slack_api_url),
        render_card=render_card,
        clock=clock,
    )
    runtime = Runtime(settings=settings, service=service, courier=courier, authorize=authorize)
    listeners.register(app, runtime)
    return app, runtime
