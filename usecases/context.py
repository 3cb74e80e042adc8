"""Who acts, and what every use case needs that is not a row: the clock and who may close."""

from __future__ import annotations

from collections.abc import Awaitable, Callable
from dataclasses import dataclass, field
from datetime import UTC, datetime


@dataclass(frozen=True)
class Actor:
    """Who acted, in which workspace, from which channel."""

    team_id: str
    user_id: str
    channel_id: str | None = None


def _now() -> datetime:
    return datetime.now(UTC)


@dataclass
class Context:
    """Built once at start-up and handed to every use case."""

    clock: Callable[[], datetime] = _now
    default_timezone: str = "UTC"
    admins: frozenset[str] = frozenset()  # HYPOBOT_ADMINS: may close any bet
    # Slack's own answer to "is this user a workspace admin?" (users.info), when available.
    is_workspace_admin: Callable[[str, str], Awaitable[bool]] | None = field(default=None)

    async def may_close(self, actor: Actor, owner_id: str, creator_id: str) -> bool:
        """Only a bet's owner, its creator or an admin may validate, invalidate or kill it."""
        if actor.user_id in (owner_id, creator_id) or actor.user_id in self.admins:
            return True
        if self.is_workspace_admin is None:
            return False
        return await self.is_workspace_admin(actor.team_id, actor.user_id)
