"""Tests for the fake Slack Web API and the signed-request helpers."""

from __future__ import annotations

import asyncio
import json
import time
from collections.abc import AsyncIterator
from pathlib import Path
from typing import Any

import aiohttp
import pytest
from slack_bolt.async_app import AsyncAck, AsyncApp, AsyncRespond, AsyncSay
from slack_bolt.context import BoltContext
from slack_bolt.request import payload_utils
from slack_bolt.request.internals import build_context, parse_body
from slack_sdk.errors import SlackApiError
from slack_sdk.http_retry.builtin_async_handlers import (
    AsyncRateLimitErrorRetryHandler,
    AsyncServerErrorRetryHandler,
)
from slack_sdk.signature import SignatureVerifier
from slack_sdk.web.async_client import AsyncWebClient
from slack_sdk.webhook.async_client import AsyncWebhookClient

from console.fakeslack import FakeSlack, serve_on_loopback
from console.signing import (
    FORM,
    block_action_body,
    event_body,
    message_event,
    slash_command_body,
    view_submission_body,
)
from testkit.faults import serve_faulty_slack
from testkit.signing import SIGNING_SECRET, SlackClient, sign

TOKEN = "xoxb-test"


def section(text: str, block_id: str | None = None) -> dict[str, Any]:
    block: dict[str, Any] = {"type": "section", "text": {"type": "mrkdwn", "text": text}}
    if block_id is not None:
        block["block_id"] = block_id
    return block


def modal(blocks: list[dict[str, Any]]) -> dict[str, Any]:
    return {
        "type": "modal",
        "callback_id": "new-bet",
        "title": {"type": "plain_text", "text": "New bet"},
        "blocks": blocks,
    }


@pytest.fixture
async def fake() -> AsyncIterator[FakeSlack]:
    async with serve_faulty_slack() as served:
        for channel in ("C1", "C2"):  # the bot is in these (membership: test_membership.py)
            served.invite(channel)
        yield served


@pytest.fixture
def client(fake: FakeSlack) -> AsyncWebClient:
    return AsyncWebClient(base_url=fake.base_url, token=TOKEN)


# ---------------------------------------------------------------------------
# Web API
# ---------------------------------------------------------------------------


async def test_post_message_is_recorded(fake: FakeSlack, client: AsyncWebClient) -> None:
    blocks = [section("*bet* placed")]
    first = await client.chat_postMessage(channel="C1", text="hello", blocks=blocks)
    reply = await client.chat_postMessage(channel="C1", text="in thread", thread_ts=first["ts"])

    assert first["ok"] and first["channel"] == "C1"
    assert first["message"]["blocks"] == blocks
    assert first["message"]["bot_id"] == fake.bot_id
    assert float(reply["ts"]) > float(first["ts"])
    calls = fake.calls_to("chat.postMessage")
    assert [(c.channel, c.text, c.thread_ts) for c in calls] == [
        ("C1", "hello", None),
        ("C1", "in thread", first["ts"]),
    ]
    assert calls[0].blocks == blocks
    assert calls[0].token == TOKEN
    assert not fake.block_errors


async def test_form_encoded_json_fields_are_decoded(
    fake: FakeSlack, client: AsyncWebClient
) -> None:
    blocks = [section("via form")]
    await client.api_call(
        "chat.postMessage", data={"channel": "C2", "text": "t", "blocks": json.dumps(blocks)}
    )
    (call,) = fake.calls_to("chat.postMessage")
    assert call.blocks == blocks


