"""Installing Hypobot in any workspace: Bolt's OAuth flow with its installations, states and
per-request authorization kept in our database (storage/installations.py)."""

from __future__ import annotations

import logging
import uuid
from collections.abc import Callable
from datetime import UTC, datetime, timedelta
from typing import Any
from urllib.parse import urlsplit, urlunsplit

from slack_bolt.authorization import AuthorizeResult
from slack_bolt.authorization.async_authorize import AsyncAuthorize
from slack_bolt.context.async_context import AsyncBoltContext
from slack_bolt.error import BoltError
from slack_bolt.oauth.async_oauth_settings import AsyncOAuthSettings
from slack_sdk.oauth.installation_store import Bot, Installation
from slack_sdk.oauth.installation_store.async_installation_store import AsyncInstallationStore
from slack_sdk.oauth.state_store.async_state_store import AsyncOAuthStateStore

from ops.settings import Settings
from storage import installations as store
from storage.installations import InstalledBot, TokenCipher, UnreadableToken

log = logging.getLogger("hypobot.oauth")

INSTALL_PATH = "/slack/install"
REDIRECT_PATH = "/slack/oauth_redirect"
STATE_TTL_S = 600
# The bot scopes of manifest.yml (tests/test_oauth.py keeps the two lists equal).
# The same as manifest.yml's, each for what uses it (tests/slack/test_manifest.py). No
# chat:write.public: Hypobot joins a public channel (channels:join) so it hears replies, and
# no channels:read: it learns that a channel is public by joining it.
BOT_SCOPES = (
    "commands",  # /hypothesis
    "chat:write",  # chat.postMessage, chat.update, chat.postEphemeral
    "channels:join",  # conversations.join, before a bet's first card in a public channel
    "channels:history",  # message.channels (thread replies), conversations.history/replies
    "groups:history",  # the same in private channels
    "groups:read",  # member_joined_channel in private channels (Hypobot was invited)
    "users:read",  # users.info (is_admin)
    "app_mentions:read",  # app_mention
    "files:write",  # files_upload_v2: report charts
    "canvases:write",  # the channel's board: conversations.canvases.create, canvases.*
)
NOT_INSTALLED = (
    ":warning: Hypobot is not installed in this workspace (any more). "
    "Ask a workspace admin to install it again."
)


def _now() -> datetime:
    return datetime.now(UTC)


