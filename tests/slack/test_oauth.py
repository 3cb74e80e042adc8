"""Installing Hypobot in any workspace: /slack/install, /slack/oauth_redirect, each team's
token sealed in our database and used for that team's messages, and uninstalls."""

from __future__ import annotations

import json
from collections.abc import AsyncIterator
from dataclasses import dataclass
from pathlib import Path
from typing import Any
from urllib.parse import parse_qs, urlencode, urlsplit

import aiohttp
import pytest
import yaml
from cryptography.fernet import Fernet
from tortoise import connections

from bot import oauth
from bot.listeners.functions.steps import CREATE_BET
from bot.runtime import Runtime
from console.fakeslack import FakeSlack, serve_on_loopback
from console.signing import event_body
from ops.settings import Settings, SettingsError, load_settings
from outbox import queue
from outbox.clients import InstalledWorkspaces
from outbox.kinds import Kind
from server.process import assemble
from storage import db
from storage.installations import TokenCipher
from storage.models import Bet, Installation, OAuthState, Outbox
from testkit.signing import SlackClient, sign
from tests.conftest import Clock, eventually, hypobot_settings
from tests.flows import settle
from tests.jobs_support import ONE_LINER

KEY = Fernet.generate_key().decode()
CLIENT_ID = "1234567890.1234567890123"
CLIENT_SECRET = "test-client-secret"
STATE_COOKIE = "slack-app-oauth-state"
MANIFEST = Path(__file__).resolve().parents[2] / "manifest.yml"


def oauth_settings(fake: FakeSlack, database: str, **overrides: Any) -> Settings:
    values: dict[str, Any] = {
        "slack_bot_token": None,
        "slack_client_id": CLIENT_ID,
        "slack_client_secret": CLIENT_SECRET,
        "hypobot_encryption_key": KEY,
    }
    return hypobot_settings(fake, database, **(values | overrides))


@dataclass
class Installable:
    """Hypobot in OAuth mode, served on loopback, talking to the fake Slack."""

    url: str
    fake: FakeSlack
    session: aiohttp.ClientSession
    runtime: Runtime
    clock: Clock
    database: str

    @property
    def slack(self) -> SlackClient:
        return SlackClient(self.url, self.session)

    async def start_install(self) -> tuple[int, str, str]:
        """GET /slack/install: (status, Location, state)."""
        async with self.session.get(f"{self.url}/slack/install", allow_redirects=False) as r:
            location = r.headers.get("Location", "")
            state = parse_qs(urlsplit(location).query).get("state", [""])[0]
            return r.status, location, state

    async def finish_install(self, state: str, code: str, *, cookie: str | None = None) -> int:
        """GET /slack/oauth_redirect from the browser that holds the state cookie."""
        query = urlencode({"code": code, "state": state})
        headers = {"Cookie": f"{STATE_COOKIE}={state if cookie is None else cookie}"}
        async with self.session.get(
            f"{self.url}/slack/oauth_redirect?{query}", headers=headers, allow_redirects=False
        ) as r:
            await r.read()
            return r.status

    async def install(self, team_id: str) -> None:
        code = f"code-{team_id}"
        self.fake.oauth_codes[code] = team_id
        _, _, state = await self.start_install()
        assert await self.finish_install(state, code) == 200

    async def install_org(self, enterprise_id: str) -> None:
        """An org admin installs Hypobot org-wide (Enterprise Grid)."""
        code = f"code-{enterprise_id}"
        self.fake.org_codes[code] = enterprise_id
        _, _, state = await self.start_install()
        assert await self.finish_install(state, code) == 200

    async def event_in_org(self, event: dict[str, Any], *, team_id: str, enterprise_id: str) -> int:
        """An event from a workspace of an org where Hypobot is installed org-wide."""
        envelope = json.loads(event_body(event, team_id=team_id))
        envelope["enterprise_id"] = envelope["context_enterprise_id"] = enterprise_id
        envelope["authorizations"][0].update(
            {"enterprise_id": enterprise_id, "is_enterprise_install": True}
        )
        body = json.dumps(envelope)
        status, _ = await self.slack.post_raw(body, "application/json", sign(body))
        return status

    async def command(self, text: str, *, team_id: str, **kw: Any) -> tuple[int, Any]:
        kw.setdefault("response_url", self.fake.response_url(f"command-{team_id}"))
        return await self.slack.command(text, team_id=team_id, **kw)

    async def deliver(self) -> None:
        await self.runtime.sender.drain()
        await self.runtime.sender.deliver(now=self.clock())


