"""A human reply in a bet's thread becomes evidence; everything else is ignored.

Slack retries deliveries (X-Slack-Retry-Num) and may deliver one message twice; the unique
(team, channel, message ts) key on evidence makes the second delivery a no-op.
"""

from __future__ import annotations

import logging
from collections.abc import Awaitable, Callable
from typing import Any

from slack_bolt.context.async_context import AsyncBoltContext
from slack_sdk.errors import SlackApiError
from slack_sdk.web.async_client import AsyncWebClient

from bot.listeners.safety import failure_text
from bot.runtime import Runtime

log = logging.getLogger("hypobot.events")

# Edits, deletions, joins and bot posts are not what someone learned.
_HUMAN_SUBTYPES = {None, "thread_broadcast", "file_share"}


def is_human_thread_reply(event: dict[str, Any]) -> bool:
    return (
        event.get("subtype") in _HUMAN_SUBTYPES
        and not event.get("bot_id")
        and bool(event.get("user"))
        and bool(event.get("thread_ts"))
        and event.get("thread_ts") != event.get("ts")
    )


def thread_reply(runtime: Runtime) -> Callable[..., Awaitable[None]]:
    async def handle(
        event: dict[str, Any], context: AsyncBoltContext, client: AsyncWebClient
    ) -> None:
        if not is_human_thread_reply(event):
            return
        # The workspace the event was delivered to (Bolt reads it from `authorizations`), not
        # `event.team`: in a Slack Connect channel that is the author's own organisation.
        team_id = context.team_id
        try:
            permalink = None
            try:
                found = await client.chat_getPermalink(
                    channel=event["channel"], message_ts=event["ts"]
                )
                permalink = found.get("permalink")
            except SlackApiError:
                pass  # the evidence stands without its permalink
            await runtime.answers.thread_reply(
                team_id=str(team_id),
                channel_id=event["channel"],
                thread_ts=event["thread_ts"],
                message_ts=event["ts"],
                user_id=event["user"],
                text=event.get("text") or "",
                permalink=permalink,
            )
        except Exception as error:
            failure_text(error, where="thread_reply")

    return handle