class Installations(AsyncInstallationStore):
    """Bolt's installation store, bot tokens only: one installation per workspace, or one
    per Enterprise Grid org installed org-wide.

    Slack lists an app's workflow steps in an Enterprise Grid org only when the app is
    installed at the org level, so org-wide installs are kept too: the org's token is found
    by enterprise id, and each workspace of the org that sends a request is remembered as
    using it, so the outbox (which knows only the team) finds that token. Every row of
    Hypobot's data still belongs to the workspace the request came from.
    """

    def __init__(self, cipher: TokenCipher, *, clock: Callable[[], datetime] = _now) -> None:
        self.cipher = cipher
        self.clock = clock

    @property
    def logger(self) -> logging.Logger:
        return log

    async def bot(self, team_id: str, *, enterprise_id: str | None = None) -> InstalledBot | None:
        """The workspace's installation, or its org's (by `enterprise_id`, or as remembered
        from an earlier request of the workspace)."""
        try:
            return await store.find(team_id, self.cipher, enterprise_id=enterprise_id)
        except UnreadableToken:
            self._unreadable(team_id)
            return None

    async def org(self, enterprise_id: str) -> InstalledBot | None:
        try:
            return await store.find_org(enterprise_id, self.cipher)
        except UnreadableToken:
            self._unreadable(enterprise_id)
            return None

    async def serving(self, team_id: str | None, enterprise_id: str | None) -> InstalledBot | None:
        """The installation that serves a request from `team_id` (in `enterprise_id`): the
        workspace's own, else its org's, remembered for the workspace on first use."""
        if not team_id:
            return await self.org(enterprise_id) if enterprise_id else None
        found = await self.bot(team_id, enterprise_id=enterprise_id)
        if found is not None and found.org_wide and found.enterprise_id:
            await store.remember_member(team_id, found.enterprise_id, now=self.clock())
        return found

    def _unreadable(self, who: str) -> None:
        log.error(
            "installation.unreadable",
            extra={
                "team_id": who,
                "hint": "sealed with another HYPOBOT_ENCRYPTION_KEY; install again",
            },
        )

    async def bot_token(self, team_id: str) -> str | None:
        """The workspace's bot token, for clients that are not serving a request (the outbox)."""
        found = await self.bot(team_id)
        return found.bot_token if found else None

    async def async_save(self, installation: Installation) -> None:
        await self._save(installation.to_bot(), installer_user_id=installation.user_id)

    async def async_save_bot(self, bot: Bot) -> None:
        await self._save(bot, installer_user_id=None)

    async def _save(self, bot: Bot, *, installer_user_id: str | None) -> None:
        org_wide = bool(bot.is_enterprise_install)
        if org_wide and not bot.enterprise_id:
            raise BoltError("an organisation-wide install came without its enterprise id")
        if not org_wide and not bot.team_id:
            raise BoltError("a workspace install came without its team id")
        if not bot.bot_token:
            raise BoltError("the install granted no bot token")
        team_id = store.ORG_WIDE if org_wide else str(bot.team_id)
        if bot.bot_refresh_token:
            log.warning("installation.token_rotation_unsupported", extra={"team_id": team_id})
        scopes = ",".join(bot.bot_scopes) if bot.bot_scopes else ""
        installed = InstalledBot(
            team_id=team_id,
            bot_token=bot.bot_token,
            bot_id=bot.bot_id,
            bot_user_id=bot.bot_user_id,
            installed_at=self.clock(),
            enterprise_id=bot.enterprise_id,
            team_name=(bot.enterprise_name if org_wide else bot.team_name) or "",
            app_id=bot.app_id or "",
            bot_scopes=scopes,
            installer_user_id=installer_user_id,
        )
        await store.save(installed, self.cipher, now=self.clock())
        log.info(
            "installation.saved",
            extra={
                "team_id": team_id,
                "enterprise_id": bot.enterprise_id or "",
                "org_wide": org_wide,
                "scopes": scopes,
            },
        )

    async def async_find_bot(
        self,
        *,
        enterprise_id: str | None,
        team_id: str | None,
        is_enterprise_install: bool | None = False,
    ) -> Bot | None:
        found = await self._found(enterprise_id, team_id, is_enterprise_install)
        if found is None:
            return None
        return Bot(**_bot_fields(found))

    async def _found(
        self, enterprise_id: str | None, team_id: str | None, is_enterprise_install: bool | None
    ) -> InstalledBot | None:
        if is_enterprise_install:
            return await self.org(enterprise_id) if enterprise_id else None
        return await self.bot(team_id, enterprise_id=enterprise_id) if team_id else None

    async def async_find_installation(
        self,
        *,
        enterprise_id: str | None,
        team_id: str | None,
        user_id: str | None = None,
        is_enterprise_install: bool | None = False,
    ) -> Installation | None:
        """The bot installation; no user tokens are kept, so a given user finds nothing
        unless they are the installer."""
        found = await self._found(enterprise_id, team_id, is_enterprise_install)
        if found is None or (user_id is not None and user_id != found.installer_user_id):
            return None
        return Installation(**_bot_fields(found), user_id=found.installer_user_id or "")

    async def async_delete_bot(self, *, enterprise_id: str | None, team_id: str | None) -> None:
        """A workspace that installed Hypobot itself forgets its token; a workspace served
        by its org's install means the org's token went: the org's install is forgotten,
        with every workspace that used it."""
        if team_id and (await store.has_own(team_id) or not enterprise_id):
            deleted = await store.delete(team_id)
            log.info("installation.deleted", extra={"team_id": team_id, "rows": deleted})
        elif enterprise_id:
            deleted = await store.delete_org(enterprise_id)
            log.info(
                "installation.deleted", extra={"enterprise_id": enterprise_id, "rows": deleted}
            )

    async def async_delete_installation(
        self, *, enterprise_id: str | None, team_id: str | None, user_id: str | None = None
    ) -> None:
        # A user's revoked token (tokens_revoked lists users): none is kept, nothing to forget.
        if user_id is None:
            await self.async_delete_bot(enterprise_id=enterprise_id, team_id=team_id)

    async def async_delete_all(self, *, enterprise_id: str | None, team_id: str | None) -> None:
        await self.async_delete_bot(enterprise_id=enterprise_id, team_id=team_id)