@pytest.fixture
async def installable(
    database: str, fake_slack: FakeSlack, clock: Clock
) -> AsyncIterator[Installable]:
    process = assemble(oauth_settings(fake_slack, database), clock=clock)
    runtime = process.runtime
    await runtime.warm_up()
    async with (
        serve_on_loopback(process.web_app()) as url,
        aiohttp.ClientSession() as session,
    ):
        yield Installable(url, fake_slack, session, runtime, clock, database)
        await runtime.sender.drain()
        await runtime.close()


def posts_by_token(fake: FakeSlack) -> dict[str | None, set[str | None]]:
    """chat.postMessage calls: which channels each token posted to."""
    posted: dict[str | None, set[str | None]] = {}
    for call in fake.calls_to("chat.postMessage"):
        posted.setdefault(call.token, set()).add(call.channel)
    return posted


# --- /slack/install ----------------------------------------------------------------------------


async def test_install_redirects_to_slack_authorize_with_a_state_kept_in_the_database(
    installable: Installable,
) -> None:
    status, location, state = await installable.start_install()
    assert status == 302
    assert location.startswith(f"{installable.fake.root_url}oauth/v2/authorize?")
    query = parse_qs(urlsplit(location).query)
    assert query["client_id"] == [CLIENT_ID]
    assert query["scope"] == [",".join(oauth.BOT_SCOPES)]
    assert await OAuthState.filter(state=state).exists()


def test_authorize_page_sits_beside_the_web_api() -> None:
    assert oauth.authorization_url("https://slack.com/api/") == (
        "https://slack.com/oauth/v2/authorize"
    )
    assert oauth.authorization_url("https://slack-gov.com/api/") == (
        "https://slack-gov.com/oauth/v2/authorize"
    )
    assert oauth.authorization_url("https://proxy.internal/slack/") == (
        "https://slack.com/oauth/v2/authorize"
    )


def test_requested_bot_scopes_are_the_manifest_bot_scopes() -> None:
    manifest = yaml.safe_load(MANIFEST.read_text())
    assert set(oauth.BOT_SCOPES) == set(manifest["oauth_config"]["scopes"]["bot"])


# --- /slack/oauth_redirect ---------------------------------------------------------------------


async def test_redirect_stores_the_installation_with_the_token_sealed(
    installable: Installable,
) -> None:
    installable.fake.oauth_codes["code-1"] = "T2"
    _, _, state = await installable.start_install()

    assert await installable.finish_install(state, "code-1") == 200

    row = await Installation.get(team_id="T2")
    assert (row.bot_user_id, row.bot_id, row.installer_user_id) == ("UBOT", "BBOT", "U1")
    raw = await connections.get(db.connection_name(installable.database)).execute_query_dict(
        "SELECT * FROM installations"
    )
    assert "xoxb-fake-T2" not in repr(raw)
    assert TokenCipher(KEY).open(row.bot_token_sealed) == "xoxb-fake-T2"
    assert not await OAuthState.filter(state=state).exists()  # good once


