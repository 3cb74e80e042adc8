"""Tests for the fake Slack Web API and the signed-request helpers."""

from __future__ import annotations

import asyncio
import json
import time
from collections.abc import AsyncIterator, Awaitable, Callable
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

from console.fakeslack import FakeSlack, serve_fake_slack, serve_on_loopback
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


async def test_a_saved_workspace_is_taken_up_where_it_was_left(
    fake: FakeSlack, client: AsyncWebClient
) -> None:
    card = await client.chat_postMessage(channel="C1", text="card")
    await client.chat_postMessage(channel="C1", text="reply", thread_ts=card["ts"])
    chart = await client.files_upload_v2(channel="C1", content=b"png", filename="chart.png")
    fake.channel_names["C1"] = "growth"
    fake.user_fields["USAM"] = {"name": "sam"}
    saved = json.loads(json.dumps(fake.workspace()))  # as a file keeps it

    async with serve_fake_slack() as later:  # another run
        later.restore_workspace(saved)
        again = AsyncWebClient(base_url=later.base_url, token=TOKEN)
        thread = await again.conversations_replies(channel="C1", ts=card["ts"])
        assert [m["text"] for m in thread["messages"]] == ["card", "reply"]
        assert thread["messages"][0]["reply_count"] == 1
        posted = await again.chat_postMessage(channel="C1", text="still a member")
        assert float(posted["ts"]) > float(thread["messages"][1]["ts"])
        upload = await again.files_getUploadURLExternal(filename="chart.png", length=3)
        assert upload["file_id"] > chart["file"]["id"]  # ids go on, never handed out twice
        assert later.files[chart["file"]["id"]]["channels"] == ["C1"]
        assert (await again.conversations_info(channel="C1"))["channel"]["name"] == "growth"
        assert (await again.users_info(user="USAM"))["user"]["name"] == "sam"
        assert not later.calls_to("conversations.join")


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
# Canvases
# ---------------------------------------------------------------------------


def doc(markdown: str) -> dict[str, str]:
    return {"type": "markdown", "markdown": markdown}


async def slack_error(request: Awaitable[Any]) -> str:
    """The error Slack answered `request` with (the request must fail)."""
    with pytest.raises(SlackApiError) as raised:
        await request
    error: str = raised.value.response["error"]
    return error


async def test_channel_canvas_is_created_once(fake: FakeSlack, client: AsyncWebClient) -> None:
    assert fake.channel_canvas("C1") is None
    created = await client.conversations_canvases_create(
        channel_id="C1", document_content=doc("# Bets\n- faster onboarding"), title="Board"
    )
    canvas_id = created["canvas_id"]
    assert canvas_id.startswith("F") and fake.channel_canvas("C1") == canvas_id
    canvas = fake.canvases[canvas_id]
    assert (canvas["kind"], canvas["channel_id"], canvas["title"]) == ("channel", "C1", "Board")
    assert canvas["markdown"] == "# Bets\n- faster onboarding"
    assert canvas["access"] == {"channels": {"C1": "write"}, "users": {}}
    assert canvas["edits"] == [] and canvas["deleted"] is False
    info = await client.conversations_info(channel="C1")
    assert info["channel"]["properties"]["canvas"] == {"file_id": canvas_id, "is_empty": False}

    again = client.conversations_canvases_create(channel_id="C1", document_content=doc("x"))
    assert await slack_error(again) == "channel_canvas_already_exists"
    assert len(fake.canvases) == 1

    # A canvas someone made in Slack counts as well; the app finds it in conversations.info.
    human = fake.add_canvas("C2", "written by hand")
    theirs = client.conversations_canvases_create(channel_id="C2", document_content=doc("x"))
    assert await slack_error(theirs) == "channel_canvas_already_exists"
    info = await client.conversations_info(channel="C2")
    assert info["channel"]["properties"]["canvas"]["file_id"] == human
    assert fake.canvases[human]["owner"] == "U1"
    assert "properties" not in (await client.conversations_info(channel="C9"))["channel"]


async def test_channel_canvas_needs_the_bot_in_the_channel(
    fake: FakeSlack, client: AsyncWebClient
) -> None:
    fake.private_channels.add("GSECRET")
    fake.archived_channels.add("COLD")
    fake.invite("COLD")
    outside = client.conversations_canvases_create(channel_id="C9", document_content=doc("x"))
    assert await slack_error(outside) == "not_in_channel"
    hidden = client.conversations_canvases_create(channel_id="GSECRET", document_content=doc("x"))
    assert await slack_error(hidden) == "channel_not_found"
    cold = client.conversations_canvases_create(channel_id="COLD", document_content=doc("x"))
    assert await slack_error(cold) == "is_archived"
    assert fake.canvases == {}

    await client.conversations_join(channel="C9")
    created = await client.conversations_canvases_create(channel_id="C9", document_content=doc(""))
    assert fake.channel_canvas("C9") == created["canvas_id"]
    assert fake.canvases[created["canvas_id"]]["title"] is None
    info = await client.conversations_info(channel="C9")
    assert info["channel"]["properties"]["canvas"]["is_empty"] is True