class OAuthStates(AsyncOAuthStateStore):
    """States for /slack/install, in the database so any replica can finish the install."""

    def __init__(
        self, *, expiration_seconds: int = STATE_TTL_S, clock: Callable[[], datetime] = _now
    ) -> None:
        self.expiration = timedelta(seconds=expiration_seconds)
        self.clock = clock

    @property
    def logger(self) -> logging.Logger:
        return log

    async def async_issue(self, *args: Any, **kwargs: Any) -> str:
        state = uuid.uuid4().hex
        now = self.clock()
        await store.issue_state(state, expires_at=now + self.expiration, now=now)
        return state

    async def async_consume(self, state: str) -> bool:
        consumed = await store.consume_state(state, now=self.clock()) if state else False
        if not consumed:
            log.warning("oauth.state_refused")
        return consumed


class InstallationAuthorize(AsyncAuthorize):
    """Each request's bot token from its workspace's installation.

    Unlike Bolt's default, it does not call auth.test on every request: the bot's ids were
    recorded at install time, and an extra round trip would eat into the 3-second ack.
    """

    def __init__(self, installations: Installations) -> None:
        super().__init__()
        self.installations = installations

    async def __call__(
        self,
        *,
        context: AsyncBoltContext,
        enterprise_id: str | None,
        team_id: str | None,
        user_id: str | None,
        actor_enterprise_id: str | None = None,
        actor_team_id: str | None = None,
        actor_user_id: str | None = None,
    ) -> AuthorizeResult | None:
        found = await self.installations.serving(team_id, enterprise_id)
        if found is None:
            log.warning(
                "request.not_installed",
                extra={"team_id": team_id, "enterprise_id": enterprise_id or ""},
            )
            return None
        return AuthorizeResult(
            enterprise_id=enterprise_id,
            team_id=team_id,
            team=found.team_name or None,
            bot_user_id=found.bot_user_id,
            bot_id=found.bot_id,
            bot_token=found.bot_token,
            bot_scopes=found.bot_scopes,
            user_id=user_id,
        )


def authorization_url(api_url: str) -> str:
    """Slack's authorize page beside its Web API (GovSlack: slack-gov.com), else slack.com's."""
    parts = urlsplit(api_url)
    if parts.path.rstrip("/").endswith("/api"):
        root = parts.path.rstrip("/").removesuffix("/api")
        return urlunsplit((parts.scheme, parts.netloc, root + "/oauth/v2/authorize", "", ""))
    return "https://slack.com/oauth/v2/authorize"


def installations(settings: Settings, *, clock: Callable[[], datetime] = _now) -> Installations:
    if settings.hypobot_encryption_key is None:
        raise BoltError("HYPOBOT_ENCRYPTION_KEY is required to keep bot tokens")
    cipher = TokenCipher(settings.hypobot_encryption_key.get_secret_value())
    return Installations(cipher, clock=clock)


def oauth_settings(
    settings: Settings, installed: Installations, *, clock: Callable[[], datetime] = _now
) -> AsyncOAuthSettings:
    """/slack/install redirects straight to Slack, /slack/oauth_redirect stores the bot."""
    if settings.slack_client_id is None or settings.slack_client_secret is None:
        raise BoltError("SLACK_CLIENT_ID and SLACK_CLIENT_SECRET are required to install")
    return AsyncOAuthSettings(
        client_id=settings.slack_client_id,
        client_secret=settings.slack_client_secret.get_secret_value(),
        scopes=list(BOT_SCOPES),
        user_scopes=[],
        install_path=INSTALL_PATH,
        redirect_uri_path=REDIRECT_PATH,
        install_page_rendering_enabled=False,
        authorization_url=authorization_url(settings.slack_api_url),
        installation_store=installed,
        installation_store_bot_only=True,
        state_store=OAuthStates(expiration_seconds=STATE_TTL_S, clock=clock),
        state_expiration_seconds=STATE_TTL_S,
        logger=logging.getLogger("hypobot.bolt.oauth"),
    )


def _bot_fields(found: Any) -> dict[str, Any]:
    """What Bolt's Bot and Installation share, from our stored installation."""
    return {
        "app_id": found.app_id or None,
        "enterprise_id": found.enterprise_id,
        "team_id": found.team_id,
        "team_name": found.team_name,
        "bot_token": found.bot_token,
        "bot_id": found.bot_id,
        "bot_user_id": found.bot_user_id,
        "bot_scopes": found.bot_scopes,
        "installed_at": found.installed_at.timestamp(),
    }