@pytest.mark.parametrize(
    "blocks",
    [
        pytest.param([section("x" * 3001)], id="section-text-too-long"),
        pytest.param([{"type": "divider"}] * 51, id="51-blocks"),
        pytest.param([{"type": "no_such_block"}], id="unknown-type"),
        pytest.param([section("a", "same"), section("b", "same")], id="duplicate-block-id"),
        pytest.param(
            [
                {
                    "type": "actions",
                    "elements": [
                        {
                            "type": "button",
                            "action_id": "a",
                            "text": {"type": "plain_text", "text": "x" * 76},
                        }
                    ],
                }
            ],
            id="nested-button-text-too-long",
        ),
    ],
)
async def test_invalid_message_blocks_are_rejected(
    fake: FakeSlack, client: AsyncWebClient, blocks: list[dict[str, Any]]
) -> None:
    with pytest.raises(SlackApiError) as raised:
        await client.chat_postMessage(channel="C1", text="fallback", blocks=blocks)
    assert raised.value.response["error"] == "invalid_blocks"
    assert raised.value.response["errors"]
    assert fake.block_errors
    assert "C1" not in fake.messages


async def test_fifty_valid_blocks_are_accepted(fake: FakeSlack, client: AsyncWebClient) -> None:
    await client.chat_postMessage(channel="C1", text="ok", blocks=[{"type": "divider"}] * 50)
    assert not fake.block_errors


async def test_view_block_cap_and_validation(fake: FakeSlack, client: AsyncWebClient) -> None:
    opened = await client.views_open(trigger_id="trig", view=modal([{"type": "divider"}] * 100))
    assert opened["view"]["id"].startswith("V")
    assert opened["view"]["callback_id"] == "new-bet"
    assert not fake.block_errors

    with pytest.raises(SlackApiError) as raised:
        await client.views_open(trigger_id="trig", view=modal([{"type": "divider"}] * 101))
    assert raised.value.response["error"] == "invalid_blocks"
    too_long_title = {**modal([section("x")]), "title": {"type": "plain_text", "text": "x" * 25}}
    with pytest.raises(SlackApiError):
        await client.views_update(view_id=opened["view"]["id"], view=too_long_title)
    assert len(fake.block_errors) == 2


async def test_views_need_trigger_and_are_stored(fake: FakeSlack, client: AsyncWebClient) -> None:
    with pytest.raises(SlackApiError) as raised:
        await client.api_call("views.open", json={"view": modal([section("x")])})
    assert raised.value.response["error"] == "invalid_trigger_id"

    home = {"type": "home", "blocks": [section("home")]}
    published = await client.views_publish(user_id="U7", view=home)
    assert fake.home_views["U7"]["id"] == published["view"]["id"]
    pushed = await client.views_push(trigger_id="t", view=modal([section("pushed")]))
    updated = await client.views_update(view_id=pushed["view"]["id"], view=modal([section("new")]))
    assert updated["view"]["id"] == pushed["view"]["id"]
    assert fake.views[pushed["view"]["id"]]["blocks"] == [section("new")]


async def test_fallback_text_length_is_capped(client: AsyncWebClient) -> None:
    await client.chat_postMessage(channel="C1", text="x" * 40_000)
    with pytest.raises(SlackApiError) as raised:
        await client.chat_postMessage(channel="C1", text="x" * 40_001)
    assert raised.value.response["error"] == "msg_too_long"


async def test_fail_and_archived_channels(fake: FakeSlack, client: AsyncWebClient) -> None:
    fake.fail["conversations.info"] = "channel_not_found"
    fake.archived_channels.add("COLD")
    with pytest.raises(SlackApiError) as raised:
        await client.conversations_info(channel="C1")
    assert raised.value.response.status_code == 200
    assert raised.value.response["error"] == "channel_not_found"
    with pytest.raises(SlackApiError) as raised:
        await client.chat_postMessage(channel="COLD", text="hi")
    assert raised.value.response["error"] == "is_archived"
    assert len(fake.calls) == 2


async def test_rate_limit_answers_429(fake: FakeSlack, client: AsyncWebClient) -> None:
    fake.rate_limit["chat.postMessage"] = 1
    fake.retry_after = 7
    with pytest.raises(SlackApiError) as raised:
        await client.chat_postMessage(channel="C1", text="hi")
    assert raised.value.response.status_code == 429
    assert raised.value.response.headers["Retry-After"] == "7"
    assert raised.value.response["error"] == "ratelimited"

    await client.chat_postMessage(channel="C1", text="hi again")
    assert len(fake.calls_to("chat.postMessage")) == 2
    assert fake.rate_limit["chat.postMessage"] == 0


