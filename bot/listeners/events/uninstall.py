"""Uninstalls and revoked tokens: forget the workspace's tokens. Its bets stay (they are the
team's) until `hypobot purge --team T` deletes them."""

from __future__ import annotations

import logging
from typing import Any

from slack_bolt.async_app import AsyncApp
from slack_bolt.context.async_context import AsyncBoltContext
from slack_bolt.listener.async_builtins import AsyncTokenRevocationListeners

log = logging.getLogger("hypobot.listeners")


def register(app: AsyncApp) -> None:
    """Bolt's own revocation handling when installations are kept (OAuth mode); with one
    SLACK_BOT_TOKEN there is nothing stored to forget, so the event is only logged."""
    store = app.installation_store
    revocation = AsyncTokenRevocationListeners(store) if store is not None else None

    async def app_uninstalled(context: AsyncBoltContext) -> None:
        log.info("workspace.uninstalled", extra={"team_id": context.team_id})
        if revocation is not None:
            await revocation.handle_app_uninstalled_events(context)

    async def tokens_revoked(event: dict[str, Any], context: AsyncBoltContext) -> None:
        tokens = event.get("tokens") or {}
        log.info(
            "workspace.tokens_revoked",
            extra={
                "team_id": context.team_id,
                "bot": bool(tokens.get("bot")),
                "users": len(tokens.get("oauth") or []),
            },
        )
        if revocation is not None:
            await revocation.handle_tokens_revoked_events(event, context)

    app.event("app_uninstalled")(app_uninstalled)
    app.event("tokens_revoked")(tokens_revoked)