async def test_installing_again_replaces_the_token_and_keeps_one_row(
    installable: Installable,
) -> None:
    await installable.install("T2")
    first = await Installation.get(team_id="T2")

    await installable.install("T2")

    rows = await Installation.filter(team_id="T2")
    assert len(rows) == 1
    assert rows[0].bot_token_sealed != first.bot_token_sealed  # Fernet seals with a fresh IV
    assert rows[0].installed_at == first.installed_at


async def test_redirect_with_a_state_never_issued_is_refused_and_stores_nothing(
    installable: Installable,
) -> None:
    installable.fake.oauth_codes["code-1"] = "T2"

    status = await installable.finish_install("forged-state", "code-1")

    assert status == 401
    assert not await Installation.exists()
    assert installable.fake.calls_to("oauth.v2.access") == []


async def test_redirect_with_an_expired_state_is_refused(installable: Installable) -> None:
    installable.fake.oauth_codes["code-1"] = "T2"
    _, _, state = await installable.start_install()
    installable.clock.advance(seconds=oauth.STATE_TTL_S + 1)

    assert await installable.finish_install(state, "code-1") == 401
    assert not await Installation.exists()


async def test_redirect_with_a_used_state_is_refused(installable: Installable) -> None:
    installable.fake.oauth_codes["code-1"] = "T2"
    _, _, state = await installable.start_install()
    assert await installable.finish_install(state, "code-1") == 200

    assert await installable.finish_install(state, "code-1") == 401


async def test_redirect_from_another_browser_is_refused(installable: Installable) -> None:
    installable.fake.oauth_codes["code-1"] = "T2"
    _, _, state = await installable.start_install()

    assert await installable.finish_install(state, "code-1", cookie="someone-else") == 400
    assert not await Installation.exists()


# --- using an installation ---------------------------------------------------------------------


async def test_command_from_an_installed_workspace_posts_its_card_with_that_workspace_token(
    installable: Installable,
) -> None:
    await installable.install("T2")

    status, body = await installable.command(f"new {ONE_LINER}", team_id="T2", channel_id="C2")
    await installable.deliver()

    assert status == 200, body
    bet = await Bet.get(team_id="T2", number=1)
    assert bet.card_ts is not None
    assert posts_by_token(installable.fake) == {"xoxb-fake-T2": {"C2"}}


async def test_each_workspace_outbox_rows_go_out_with_its_own_token(
    installable: Installable,
) -> None:
    await installable.install("T2")
    await installable.install("T3")

    await installable.command(f"new {ONE_LINER}", team_id="T2", channel_id="C2")
    await installable.command(f"new {ONE_LINER}", team_id="T3", channel_id="C3")
    await installable.deliver()

    assert posts_by_token(installable.fake) == {"xoxb-fake-T2": {"C2"}, "xoxb-fake-T3": {"C3"}}
    assert await Outbox.filter(status="sent").count() == 2


async def test_workspace_admin_check_asks_slack_with_the_team_token(
    installable: Installable,
) -> None:
    await installable.install("T2")
    installable.fake.admins.add("UBOSS")
    await installable.command(f"new {ONE_LINER}", team_id="T2", user_id="U1")

    status, body = await installable.command(
        "kill H-1 nobody asked for it", team_id="T2", user_id="UBOSS"
    )
    await installable.deliver()

    assert status == 200, body
    assert (await Bet.get(team_id="T2", number=1)).state == "killed"
    tokens = {call.token for call in installable.fake.calls_to("users.info")}
    assert tokens == {"xoxb-fake-T2"}


async def test_command_from_a_workspace_that_never_installed_is_told_so(
    installable: Installable,
) -> None:
    status, _ = await installable.command(f"new {ONE_LINER}", team_id="T9")

    assert status == 200
    answers = await installable.fake.wait_for("response_url")
    assert "not installed" in (answers[0].text or "")
    assert not await Bet.exists()