async def test_standalone_canvas_and_its_access(fake: FakeSlack, client: AsyncWebClient) -> None:
    created = await client.canvases_create(title="Bets of Q3", document_content=doc("# Q3"))
    canvas_id = created["canvas_id"]
    canvas = fake.canvases[canvas_id]
    assert (canvas["kind"], canvas["channel_id"], canvas["tabbed_in"]) == ("standalone", None, None)
    assert (canvas["owner"], canvas["title"], canvas["markdown"]) == ("UBOT", "Bets of Q3", "# Q3")
    assert fake.channel_canvas("C1") is None  # not the channel's canvas

    await client.canvases_access_set(canvas_id=canvas_id, access_level="read", channel_ids=["C1"])
    await client.canvases_access_set(
        canvas_id=canvas_id, access_level="write", user_ids=["U1", "U2"]
    )
    await client.canvases_access_set(canvas_id=canvas_id, access_level="owner", user_ids="U2")
    assert canvas["access"] == {"channels": {"C1": "read"}, "users": {"U1": "write", "U2": "owner"}}

    both = client.canvases_access_set(
        canvas_id=canvas_id, access_level="read", channel_ids=["C2"], user_ids=["U3"]
    )
    assert await slack_error(both) == "invalid_parameters"
    neither = client.canvases_access_set(canvas_id=canvas_id, access_level="read")
    assert await slack_error(neither) == "invalid_parameters"
    level = client.canvases_access_set(canvas_id=canvas_id, access_level="admin", user_ids="U3")
    assert await slack_error(level) == "invalid_arguments"
    owner = client.canvases_access_set(canvas_id=canvas_id, access_level="owner", channel_ids="C2")
    assert await slack_error(owner) == "invalid_arguments"
    many = client.canvases_access_set(
        canvas_id=canvas_id, access_level="read", user_ids=[f"U{i}" for i in range(21)]
    )
    assert await slack_error(many) == "invalid_arguments"
    unknown = client.canvases_access_set(canvas_id="FNOPE", access_level="read", user_ids="U1")
    assert await slack_error(unknown) == "canvas_not_found"
    assert canvas["access"] == {"channels": {"C1": "read"}, "users": {"U1": "write", "U2": "owner"}}

    tabbed = await client.canvases_create(title="Tab", channel_id="C2")
    assert fake.canvases[tabbed["canvas_id"]]["tabbed_in"] == "C2"
    assert fake.canvases[tabbed["canvas_id"]]["access"]["channels"] == {"C2": "write"}
    assert fake.canvases[tabbed["canvas_id"]]["markdown"] == ""
    assert await slack_error(client.canvases_create(channel_id="C9")) == "not_in_channel"


async def test_canvas_edits_replace_and_insert(fake: FakeSlack, client: AsyncWebClient) -> None:
    canvas_id = (
        await client.conversations_canvases_create(channel_id="C1", document_content=doc("old"))
    )["canvas_id"]
    canvas = fake.canvases[canvas_id]

    started = time.monotonic()
    await client.canvases_edit(
        canvas_id=canvas_id, changes=[{"operation": "replace", "document_content": doc("# Bets")}]
    )
    assert canvas["markdown"] == "# Bets"
    await client.canvases_edit(
        canvas_id=canvas_id,
        changes=[
            {"operation": "insert_at_end", "document_content": doc("- ship it\n- faster")},
            {"operation": "insert_at_start", "document_content": doc("_live_")},
        ],
    )
    assert canvas["markdown"] == "_live_\n# Bets\n- ship it\n- faster"
    replaced = "# Board\n\n| bet | status |\n|---|---|\n| ship it | open |\n"
    await client.canvases_edit(
        canvas_id=canvas_id, changes=[{"operation": "replace", "document_content": doc(replaced)}]
    )
    assert canvas["markdown"] == replaced  # kept as sent
    await client.canvases_edit(
        canvas_id=canvas_id, changes=[{"operation": "rename", "title_content": doc("Board")}]
    )
    assert canvas["title"] == "Board" and canvas["markdown"] == replaced

    edits = canvas["edits"]
    assert [len(edit["changes"]) for edit in edits] == [1, 2, 1, 1]
    assert [edit["markdown"] for edit in edits] == [
        "# Bets",
        "_live_\n# Bets\n- ship it\n- faster",
        replaced,
        replaced,
    ]
    times = [edit["at"] for edit in edits]
    assert started <= times[0] and times == sorted(times)
    calls = fake.calls_to("canvases.edit")
    assert [call.at <= edit["at"] for call, edit in zip(calls, edits, strict=True)] == [True] * 4
    assert not fake.block_errors


