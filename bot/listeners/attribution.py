"""Signed requests no Slack client sends: no workspace, or a command or click without a person.

They get a 400 before any listener runs, so no listener meets a KeyError halfway through.
"""

from __future__ import annotations

import logging
from collections.abc import Awaitable, Callable

from slack_bolt.middleware.async_middleware import AsyncMiddleware
from slack_bolt.request.async_request import AsyncBoltRequest
from slack_bolt.response import BoltResponse

log = logging.getLogger("hypobot.listeners")

# Payload types a person makes; every listener for them reads who acted.
_BY_A_PERSON = frozenset(
    {
        "block_actions",
        "view_submission",
        "view_closed",
        "shortcut",
        "message_action",
        "block_suggestion",
    }
)
_REFUSAL = '{"error": "no workspace or person in the request"}'


class RefuseUnattributable(AsyncMiddleware):
    """A class, not a function: Bolt builds every injectable argument for a function
    middleware, and some of those builders raise on exactly the payloads refused here."""

    async def async_process(
        self,
        *,
        req: AsyncBoltRequest,
        resp: BoltResponse,
        next: Callable[[], Awaitable[BoltResponse]],
    ) -> BoltResponse | None:
        body = req.body
        by_a_person = "command" in body or body.get("type") in _BY_A_PERSON
        if req.context.team_id is None or (by_a_person and req.context.user_id is None):
            log.warning("request.unattributable", extra={"type": str(body.get("type", "command"))})
            return BoltResponse(status=400, body=_REFUSAL)
        return await next()
