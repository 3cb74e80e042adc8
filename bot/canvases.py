"""Making a channel's board canvas in Slack: the channel's own canvas, or, when the channel
has one already (Slack allows one), a standalone canvas shared with the channel to read.
The Slack edge's part of `/hypothesis board`; keeping it current is the outbox's."""

from __future__ import annotations

import logging
from dataclasses import dataclass
from typing import Any

import aiohttp
from slack_sdk.errors import SlackApiError
from slack_sdk.web.async_client import AsyncWebClient

from outbox.clients import SlackClients

log = logging.getLogger("hypobot.canvases")

TITLE = "Bets board"
FIRST_TEXT = "Hypobot is putting the bets board together…"
# A channel that has its canvas already: the board goes in a canvas of its own instead.
TAKEN = frozenset({"channel_canvas_already_exists", "free_team_canvas_tab_already_exists"})
# conversations.join's answers for a channel Hypobot cannot join by itself (private).
CANNOT_JOIN = frozenset({"method_not_supported_for_channel_type", "channel_not_found"})
NOT_IN = "not_in_channel"
NETWORK_ERRORS = (TimeoutError, aiohttp.ClientError, OSError)


@dataclass(frozen=True)
class Made:
    canvas_id: str
    channel_canvas: bool  # the channel's own canvas (else one shared with it)


@dataclass(frozen=True)
class Unavailable:
    """Slack would not make the canvas: `code` is its error (or ours: "private_channel",
    "unreachable")."""

    code: str


def canvas_link(team_id: str, canvas_id: str) -> str:
    return f"https://slack.com/docs/{team_id}/{canvas_id}"


def _document(markdown: str) -> dict[str, Any]:
    return {"type": "markdown", "markdown": markdown}


class Canvases:
    def __init__(self, clients: SlackClients) -> None:
        self.clients = clients

    async def make(self, team_id: str, channel_id: str) -> Made | Unavailable:
        """The board's canvas for the channel, as a member of it (a public channel is
        joined; a private one must invite Hypobot first)."""
        client = await self.clients.for_team(team_id)
        if client is None:
            return Unavailable("no_installation")
        try:
            return await self._make(client, channel_id)
        except SlackApiError as error:
            code = str(error.response.get("error") or error.response.status_code)
            log.info("board.canvas_refused", extra={"team_id": team_id, "error": code})
            return Unavailable(code)
        except NETWORK_ERRORS as error:
            log.warning("board.slack_unreachable", extra={"error_type": type(error).__name__})
            return Unavailable("unreachable")

    async def _make(self, client: AsyncWebClient, channel_id: str) -> Made | Unavailable:
        try:
            made = await self._channel_canvas(client, channel_id)
        except SlackApiError as error:
            code = error.response.get("error")
            if code == NOT_IN:
                try:
                    await client.conversations_join(channel=channel_id)
                except SlackApiError as refused:
                    if refused.response.get("error") in CANNOT_JOIN:
                        return Unavailable("private_channel")
                    raise
                return await self._make(client, channel_id)
            if code == "channel_not_found":
                return Unavailable("private_channel")
            if code not in TAKEN:
                raise
            made = await self._shared_canvas(client, channel_id)
        return made

    async def _channel_canvas(self, client: AsyncWebClient, channel_id: str) -> Made:
        response = await client.conversations_canvases_create(
            channel_id=channel_id, title=TITLE, document_content=_document(FIRST_TEXT)
        )
        return Made(str(response["canvas_id"]), channel_canvas=True)

    async def _shared_canvas(self, client: AsyncWebClient, channel_id: str) -> Made:
        response = await client.canvases_create(title=TITLE, document_content=_document(FIRST_TEXT))
        canvas_id = str(response["canvas_id"])
        await client.canvases_access_set(
            canvas_id=canvas_id, access_level="read", channel_ids=[channel_id]
        )
        return Made(canvas_id, channel_canvas=False)