async def test_canvas_sections_can_be_looked_up_and_edited(
    fake: FakeSlack, client: AsyncWebClient
) -> None:
    markdown = "# Board\n## Open\n- ship it\n## Closed\n- faster onboarding"
    canvas_id = (await client.canvases_create(document_content=doc(markdown)))["canvas_id"]
    canvas = fake.canvases[canvas_id]

    headers = await client.canvases_sections_lookup(
        canvas_id=canvas_id, criteria={"section_types": ["h2"]}
    )
    assert len(headers["sections"]) == 2
    closed = await client.canvases_sections_lookup(
        canvas_id=canvas_id, criteria={"section_types": ["any_header"], "contains_text": "Closed"}
    )
    (closed_id,) = [section["id"] for section in closed["sections"]]
    ship = await client.canvases_sections_lookup(
        canvas_id=canvas_id, criteria={"contains_text": "ship it"}
    )
    (ship_id,) = [section["id"] for section in ship["sections"]]

    await client.canvases_edit(
        canvas_id=canvas_id,
        changes=[
            {"operation": "replace", "section_id": ship_id, "document_content": doc("- shipped")},
            {"operation": "insert_before", "section_id": closed_id, "document_content": doc("---")},
            {"operation": "insert_after", "section_id": closed_id, "document_content": doc("- x")},
        ],
    )
    assert (
        canvas["markdown"]
        == "# Board\n## Open\n- shipped\n---\n## Closed\n- x\n- faster onboarding"
    )
    await client.canvases_edit(
        canvas_id=canvas_id, changes=[{"operation": "delete", "section_id": closed_id}]
    )
    assert canvas["markdown"] == "# Board\n## Open\n- shipped\n---\n- x\n- faster onboarding"

    gone = client.canvases_edit(
        canvas_id=canvas_id, changes=[{"operation": "delete", "section_id": closed_id}]
    )
    assert await slack_error(gone) == "canvas_editing_failed"
    no_criteria = client.canvases_sections_lookup(canvas_id=canvas_id, criteria={})
    assert await slack_error(no_criteria) == "invalid_arguments"
    bad_type = client.canvases_sections_lookup(
        canvas_id=canvas_id, criteria={"section_types": ["h4"]}
    )
    assert await slack_error(bad_type) == "invalid_arguments"


@pytest.mark.parametrize(
    "changes",
    [
        pytest.param([], id="no-changes"),
        pytest.param("replace", id="not-a-list"),
        pytest.param(["replace"], id="change-not-an-object"),
        pytest.param([{"operation": "rewrite", "document_content": doc("x")}], id="unknown-op"),
        pytest.param([{"document_content": doc("x")}], id="no-operation"),
        pytest.param([{"operation": "replace"}], id="no-content"),
        pytest.param(
            [{"operation": "replace", "document_content": {"type": "html", "markdown": "x"}}],
            id="not-markdown",
        ),
        pytest.param(
            [{"operation": "insert_at_end", "document_content": {"type": "markdown"}}],
            id="no-markdown-text",
        ),
        pytest.param([{"operation": "replace", "document_content": "x"}], id="content-a-string"),
        pytest.param([{"operation": "delete"}], id="delete-without-section"),
        pytest.param(
            [{"operation": "insert_after", "document_content": doc("x")}],
            id="insert-after-without-section",
        ),
        pytest.param(
            [
                {
                    "operation": "insert_at_end",
                    "section_id": "temp:C:1",
                    "document_content": doc("x"),
                }
            ],
            id="insert-at-end-with-section",
        ),
        pytest.param([{"operation": "rename"}], id="rename-without-title"),
        pytest.param(
            [
                {"operation": "insert_at_end", "document_content": doc("applied?")},
                {"operation": "replace"},
            ],
            id="all-or-nothing",
        ),
    ],
)
async def test_malformed_canvas_changes_are_invalid_arguments(
    fake: FakeSlack, client: AsyncWebClient, changes: Any
) -> None:
    canvas_id = (await client.canvases_create(document_content=doc("kept")))["canvas_id"]
    edit = client.canvases_edit(canvas_id=canvas_id, changes=changes)
    assert await slack_error(edit) == "invalid_arguments"
    assert fake.canvases[canvas_id]["markdown"] == "kept"
    assert fake.canvases[canvas_id]["edits"] == []


