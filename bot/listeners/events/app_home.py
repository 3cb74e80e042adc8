"""The App Home tab: my open bets, a button to start a new one, and my channels' flow."""

from __future__ import annotations

from collections.abc import Awaitable, Callable
from datetime import datetime, timedelta
from typing import Any

from slack_sdk.web.async_client import AsyncWebClient

from bets.metrics import flow_report
from bot.blocks import home
from bot.listeners.safety import failure_text
from bot.runtime import Runtime
from storage import bets as store
from storage import channels as channel_store
from usecases.flow import DIGEST_WINDOW, facts_of

# The tab shows what fits in Slack's 100 blocks (about 45 bets) and counts the rest.
MAX_BETS = 200
MAX_CHANNELS = 5  # two queries each (settings, bets): the tab's cost stays bounded


async def channel_flows(team_id: str, user_id: str, now: datetime) -> list[home.ChannelFlow]:
    """The flow figures of the channels of my latest bets, computed as the digest does."""
    flows = []
    for channel_id in await store.channels_of(team_id, user_id, limit=MAX_CHANNELS):
        channel = await store.get_channel(team_id, channel_id)
        if channel is None:
            continue
        bets = await channel_store.bets_for_metrics(team_id, channel_id, now=now)
        report = flow_report(
            [facts_of(bet) for bet in bets],
            now=now,
            window=DIGEST_WINDOW,
            default_sle=timedelta(seconds=channel.sle_default_s),
            previous_window=False,
        )
        flows.append(home.ChannelFlow(channel_id, report, channel.wip_limit))
    return flows


async def home_of(team_id: str, user_id: str, now: datetime) -> dict[str, Any]:
    mine = await store.list_bets(team_id, scope="mine", user_id=user_id, limit=MAX_BETS)
    channels = await channel_flows(team_id, user_id, now)
    return home.home_view(mine, now=now, channels=channels)


def app_home_opened(runtime: Runtime) -> Callable[..., Awaitable[None]]:
    async def handle(event: dict[str, Any], body: dict[str, Any], client: AsyncWebClient) -> None:
        if event.get("tab", "home") != "home":
            return
        team_id, user_id = body.get("team_id"), event.get("user")
        if not isinstance(team_id, str) or not isinstance(user_id, str):
            return  # Slack always names both; a body without them gets no Home
        try:
            view = await home_of(team_id, user_id, runtime.service.clock())
            await client.views_publish(user_id=user_id, view=view)
        except Exception as error:
            failure_text(error, where="app_home")

    return handle
