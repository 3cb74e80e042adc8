"""manifest.yml is a valid Slack app manifest, and Hypobot asks for exactly the scopes it uses:
each one is needed by a Web API method the code calls (as Slack's own spec says), an event it
subscribes to, or the slash command; the manifest and the OAuth install ask for the same."""

from __future__ import annotations

import json
import re
from pathlib import Path
from typing import Any

import jsonschema
import pytest
import yaml
from slack_sdk.web.async_client import AsyncWebClient

from bot.oauth import BOT_SCOPES
from tests.slack.slack_reference import MANIFEST_SCHEMA, WEB_API

ROOT = Path(__file__).resolve().parents[2]
SCHEMA = MANIFEST_SCHEMA
SLACK_EDGE = ("bot", "outbox", "jobs")  # where Web API calls are made

# Every Web API method the code calls (its slack_sdk name) and the bot scope it needs.
CALLED: dict[str, tuple[str, str | None]] = {
    "chat_postMessage": ("chat.postMessage", "chat:write"),
    "chat_update": ("chat.update", "chat:write"),
    "chat_postEphemeral": ("chat.postEphemeral", "chat:write"),
    "chat_getPermalink": ("chat.getPermalink", None),
    "conversations_join": ("conversations.join", "channels:join"),
    "conversations_history": ("conversations.history", "channels:history"),
    "conversations_replies": ("conversations.replies", "channels:history"),
    "users_info": ("users.info", "users:read"),
    "views_open": ("views.open", None),
    "views_publish": ("views.publish", None),
    "auth_test": ("auth.test", None),
    # files_upload_v2 = files.getUploadURLExternal + files.completeUploadExternal
    "files_upload_v2": ("files.getUploadURLExternal", "files:write"),
    # the board (/hypothesis board)
    "conversations_canvases_create": ("conversations.canvases.create", "canvases:write"),
    "canvases_create": ("canvases.create", "canvases:write"),
    "canvases_access_set": ("canvases.access.set", "canvases:write"),
    "canvases_edit": ("canvases.edit", "canvases:write"),
}
# Methods newer than the spec (frozen in October 2020): slack_sdk is the reference for those.
NEWER_THAN_SPEC = {
    "files.getUploadURLExternal",
    "conversations.canvases.create",
    "canvases.create",
    "canvases.access.set",
    "canvases.edit",
}
# The spec predates granular bot scopes: what it calls each of ours.
LEGACY = {
    "chat:write": {"chat:write:bot"},
    "channels:join": {"channels:write"},
}
# Every event the manifest subscribes to, and the scope Slack sends it for (None: no scope).
EVENTS: dict[str, str | None] = {
    "message.channels": "channels:history",  # replies in a card's thread, public channels
    "message.groups": "groups:history",  # the same in private channels
    "app_mention": "app_mentions:read",
    "member_joined_channel": "groups:read",  # invited to a private channel (public: it joins)
    "app_home_opened": None,
    "app_uninstalled": None,
    "tokens_revoked": None,
    "function_executed": None,  # workflow steps
}
FEATURES = {"commands": "slash_commands"}  # scopes a manifest feature needs


@pytest.fixture(scope="module")
def manifest() -> dict[str, Any]:
    loaded: dict[str, Any] = yaml.safe_load((ROOT / "manifest.yml").read_text())
    return loaded


def _spec_scopes(method: str) -> set[str]:
    spec = json.loads(WEB_API.read_text())
    operations = spec["paths"][f"/{method}"].values()
    return {scope for op in operations for rule in op["security"] for scope in rule["slackAuth"]}


def _called_in_code() -> set[str]:
    """slack_sdk method names called on a Web API client anywhere in the Slack edge."""
    families = (
        "chat",
        "conversations",
        "users",
        "views",
        "files",
        "auth",
        "team",
        "functions",
        "canvases",
    )
    names = "|".join(families)
    call = re.compile(rf"\.((?:{names})_\w+)\(")
    found: set[str] = set()
    for package in SLACK_EDGE:
        for path in (ROOT / package).rglob("*.py"):
            found |= set(call.findall(path.read_text()))
    return found


def test_the_manifest_is_valid_against_slacks_app_manifest_schema(
    manifest: dict[str, Any],
) -> None:
    schema = json.loads(SCHEMA.read_text())
    errors = sorted(jsonschema.Draft7Validator(schema).iter_errors(manifest), key=str)
    assert not errors, "\n".join(f"{list(e.absolute_path)}: {e.message}" for e in errors)


def test_the_oauth_install_asks_for_the_manifests_scopes(manifest: dict[str, Any]) -> None:
    assert sorted(manifest["oauth_config"]["scopes"]["bot"]) == sorted(BOT_SCOPES)


def test_every_web_api_method_the_code_calls_is_in_the_scope_table() -> None:
    unlisted = _called_in_code() - CALLED.keys()
    assert not unlisted, f"add these to CALLED with the scope each needs: {sorted(unlisted)}"
    not_called = CALLED.keys() - _called_in_code()
    assert not not_called, f"no longer called, take them out of CALLED: {sorted(not_called)}"


def test_the_scope_of_every_called_method_is_asked_for() -> None:
    needed = {scope for _, scope in CALLED.values() if scope is not None}
    assert needed <= set(BOT_SCOPES), sorted(needed - set(BOT_SCOPES))


@pytest.mark.parametrize("sdk_name", sorted(CALLED))
def test_each_method_needs_the_scope_the_table_says_per_slacks_spec(sdk_name: str) -> None:
    method, scope = CALLED[sdk_name]
    if method in NEWER_THAN_SPEC:
        assert hasattr(AsyncWebClient, method.replace(".", "_"))
        return
    accepted = _spec_scopes(method)
    if scope is None:
        assert accepted == {"none"}
    else:
        assert accepted & ({scope} | LEGACY.get(scope, set())), (method, accepted)


def test_every_subscribed_event_is_in_the_event_table_with_its_scope_requested(
    manifest: dict[str, Any],
) -> None:
    events = manifest["settings"]["event_subscriptions"]["bot_events"]
    unlisted = set(events) - EVENTS.keys()
    assert not unlisted, f"add these to EVENTS with the scope Slack sends each for: {unlisted}"
    missing = {EVENTS[event] for event in events} - {None} - set(BOT_SCOPES)
    assert not missing


def test_every_scope_asked_for_is_used_by_a_called_method_an_event_or_a_feature(
    manifest: dict[str, Any],
) -> None:
    events = manifest["settings"]["event_subscriptions"]["bot_events"]
    used = (
        {scope for name, (_, scope) in CALLED.items() if name in _called_in_code()}
        | {EVENTS[event] for event in events}
        | {scope for scope, feature in FEATURES.items() if manifest["features"].get(feature)}
    )
    unused = set(BOT_SCOPES) - used
    assert not unused, f"nothing uses {sorted(unused)}: ask only for the scopes used"
    assert "chat:write.public" not in BOT_SCOPES  # Hypobot joins, so that it hears replies
