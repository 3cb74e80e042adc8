"""The App Home tab: my open bets and a button to start a new one."""

from __future__ import annotations

from collections.abc import Awaitable, Callable
from typing import Any

from slack_sdk.web.async_client import AsyncWebClient

from bot.blocks import home
from bot.listeners.safety import failure_text
from bot.runtime import Runtime
from storage import bets as store


def app_home_opened(runtime: Runtime) -> Callable[..., Awaitable[None]]:
    async def handle(event: dict[str, Any], body: dict[str, Any], client: AsyncWebClient) -> None:
        if event.get("tab", "home") != "home":
            return
        team_id = str(body.get("team_id"))
        user_id = event["user"]
        try:
            mine = await store.list_bets(team_id, scope="mine", user_id=user_id, limit=40)
            view = home.home_view(mine, now=runtime.service.clock())
            await client.views_publish(user_id=user_id, view=view)
        except Exception as error:
            failure_text(error, where="app_home")

    return handle
