"""What every listener needs, built once at start-up and passed to `register(app, runtime)`."""

from __future__ import annotations

import logging
from contextlib import AbstractAsyncContextManager
from dataclasses import dataclass
from typing import Protocol

import aiohttp
from slack_sdk.errors import SlackApiError

from bot.answers import Answers
from bot.slack import SingleWorkspaceAuthorize
from ops.settings import Settings, SettingsError
from outbox.clients import SlackClients
from outbox.sender import Sender

log = logging.getLogger("hypobot.runtime")


class Acks(Protocol):
    """The Slack requests this process has received and not yet acknowledged, and the
    answers it owes (the HTTP server counts them: server/backlog.py). A command reports
    when it takes up its answer; the cards of a burst wait until the answers are out."""

    def acked(self) -> None: ...

    def owing(self) -> AbstractAsyncContextManager[None]: ...


@dataclass
class Runtime:
    settings: Settings
    answers: Answers
    sender: Sender
    backlog: Acks  # Slack requests not yet acked
    authorize: SingleWorkspaceAuthorize | None = None
    clients: tuple[SlackClients, ...] = ()  # closed with the runtime

    async def close(self) -> None:
        """Stop the sender's senders (unsent rows go back), close Slack connections and
        stop the chart process."""
        await self.sender.stop()
        for clients in self.clients:
            await clients.close()
        await self.answers.charts.stop()

    async def warm_up(self) -> None:
        """Ask Slack who we are before the first request needs it.

        Slack being unreachable at start-up is no reason not to serve: the first request
        asks again. A token Slack refuses is fatal, with one line that says so.
        """
        if self.authorize is None:
            return
        try:
            await self.authorize.warm_up()
        except SlackApiError as error:
            code = error.response.get("error")
            if code in ("invalid_auth", "not_authed", "account_inactive", "token_revoked"):
                raise SettingsError(
                    f"SLACK_BOT_TOKEN was refused by Slack ({code}); copy it again from "
                    "OAuth & Permissions → Bot User OAuth Token"
                ) from None
            log.warning("slack.auth_test_failed", extra={"error": code})
        except (aiohttp.ClientError, OSError, TimeoutError) as error:
            log.warning("slack.unreachable", extra={"error_type": type(error).__name__})