async def test_installed_workspaces_reuse_one_client_per_team(installable: Installable) -> None:
    await installable.install("T2")
    clients = InstalledWorkspaces(
        oauth.installations(oauth_settings(installable.fake, installable.database)).bot_token,
        installable.fake.base_url,
    )

    try:
        first = await clients.for_team("T2")

        assert first is not None and first.token == "xoxb-fake-T2"
        assert await clients.for_team("T2") is first
        assert await clients.for_team("T9") is None
    finally:
        await clients.close()  # its connection pool, as the runtime closes it at shutdown


async def test_a_token_sealed_with_another_key_counts_as_not_installed(
    installable: Installable,
) -> None:
    await installable.install("T2")
    another_key = Fernet.generate_key().decode()
    other = oauth.installations(
        oauth_settings(installable.fake, installable.database, hypobot_encryption_key=another_key)
    )

    assert await other.bot_token("T2") is None
    assert await installable.runtime.sender.clients.for_team("T2") is not None


# --- uninstalling ------------------------------------------------------------------------------


async def test_app_uninstalled_forgets_the_tokens_and_later_rows_fail_as_no_installation(
    installable: Installable,
) -> None:
    await installable.install("T2")
    await installable.install("T3")
    await installable.command(f"new {ONE_LINER}", team_id="T2", channel_id="C2")
    await installable.deliver()

    status, _ = await installable.slack.event({"type": "app_uninstalled"}, team_id="T2")

    assert status == 200

    async def forgotten() -> bool:
        return not await Installation.filter(team_id="T2").exists()

    await eventually(forgotten)
    assert await Installation.filter(team_id="T3").exists()
    assert await Bet.filter(team_id="T2").exists()  # the team's data stays until purged
    now = installable.clock()
    row = await queue.enqueue(Kind.REPORT, "T2", "C2", {"text": "hello"}, now=now)
    await installable.deliver()
    failed = await Outbox.get(id=row.id)
    assert failed.status == "failed"
    assert failed.last_error.startswith("no_installation")


async def test_tokens_revoked_for_the_bot_forgets_the_tokens(installable: Installable) -> None:
    await installable.install("T2")

    event = {"type": "tokens_revoked", "tokens": {"oauth": [], "bot": ["UBOT"]}}
    status, _ = await installable.slack.event(event, team_id="T2")

    assert status == 200

    async def forgotten() -> bool:
        return not await Installation.filter(team_id="T2").exists()

    await eventually(forgotten)


async def test_tokens_revoked_for_a_user_keeps_the_bot(installable: Installable) -> None:
    await installable.install("T2")

    event = {"type": "tokens_revoked", "tokens": {"oauth": ["U1"], "bot": []}}
    status, _ = await installable.slack.event(event, team_id="T2")

    assert status == 200
    assert await installable.runtime.sender.clients.for_team("T2") is not None
    assert await Installation.filter(team_id="T2").exists()


# --- organisation-wide installs (Enterprise Grid) ---------------------------------------------


async def test_an_org_wide_install_is_stored_under_its_enterprise(
    installable: Installable,
) -> None:
    await installable.install_org("E1")

    row = await Installation.get(enterprise_id="E1")
    assert (row.team_id, row.team_name) == ("", "Org E1")
    assert TokenCipher(KEY).open(row.bot_token_sealed) == "xoxb-fake-E1"


async def test_a_step_run_in_a_workspace_of_the_org_uses_the_orgs_token_and_that_workspace(
    installable: Installable,
) -> None:
    await installable.install_org("E1")
    inputs = {"hypothesis": "We believe x for y will z", "owner": "UOWNER", "channel": "C2"}

    status, _ = await installable.slack.step(
        CREATE_BET, inputs, team_id="T2", enterprise_id="E1", execution_id="FxORG"
    )
    await settle(installable)  # type: ignore[arg-type]

    assert status == 200
    assert installable.fake.completed_steps["FxORG"] == ("success", {"key": "H-1"})
    assert await Bet.filter(team_id="T2", number=1).exists()  # the workspace's own data
    assert posts_by_token(installable.fake) == {"xoxb-fake-E1": {"C2"}}
    member = await Installation.get(team_id="T2")
    assert member.enterprise_id == "E1" and member.bot_token_sealed == ""  # no token of its own


