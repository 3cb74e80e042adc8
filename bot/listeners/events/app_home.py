"""The App Home tab: my open bets, a button to start a new one, and my channels' flow."""

from __future__ import annotations

from collections.abc import Awaitable, Callable
from typing import Any

from slack_sdk.web.async_client import AsyncWebClient

from bot.blocks import home
from bot.listeners.safety import failure_text
from bot.runtime import Runtime
from usecases import flow

# The tab shows what fits in Slack's 100 blocks (about 45 bets) and counts the rest.
MAX_BETS = 200


async def home_of(runtime: Runtime, team_id: str, user_id: str) -> dict[str, Any]:
    """The tab's view, from the figures the digest computes too."""
    context = runtime.answers.context
    seen = await flow.home(context, team_id, user_id, max_bets=MAX_BETS)
    return home.home_view(
        seen.mine,
        now=context.clock(),
        channels=seen.channels,
        total=seen.mine_total,
        forecasts=seen.forecasts,
        tz=seen.tz,
    )


def app_home_opened(runtime: Runtime) -> Callable[..., Awaitable[None]]:
    async def handle(event: dict[str, Any], body: dict[str, Any], client: AsyncWebClient) -> None:
        if event.get("tab", "home") != "home":
            return
        team_id, user_id = body.get("team_id"), event.get("user")
        if not isinstance(team_id, str) or not isinstance(user_id, str):
            return  # Slack always names both; a body without them gets no Home
        try:
            view = await home_of(runtime, team_id, user_id)
            await client.views_publish(user_id=user_id, view=view)
        except Exception as error:
            failure_text(error, where="app_home")

    return handle