async def test_deleted_canvases_are_not_found(fake: FakeSlack, client: AsyncWebClient) -> None:
    replace = [{"operation": "replace", "document_content": doc("new")}]
    assert await slack_error(client.canvases_edit(canvas_id="FNOPE", changes=replace)) == (
        "canvas_not_found"
    )
    standalone = (await client.canvases_create(title="t"))["canvas_id"]
    await client.canvases_delete(canvas_id=standalone)
    assert fake.canvases[standalone]["deleted"] is True
    assert fake.canvases[standalone]["deleted_by"] == "UBOT"
    edit = client.canvases_edit(canvas_id=standalone, changes=replace)
    assert await slack_error(edit) == "canvas_not_found"
    assert await slack_error(client.canvases_delete(canvas_id=standalone)) == "canvas_not_found"

    # Someone deletes the channel's canvas in Slack: edits fail, a new one may be made.
    first = (
        await client.conversations_canvases_create(channel_id="C1", document_content=doc("a"))
    )["canvas_id"]
    fake.delete_canvas(first)
    assert fake.canvases[first]["deleted_by"] == "U1"
    assert fake.channel_canvas("C1") is None
    assert await slack_error(client.canvases_edit(canvas_id=first, changes=replace)) == (
        "canvas_not_found"
    )
    access = client.canvases_access_set(canvas_id=first, access_level="read", user_ids="U1")
    assert await slack_error(access) == "canvas_not_found"
    assert "properties" not in (await client.conversations_info(channel="C1"))["channel"]
    second = (
        await client.conversations_canvases_create(channel_id="C1", document_content=doc("b"))
    )["canvas_id"]
    assert second != first and fake.channel_canvas("C1") == second
    assert fake.canvases[first]["markdown"] == "a"  # the deleted one is kept for inspection


async def test_canvases_disabled_for_a_team(fake: FakeSlack, client: AsyncWebClient) -> None:
    canvas_id = (await client.canvases_create(title="before"))["canvas_id"]
    fake.canvases_disabled = True
    replace = [{"operation": "replace", "document_content": doc("x")}]
    requests: list[Callable[[], Awaitable[Any]]] = [
        lambda: client.conversations_canvases_create(channel_id="C1", document_content=doc("x")),
        lambda: client.canvases_create(title="t"),
        lambda: client.canvases_access_set(canvas_id=canvas_id, access_level="read", user_ids="U1"),
        lambda: client.canvases_edit(canvas_id=canvas_id, changes=replace),
        lambda: client.canvases_sections_lookup(
            canvas_id=canvas_id, criteria={"contains_text": "x"}
        ),
        lambda: client.canvases_delete(canvas_id=canvas_id),
    ]
    for request in requests:
        assert await slack_error(request()) == "canvas_disabled_user_team"
    assert len(fake.canvases) == 1 and fake.canvases[canvas_id]["deleted"] is False

    fake.canvases_disabled = {"T2"}  # only another workspace
    await client.canvases_edit(canvas_id=canvas_id, changes=replace)
    other = AsyncWebClient(base_url=fake.base_url, token="xoxb-fake-T2")
    assert await slack_error(other.canvases_create(title="t")) == "canvas_disabled_user_team"


async def test_free_teams_have_no_channel_canvases_and_cannot_edit_standalone_ones(
    fake: FakeSlack, client: AsyncWebClient
) -> None:
    standalone = (await client.canvases_create(title="t", channel_id="C1"))["canvas_id"]
    human = fake.add_canvas("C2", "by hand")
    fake.free_team = True
    create = client.conversations_canvases_create(channel_id="C1", document_content=doc("x"))
    assert await slack_error(create) == "team_tier_cannot_create_channel_canvases"
    replace = [{"operation": "replace", "document_content": doc("x")}]
    edit = client.canvases_edit(canvas_id=standalone, changes=replace)
    assert await slack_error(edit) == "free_teams_cannot_edit_standalone_canvases"
    await client.canvases_edit(canvas_id=human, changes=replace)  # a channel canvas: fine
    assert fake.canvases[human]["markdown"] == "x"
    assert fake.canvases[standalone]["markdown"] == ""