async def test_rate_limit_retry_handler_recovers(fake: FakeSlack) -> None:
    fake.rate_limit["*"] = 1
    fake.retry_after = 0
    retrying = AsyncWebClient(
        base_url=fake.base_url, token=TOKEN, retry_handlers=[AsyncRateLimitErrorRetryHandler()]
    )
    response = await retrying.auth_test()
    assert response["user_id"] == "UBOT"
    assert len(fake.calls_to("auth.test")) == 2


async def test_per_channel_rate_allows_a_burst(fake: FakeSlack, client: AsyncWebClient) -> None:
    fake.per_channel_rate = 1.0
    for _ in range(fake.burst):
        await client.chat_postMessage(channel="C1", text="burst")
    with pytest.raises(SlackApiError) as raised:
        await client.chat_postMessage(channel="C1", text="one too many")
    assert raised.value.response.status_code == 429
    assert raised.value.response.headers["Retry-After"] == "1"
    await client.chat_postMessage(channel="C2", text="other channel has its own budget")


async def test_server_errors(fake: FakeSlack, client: AsyncWebClient) -> None:
    fake.server_errors["users.info"] = 1
    with pytest.raises(SlackApiError) as raised:
        await client.users_info(user="U1")
    assert raised.value.response.status_code == 500

    fake.server_errors["users.info"] = 1
    fake.server_error_status = 503
    retrying = AsyncWebClient(
        base_url=fake.base_url, token=TOKEN, retry_handlers=[AsyncServerErrorRetryHandler()]
    )
    assert (await retrying.users_info(user="U1"))["user"]["id"] == "U1"
    assert len(fake.calls_to("users.info")) == 3


async def test_delay_and_wait_for(fake: FakeSlack, client: AsyncWebClient) -> None:
    fake.delay["chat.postMessage"] = 0.3
    started = time.monotonic()
    posting = asyncio.create_task(client.chat_postMessage(channel="C1", text="slow"))
    (call,) = await fake.wait_for("chat.postMessage")
    assert not posting.done()  # recorded on arrival, answered after the delay
    await posting
    assert time.monotonic() - started >= 0.3
    assert call.at - started < 0.3


async def test_wait_for_timeout_lists_calls(fake: FakeSlack, client: AsyncWebClient) -> None:
    await client.auth_test()
    with pytest.raises(AssertionError, match=r"chat\.postMessage(.|\n)*auth\.test"):
        await fake.wait_for("chat.postMessage", timeout=0.1)


async def test_reset_forgets_calls_only(fake: FakeSlack, client: AsyncWebClient) -> None:
    fake.fail["auth.test"] = "invalid_auth"
    await client.chat_postMessage(channel="C1", text="kept")
    fake.reset()
    assert fake.calls == []
    with pytest.raises(SlackApiError):
        await client.auth_test()
    assert len(fake.messages["C1"]) == 1


async def test_files_upload_v2_end_to_end(
    fake: FakeSlack, client: AsyncWebClient, tmp_path: Path
) -> None:
    response = await client.files_upload_v2(
        channel="C1", content=b"report,1\n", filename="report.csv", title="Weekly report"
    )
    file_id = response["file"]["id"]
    assert response["file"]["title"] == "Weekly report"
    assert fake.uploads[file_id] == b"report,1\n"
    assert fake.files[file_id]["channels"] == ["C1"]
    assert [c.method for c in fake.calls] == [
        "files.getUploadURLExternal",
        "upload",
        "files.completeUploadExternal",
    ]

    path = tmp_path / "notes.txt"
    path.write_bytes(b"from disk")
    from_disk = await client.files_upload_v2(channel="C1", file=str(path))
    assert fake.uploads[from_disk["file"]["id"]] == b"from disk"
    assert from_disk["file"]["title"] == "notes.txt"