async def test_workspaces_of_an_org_keep_their_bets_apart(installable: Installable) -> None:
    await installable.install_org("E1")
    inputs = {"hypothesis": "We believe x for y will z", "owner": "UOWNER", "channel": "C2"}

    for team_id in ("T2", "T3"):
        await installable.slack.step(
            CREATE_BET, inputs, team_id=team_id, enterprise_id="E1", execution_id=f"Fx{team_id}"
        )
    await settle(installable)  # type: ignore[arg-type]

    assert installable.fake.completed_steps["FxT2"] == ("success", {"key": "H-1"})
    assert installable.fake.completed_steps["FxT3"] == ("success", {"key": "H-1"})
    assert sorted(await Bet.all().values_list("team_id", flat=True)) == ["T2", "T3"]


async def test_a_workspace_of_another_org_is_not_served_by_an_org_install(
    installable: Installable,
) -> None:
    await installable.install_org("E1")
    inputs = {"hypothesis": "We believe x for y will z", "owner": "UOWNER", "channel": "C2"}

    await installable.slack.step(
        CREATE_BET, inputs, team_id="T9", enterprise_id="E9", execution_id="FxOTHER"
    )
    await settle(installable)  # type: ignore[arg-type]

    assert "FxOTHER" not in installable.fake.completed_steps
    assert not await Bet.exists()
    assert not await Installation.filter(team_id="T9").exists()


async def test_uninstalling_an_org_forgets_its_token_and_its_workspaces(
    installable: Installable,
) -> None:
    await installable.install_org("E1")
    await installable.install("T5")  # a workspace that installed Hypobot itself
    await installable.slack.step(
        CREATE_BET,
        {"hypothesis": "We believe x for y will z", "owner": "UOWNER", "channel": "C2"},
        team_id="T2",
        enterprise_id="E1",
    )
    await settle(installable)  # type: ignore[arg-type]
    assert await Installation.filter(team_id="T2").exists()

    status = await installable.event_in_org(
        {"type": "app_uninstalled"}, team_id="T2", enterprise_id="E1"
    )

    assert status == 200

    async def forgotten() -> bool:
        return not await Installation.filter(enterprise_id="E1").exists()

    await eventually(forgotten)
    assert await Installation.filter(team_id="T5").exists()
    assert await Bet.filter(team_id="T2").exists()  # the workspace's data stays until purged


# --- settings ----------------------------------------------------------------------------------


def test_oauth_variables_stand_in_for_the_bot_token() -> None:
    settings = Settings(
        slack_signing_secret="s3cret-value",
        slack_client_id=CLIENT_ID,
        slack_client_secret=CLIENT_SECRET,
        hypobot_encryption_key=KEY,
    )

    settings.require_slack()

    assert settings.multi_workspace


def test_a_client_id_without_secret_and_key_names_both() -> None:
    settings = Settings(slack_signing_secret="s3cret-value", slack_client_id=CLIENT_ID)

    with pytest.raises(SettingsError) as refused:
        settings.require_slack()

    message = str(refused.value)
    assert message.startswith("SLACK_CLIENT_SECRET and HYPOBOT_ENCRYPTION_KEY are not set")
    assert "Fernet.generate_key()" in message
    assert "\n" not in message


def test_a_malformed_encryption_key_says_how_to_make_one(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    monkeypatch.setenv("HYPOBOT_ENCRYPTION_KEY", "not-a-key")

    with pytest.raises(SettingsError) as refused:
        load_settings()

    message = str(refused.value)
    assert message.startswith("HYPOBOT_ENCRYPTION_KEY is malformed (must be a Fernet key")
    assert "Fernet.generate_key()" in message
    assert "not-a-key" not in message