async def test_canvas_edits_are_rate_limited_per_workspace(
    fake: FakeSlack, client: AsyncWebClient
) -> None:
    replace = [{"operation": "replace", "document_content": doc("x")}]
    canvas_id = (await client.canvases_create(title="t"))["canvas_id"]
    for _ in range(10):  # unlimited unless asked
        await client.canvases_edit(canvas_id=canvas_id, changes=replace)

    fake.canvas_edit_rate = 2  # a minute; the burst defaults to a minute's worth
    for _ in range(2):
        await client.canvases_edit(canvas_id=canvas_id, changes=replace)
    with pytest.raises(SlackApiError) as raised:
        await client.canvases_edit(canvas_id=canvas_id, changes=replace)
    assert raised.value.response.status_code == 429
    assert raised.value.response["error"] == "ratelimited"
    assert 25 <= int(raised.value.response.headers["Retry-After"]) <= 30
    assert len(fake.canvases[canvas_id]["edits"]) == 12  # the refused one was not applied
    await client.canvases_create(title="other methods are not limited")
    await client.chat_postMessage(channel="C1", text="nor are posts")

    other = AsyncWebClient(base_url=fake.base_url, token="xoxb-fake-T2")
    theirs = (await other.canvases_create(title="t2"))["canvas_id"]
    await other.canvases_edit(canvas_id=theirs, changes=replace)  # its own bucket
    # and a workspace sees only its own canvases
    mine = other.canvases_edit(canvas_id=canvas_id, changes=replace)
    assert await slack_error(mine) == "canvas_not_found"
    assert fake.canvases[theirs]["team_id"] == "T2"


async def test_canvas_edit_burst(fake: FakeSlack, client: AsyncWebClient) -> None:
    fake.canvas_edit_rate = 60
    fake.canvas_edit_burst = 1
    replace = [{"operation": "replace", "document_content": doc("x")}]
    canvas_id = (await client.canvases_create(title="t"))["canvas_id"]
    await client.canvases_edit(canvas_id=canvas_id, changes=replace)
    with pytest.raises(SlackApiError) as raised:
        await client.canvases_edit(canvas_id=canvas_id, changes=replace)
    assert raised.value.response.headers["Retry-After"] == "1"


# aiohttp (under slack_sdk) warns about any request body over 1 MiB sent as raw bytes.
@pytest.mark.filterwarnings("ignore:Sending a large body directly:ResourceWarning")
async def test_canvas_markdown_over_one_mib_is_refused(
    fake: FakeSlack, client: AsyncWebClient
) -> None:
    limit = 1024 * 1024
    too_big = client.conversations_canvases_create(
        channel_id="C1", document_content=doc("x" * (limit + 1))
    )
    assert await slack_error(too_big) == "channel_canvas_creation_failed"
    assert fake.channel_canvas("C1") is None
    (error,) = fake.block_errors
    assert error.startswith("conversations.canvases.create: ") and str(limit + 1) in error
    standalone = client.canvases_create(document_content=doc("x" * (limit + 1)))
    assert await slack_error(standalone) == "canvas_creation_failed"

    fake.reset()
    canvas_id = (
        await client.conversations_canvases_create(
            channel_id="C1", document_content=doc("x" * (limit - 2))
        )
    )["canvas_id"]
    await client.canvases_edit(  # exactly 1 MiB
        canvas_id=canvas_id, changes=[{"operation": "insert_at_end", "document_content": doc("y")}]
    )
    assert len(fake.canvases[canvas_id]["markdown"]) == limit and not fake.block_errors
    over = client.canvases_edit(
        canvas_id=canvas_id,
        changes=[{"operation": "insert_at_start", "document_content": doc("z")}],
    )
    assert await slack_error(over) == "canvas_editing_failed"
    (error,) = fake.block_errors
    assert error.startswith(f"canvases.edit: canvas {canvas_id}: ")
    assert len(fake.canvases[canvas_id]["markdown"]) == limit
    assert len(fake.canvases[canvas_id]["edits"]) == 1


async def test_canvas_methods_take_form_encoded_arguments(
    fake: FakeSlack, client: AsyncWebClient
) -> None:
    created = await client.api_call(
        "canvases.create", data={"title": "t", "document_content": json.dumps(doc("a"))}
    )
    canvas_id = created["canvas_id"]
    changes = [{"operation": "insert_at_end", "document_content": doc("b")}]
    await client.api_call(
        "canvases.edit", data={"canvas_id": canvas_id, "changes": json.dumps(changes)}
    )
    await client.api_call(
        "canvases.access.set",
        data={"canvas_id": canvas_id, "access_level": "read", "channel_ids": '["C1","C2"]'},
    )
    assert fake.canvases[canvas_id]["markdown"] == "a\nb"
    assert fake.canvases[canvas_id]["access"]["channels"] == {"C1": "read", "C2": "read"}


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
