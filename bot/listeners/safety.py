"""What a person sees when something breaks on our side: a calm message, never a traceback."""

from __future__ import annotations

import logging
from typing import Any

import aiohttp
from slack_bolt.context.respond.async_respond import AsyncRespond
from slack_sdk.errors import SlackApiError

from usecases.results import DATABASE_UNREACHABLE

log = logging.getLogger("hypobot.listeners")

TRY_AGAIN = (
    "Hypobot couldn't reach its database just now, so nothing was changed. "
    "Please try again in a moment."
)
OUR_FAULT = "Something went wrong on Hypobot's side, so nothing was changed. Please try again."


def failure_text(error: BaseException, *, where: str) -> str:
    """Log the failure (type and place, never the payload) and say what the user can do."""
    transient = isinstance(error, (*DATABASE_UNREACHABLE, OSError))
    log.error(
        "listener.failed",
        extra={"where": where, "error_type": type(error).__name__, "transient": transient},
        exc_info=error,
    )
    return TRY_AGAIN if transient else OUR_FAULT


async def respond_safely(respond: AsyncRespond | None, **message: Any) -> bool:
    """Answer through the response_url, or log why not: a click or command has done its
    work by then, and an answer that cannot be delivered (no response_url, an expired
    one, Slack unreachable) must not turn into an error, nor undo Bolt's ack."""
    if respond is None or not getattr(respond, "response_url", None):
        log.warning("respond.no_response_url")
        return False
    try:
        await respond(**message)
    except (aiohttp.ClientError, OSError, TimeoutError, SlackApiError) as error:
        log.warning("respond.failed", extra={"error_type": type(error).__name__})
        return False
    return True