async def test_complete_upload_requires_uploaded_bytes(client: AsyncWebClient) -> None:
    url = await client.files_getUploadURLExternal(filename="a.txt", length=3)
    with pytest.raises(SlackApiError) as raised:
        await client.files_completeUploadExternal(files=[{"id": url["file_id"]}])
    assert raised.value.response["error"] == "file_not_found"


async def test_history_and_replies(fake: FakeSlack, client: AsyncWebClient) -> None:
    metadata = {"event_type": "bet_created", "event_payload": {"bet_id": 42}}
    parent = await client.chat_postMessage(channel="C1", text="parent", metadata=metadata)
    await client.chat_postMessage(channel="C1", text="reply", thread_ts=parent["ts"])
    latest = await client.chat_postMessage(channel="C1", text="latest")

    history = await client.conversations_history(channel="C1", include_all_metadata=True)
    assert [m["text"] for m in history["messages"]] == ["latest", "parent"]
    assert history["messages"][1]["metadata"] == metadata
    assert history["messages"][1]["reply_count"] == 1
    assert history["has_more"] is False

    plain = await client.conversations_history(channel="C1")
    assert all("metadata" not in m for m in plain["messages"])
    newer = await client.conversations_history(channel="C1", oldest=parent["ts"])
    assert [m["ts"] for m in newer["messages"]] == [latest["ts"]]
    limited = await client.conversations_history(channel="C1", limit=1)
    assert limited["has_more"] is True

    replies = await client.conversations_replies(channel="C1", ts=parent["ts"])
    assert [m["text"] for m in replies["messages"]] == ["parent", "reply"]
    with pytest.raises(SlackApiError):
        await client.conversations_replies(channel="C1", ts="1.000001")


async def test_added_human_messages_show_in_history(
    fake: FakeSlack, client: AsyncWebClient
) -> None:
    fake.add_message("C9", "written by a human", user="U5", ts="1700000000.000100")
    history = await client.conversations_history(channel="C9")
    assert history["messages"][0]["user"] == "U5"


async def test_chat_update(fake: FakeSlack, client: AsyncWebClient) -> None:
    posted = await client.chat_postMessage(channel="C1", text="before")
    updated = await client.chat_update(channel="C1", ts=posted["ts"], text="after")
    assert updated["text"] == "after"
    assert fake.messages["C1"][0]["text"] == "after"
    with pytest.raises(SlackApiError) as raised:
        await client.chat_update(channel="C1", ts="1.000001", text="nope")
    assert raised.value.response["error"] == "message_not_found"


async def test_other_methods(fake: FakeSlack, client: AsyncWebClient) -> None:
    fake.admins.add("UADMIN")
    fake.archived_channels.add("COLD")

    auth = await client.auth_test()
    assert (auth["user_id"], auth["bot_id"], auth["team_id"]) == ("UBOT", "BBOT", "T1")
    admin = (await client.users_info(user="UADMIN"))["user"]
    assert admin["is_admin"] is True and admin["tz"] == "Europe/Berlin"
    assert (await client.users_info(user="U1"))["user"]["is_admin"] is False
    assert (await client.conversations_info(channel="COLD"))["channel"]["is_archived"] is True
    link = await client.chat_getPermalink(channel="C1", message_ts="1700000000.000100")
    assert link["permalink"] == "https://fake.slack.test/archives/C1/p1700000000000100"
    ephemeral = await client.chat_postEphemeral(channel="C1", user="U1", text="psst")
    assert ephemeral["message_ts"]
    assert (await client.team_info())["team"]["id"] == "T1"

    with pytest.raises(SlackApiError) as raised:
        await client.api_call("bets.place")
    assert raised.value.response.status_code == 200
    assert raised.value.response["error"] == "unknown_method"
    assert fake.calls_to("bets.place")


