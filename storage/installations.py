"""Workspaces that installed Hypobot through OAuth, with each bot token sealed at rest, and the
one-time states that tie an install's redirect to the browser that started it."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime
from typing import Any

from cryptography.fernet import Fernet, InvalidToken
from tortoise.exceptions import IntegrityError

from storage.models import Installation, OAuthState


class TokenCipher:
    """Seals bot tokens with HYPOBOT_ENCRYPTION_KEY (a Fernet key) before they reach a row."""

    def __init__(self, key: str) -> None:
        self._fernet = Fernet(key.encode())

    def seal(self, token: str) -> str:
        return self._fernet.encrypt(token.encode()).decode()

    def open(self, sealed: str) -> str | None:
        """The token, or None when it was sealed with another key."""
        try:
            return self._fernet.decrypt(sealed.encode()).decode()
        except InvalidToken:
            return None


@dataclass(frozen=True)
class InstalledBot:
    """One workspace's installation, its token in clear (in memory only)."""

    team_id: str
    bot_token: str
    bot_id: str
    bot_user_id: str
    installed_at: datetime
    enterprise_id: str | None = None
    team_name: str = ""
    app_id: str = ""
    bot_scopes: str = ""
    installer_user_id: str | None = None


class UnreadableToken(Exception):
    """The stored token was sealed with another HYPOBOT_ENCRYPTION_KEY."""


async def save(bot: InstalledBot, cipher: TokenCipher, *, now: datetime) -> None:
    """Insert, or replace the token and scopes of a workspace that installs again."""
    key: dict[str, Any] = {"team_id": bot.team_id, "enterprise_id": bot.enterprise_id or ""}
    values: dict[str, Any] = {
        "team_name": bot.team_name,
        "app_id": bot.app_id,
        "bot_token_sealed": cipher.seal(bot.bot_token),
        "bot_id": bot.bot_id,
        "bot_user_id": bot.bot_user_id,
        "bot_scopes": bot.bot_scopes,
        "updated_at": now,
    }
    if bot.installer_user_id is not None:
        values["installer_user_id"] = bot.installer_user_id
    if await Installation.filter(**key).update(**values):
        return
    try:
        await Installation.create(**key, **values, installed_at=bot.installed_at)
    except IntegrityError:  # the same workspace, installed twice at once
        await Installation.filter(**key).update(**values)


async def find(team_id: str, cipher: TokenCipher) -> InstalledBot | None:
    """The workspace's newest installation; UnreadableToken when the key does not open it."""
    row = await Installation.filter(team_id=team_id).order_by("-updated_at", "-id").first()
    if row is None:
        return None
    token = cipher.open(row.bot_token_sealed)
    if token is None:
        raise UnreadableToken(team_id)
    return InstalledBot(
        team_id=row.team_id,
        bot_token=token,
        bot_id=row.bot_id,
        bot_user_id=row.bot_user_id,
        installed_at=row.installed_at,
        enterprise_id=row.enterprise_id or None,
        team_name=row.team_name,
        app_id=row.app_id,
        bot_scopes=row.bot_scopes,
        installer_user_id=row.installer_user_id,
    )


async def delete(team_id: str) -> int:
    """Forget the workspace's tokens (uninstalled, or its tokens were revoked)."""
    return await Installation.filter(team_id=team_id).delete()


async def issue_state(state: str, *, expires_at: datetime, now: datetime) -> None:
    await OAuthState.filter(expires_at__lt=now).delete()  # abandoned installs
    await OAuthState.create(state=state, expires_at=expires_at)


async def consume_state(state: str, *, now: datetime) -> bool:
    """True once for a state issued here and not yet expired: the DELETE makes it single-use,
    also when two redirects with the same state race each other."""
    return bool(await OAuthState.filter(state=state, expires_at__gt=now).delete())
