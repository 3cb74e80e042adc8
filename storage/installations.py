"""Workspaces that installed Hypobot through OAuth, with each bot token sealed at rest, and the
one-time states that tie an install's redirect to the browser that started it.

An organisation-wide (Enterprise Grid) install is one row with team_id "" and the
enterprise's id, holding the org's token. Each workspace of the org that sends Hypobot a
request gets a row of its own that holds no token (`bot_token_sealed` ""), only which org
it belongs to: clients that know only the team (the outbox) find the org's token through
it, and every row of Hypobot's data stays scoped by the workspace's own team_id."""

from __future__ import annotations

from contextlib import suppress
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


ORG_WIDE = ""  # the team_id of an organisation-wide installation's row
MEMBER = ""  # the sealed token of a workspace that uses its org's installation


@dataclass(frozen=True)
class InstalledBot:
    """One workspace's installation, its token in clear (in memory only). For a workspace
    served by an org-wide install, team_id is that workspace and the token is the org's;
    for the org-wide install itself, team_id is ""."""

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
    org_wide: bool = False  # the token is the org's (an Enterprise Grid org-wide install)


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


async def find(
    team_id: str, cipher: TokenCipher, *, enterprise_id: str | None = None
) -> InstalledBot | None:
    """The workspace's installation: its own, else its org's (known from an earlier request,
    or from `enterprise_id`); UnreadableToken when the key does not open it."""
    if not team_id:
        return None
    rows = await Installation.filter(team_id=team_id).order_by("-updated_at", "-id")
    own = next((row for row in rows if row.bot_token_sealed != MEMBER), None)
    if own is not None:
        return _opened(own, cipher, team_id=team_id)
    member = rows[0] if rows else None
    enterprise = member.enterprise_id if member is not None else enterprise_id
    if not enterprise:
        return None
    org = await _org_row(enterprise)
    return _opened(org, cipher, team_id=team_id) if org is not None else None


async def find_org(enterprise_id: str, cipher: TokenCipher) -> InstalledBot | None:
    """The organisation-wide installation of an Enterprise Grid org."""
    org = await _org_row(enterprise_id) if enterprise_id else None
    return _opened(org, cipher, team_id=ORG_WIDE) if org is not None else None


async def remember_member(team_id: str, enterprise_id: str, *, now: datetime) -> None:
    """Note that the workspace uses its org's installation (a row with no token), so the
    outbox, which knows only the team, finds the org's token."""
    org = await _org_row(enterprise_id)
    if org is None or not team_id:
        return
    if await Installation.filter(team_id=team_id).exists():
        return
    with suppress(IntegrityError):  # two first requests of the workspace at once
        await Installation.create(
            team_id=team_id,
            enterprise_id=enterprise_id,
            team_name="",
            app_id=org.app_id,
            bot_token_sealed=MEMBER,
            bot_id=org.bot_id,
            bot_user_id=org.bot_user_id,
            bot_scopes=org.bot_scopes,
            installed_at=now,
            updated_at=now,
        )


async def _org_row(enterprise_id: str) -> Installation | None:
    return (
        await Installation.filter(team_id=ORG_WIDE, enterprise_id=enterprise_id)
        .order_by("-updated_at", "-id")
        .first()
    )


def _opened(row: Installation, cipher: TokenCipher, *, team_id: str) -> InstalledBot:
    token = cipher.open(row.bot_token_sealed)
    if token is None:
        raise UnreadableToken(team_id)
    return InstalledBot(
        team_id=team_id,
        bot_token=token,
        bot_id=row.bot_id,
        bot_user_id=row.bot_user_id,
        installed_at=row.installed_at,
        enterprise_id=row.enterprise_id or None,
        team_name=row.team_name,
        app_id=row.app_id,
        bot_scopes=row.bot_scopes,
        installer_user_id=row.installer_user_id,
        org_wide=row.team_id == ORG_WIDE,
    )


async def delete(team_id: str) -> int:
    """Forget the workspace's tokens (uninstalled, or its tokens were revoked), or that it
    used its org's installation."""
    return await Installation.filter(team_id=team_id).delete() if team_id else 0


async def delete_org(enterprise_id: str) -> int:
    """Forget an org-wide installation and which workspaces used it; installs a workspace
    of the org made on its own stay."""
    if not enterprise_id:
        return 0
    org = Installation.filter(enterprise_id=enterprise_id, team_id=ORG_WIDE)
    members = Installation.filter(enterprise_id=enterprise_id, bot_token_sealed=MEMBER)
    return await org.delete() + await members.delete()


async def has_own(team_id: str) -> bool:
    """Whether the workspace installed Hypobot itself (not through its org)."""
    return (
        await Installation.filter(team_id=team_id).exclude(bot_token_sealed=MEMBER).exists()
        if team_id
        else False
    )


async def issue_state(state: str, *, expires_at: datetime, now: datetime) -> None:
    await OAuthState.filter(expires_at__lt=now).delete()  # abandoned installs
    await OAuthState.create(state=state, expires_at=expires_at)


async def consume_state(state: str, *, now: datetime) -> bool:
    """True once for a state issued here and not yet expired: the DELETE makes it single-use,
    also when two redirects with the same state race each other."""
    return bool(await OAuthState.filter(state=state, expires_at__gt=now).delete())