# slack_sdk itself still uses aiohttp's deprecated BasicAuth for oauth.v2.access.
@pytest.mark.filterwarnings("ignore:BasicAuth is deprecated:DeprecationWarning")
async def test_oauth_install_mints_team_token(fake: FakeSlack) -> None:
    fake.oauth_codes["code-2"] = "T2"
    oauth = await AsyncWebClient(base_url=fake.base_url).oauth_v2_access(
        client_id="cid", client_secret="secret", code="code-2"
    )
    assert oauth["access_token"] == "xoxb-fake-T2" and oauth["team"]["id"] == "T2"
    installed = AsyncWebClient(base_url=fake.base_url, token=oauth["access_token"])
    assert (await installed.auth_test())["team_id"] == "T2"
    (call,) = fake.calls_to("oauth.v2.access")
    assert call.token is None and call.params["code"] == "code-2"


async def test_missing_token_is_not_authed(fake: FakeSlack) -> None:
    with pytest.raises(SlackApiError) as raised:
        await AsyncWebClient(base_url=fake.base_url).auth_test()
    assert raised.value.response["error"] == "not_authed"


async def test_response_url(fake: FakeSlack) -> None:
    webhook = AsyncWebhookClient(fake.response_url("cmd-1"))
    sent = await webhook.send(text="done", blocks=[section("done")], replace_original=True)
    assert sent.status_code == 200
    (call,) = fake.calls_to("response_url")
    assert call.params["_key"] == "cmd-1"
    assert call.params["replace_original"] is True
    assert call.blocks == [section("done")]

    rejected = await webhook.send(text="bad", blocks=[section("x" * 3001)])
    assert json.loads(rejected.body)["error"] == "invalid_blocks"
    assert fake.block_errors


# ---------------------------------------------------------------------------
# Signing and payload shapes
# ---------------------------------------------------------------------------


def test_signature_verifies_with_slack_sdk() -> None:
    body = slash_command_body("new bet")
    headers = sign(body)
    timestamp, signature = headers["X-Slack-Request-Timestamp"], headers["X-Slack-Signature"]
    assert SignatureVerifier(SIGNING_SECRET).is_valid(body, timestamp, signature)
    forged = sign(body, secret="wrong-secret")
    assert not SignatureVerifier(SIGNING_SECRET).is_valid(
        body, forged["X-Slack-Request-Timestamp"], forged["X-Slack-Signature"]
    )
    stale = sign(body, timestamp=int(time.time()) - 600)
    assert not SignatureVerifier(SIGNING_SECRET).is_valid(
        body, stale["X-Slack-Request-Timestamp"], stale["X-Slack-Signature"]
    )


def test_payloads_are_routed_like_slack_sends_them() -> None:
    command = parse_body(slash_command_body("x", user_id="U9"), FORM)
    assert payload_utils.is_slash_command(command) and command["user_id"] == "U9"

    action = parse_body(block_action_body("vote", "yes", message_ts="1.000200"), FORM)
    assert payload_utils.is_block_actions(action)
    assert payload_utils.to_action(action) is not None
    context = build_context(BoltContext(), action)
    assert (context.team_id, context.user_id, context.channel_id) == ("T1", "U1", "C1")

    values = {"title": {"input": {"type": "plain_text_input", "value": "Faster onboarding"}}}
    submission = parse_body(view_submission_body("new-bet", values), FORM)
    assert payload_utils.is_view_submission(submission)
    assert submission["view"]["blocks"][0]["block_id"] == "title"

    event = parse_body(event_body(message_event("hi", ts="1.000300")), "application/json")
    assert payload_utils.is_message_event(event)
    assert build_context(BoltContext(), event).channel_id == "C1"


# ---------------------------------------------------------------------------
# A real Bolt app behind signed requests
# ---------------------------------------------------------------------------


