"""A link attached to a bet, pasted in a channel: Hypobot says in the message's thread which
bet it belongs to and where that bet stands.

Only top-level human messages: a reply in a thread is the thread-reply listener's (in a bet's
thread it becomes evidence), so no message is handled twice. Hypobot hears only the channels
it is in (message.channels / message.groups); no extra scope is needed.
"""

from __future__ import annotations

import html
import re
from collections.abc import Awaitable, Callable
from typing import Any

from slack_bolt.context.async_context import AsyncBoltContext

from bot.blocks.links import link_notice
from bot.listeners.safety import failure_text
from bot.runtime import Runtime
from usecases import links

# Slack wraps every link in a message's text: <https://x.test/a?b=1&amp;c=2|label>.
_LINK = re.compile(r"<(https?://[^|>\s]+)(?:\|[^>]*)?>", re.IGNORECASE)
MAX_LINKS = 10  # per message: the lookup stays one bounded query
_SUBTYPES = {None, "file_share"}


def links_in(text: str) -> list[str]:
    """The URLs of a message's text, as typed (entities decoded), in order, at most 10."""
    found: list[str] = []
    for match in _LINK.finditer(text):
        url = html.unescape(match[1])
        if url not in found:
            found.append(url)
    return found[:MAX_LINKS]


def spellings(urls: list[str]) -> set[str]:
    """Each URL with and without its trailing slash: people paste both."""
    return {form for url in urls for form in (url, url.rstrip("/"), url.rstrip("/") + "/")}


async def is_top_level_link_message(event: dict[str, Any]) -> bool:
    """A person's top-level message (not a reply, an edit or a bot post) with a link in it."""
    return (
        event.get("subtype") in _SUBTYPES
        and not event.get("bot_id")
        and bool(event.get("user"))
        and event.get("thread_ts") in (None, event.get("ts"))
        and "<http" in (event.get("text") or "")
    )


def link_shared_in_channel(runtime: Runtime) -> Callable[..., Awaitable[None]]:
    async def handle(event: dict[str, Any], context: AsyncBoltContext) -> None:
        team_id = str(context.team_id)  # the receiving workspace, as for thread replies
        urls = links_in(event.get("text") or "")
        try:
            await links.notice_links(
                runtime.answers.context,
                team_id=team_id,
                channel_id=event["channel"],
                message_ts=event["ts"],
                urls=spellings(urls),
                payload=link_notice,
            )
        except Exception as error:
            failure_text(error, where="link_shared_in_channel")

    return handle
