"""What every listener needs, built once at start-up and passed to `register(app, runtime)`."""

from __future__ import annotations

from dataclasses import dataclass

from bot.service import Service
from bot.settings import Settings
from bot.slack import SingleWorkspaceAuthorize
from jobs.outbox import Courier


@dataclass
class Runtime:
    settings: Settings
    service: Service
    courier: Courier
    authorize: SingleWorkspaceAuthorize | None = None

    async def warm_up(self) -> None:
        """Ask Slack who we are before the first request needs it."""
        if self.authorize is not None:
            await self.authorize.warm_up()