def build_app(fake: FakeSlack, seen: dict[str, Any]) -> AsyncApp:
    # The client's token is used; passing token= as well would only log a warning.
    app = AsyncApp(
        signing_secret=SIGNING_SECRET,
        client=AsyncWebClient(base_url=fake.base_url, token=TOKEN),
    )

    @app.command("/hypothesis")
    async def on_command(ack: AsyncAck, command: dict[str, Any], respond: AsyncRespond) -> None:
        seen["command"] = command["text"]
        await ack()
        await respond(text=f"noted: {command['text']}")

    @app.action("vote")
    async def on_vote(
        ack: AsyncAck, action: dict[str, Any], body: dict[str, Any], client: AsyncWebClient
    ) -> None:
        seen["action"] = action["value"]
        await ack()
        await client.chat_update(
            channel=body["channel"]["id"], ts=body["message"]["ts"], text="voted"
        )

    @app.view("new-bet")
    async def on_submit(ack: AsyncAck, view: dict[str, Any]) -> None:
        seen["view"] = view["state"]["values"]["title"]["input"]["value"]
        await ack()

    @app.event("message")
    async def on_message(event: dict[str, Any], say: AsyncSay, request: Any) -> None:
        seen.setdefault("events", []).append(event["text"])
        seen["retry"] = request.headers.get("x-slack-retry-num", [None])[0]
        await say(text=f"echo: {event['text']}", thread_ts=event["ts"])

    return app


@pytest.fixture
async def bolt(fake: FakeSlack) -> AsyncIterator[tuple[SlackClient, dict[str, Any]]]:
    seen: dict[str, Any] = {}
    async with (
        serve_on_loopback(build_app(fake, seen).web_app()) as app_url,
        aiohttp.ClientSession() as session,
    ):
        yield SlackClient(app_url, session), seen


async def test_bolt_app_handles_signed_requests(
    fake: FakeSlack, client: AsyncWebClient, bolt: tuple[SlackClient, dict[str, Any]]
) -> None:
    slack, seen = bolt

    status, _ = await slack.command("faster onboarding", response_url=fake.response_url("cmd"))
    assert status == 200 and seen["command"] == "faster onboarding"
    (responded,) = await fake.wait_for("response_url")
    assert responded.params == {"text": "noted: faster onboarding", "_key": "cmd"}

    posted = await client.chat_postMessage(channel="C1", text="vote please")
    status, _ = await slack.action("vote", "yes", message_ts=posted["ts"])
    assert status == 200 and seen["action"] == "yes"
    (updated,) = await fake.wait_for("chat.update")
    assert updated.params["ts"] == posted["ts"]

    values = {"title": {"input": {"type": "plain_text_input", "value": "Ship it"}}}
    status, _ = await slack.submit_view("new-bet", values)
    assert status == 200 and seen["view"] == "Ship it"

    status, _ = await slack.event(
        message_event("from the bot", ts="1700000000.000001", bot_id="BBOT")
    )
    assert status == 200  # Bolt ignores the app's own messages
    status, _ = await slack.event(message_event("hello", ts="1700000000.000002"), retry_num=1)
    assert status == 200
    calls = await fake.wait_for("chat.postMessage", count=2)
    assert (calls[-1].text, calls[-1].thread_ts) == ("echo: hello", "1700000000.000002")
    assert seen["events"] == ["hello"] and seen["retry"] == "1"
    assert not fake.block_errors


async def test_bolt_app_rejects_forged_signatures(
    bolt: tuple[SlackClient, dict[str, Any]],
) -> None:
    slack, seen = bolt
    body = slash_command_body("forged")
    status, _ = await slack.post_raw(body, FORM, sign(body, secret="not-the-secret"))
    assert status == 401
    stale = sign(body, timestamp=int(time.time()) - 3600)
    assert (await slack.post_raw(body, FORM, stale))[0] == 401
    assert (await slack.post_raw(body, FORM, {}))[0] == 401
    assert "command" not in seen
