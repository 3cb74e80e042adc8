"""What reaches /slack/events from anyone but Slack, or in a shape Slack never sends, changes
nothing and never breaks the server; the health routes answer; secrets stay out of logs."""

from __future__ import annotations

import io
import json
import logging
import time
from collections.abc import AsyncIterator, Iterator
from typing import Any
from urllib.parse import urlencode

import pytest

from bot.blocks import ids
from console.signing import (
    FORM,
    JSON,
    block_action_body,
    event_body,
    message_event,
    slash_command_body,
)
from ops import logs
from server.http import MAX_BODY
from storage.models import Bet
from testkit.signing import SIGNING_SECRET, sign
from tests.conftest import Hypobot
from tests.flows import ONE_LINER, posted_bet, row_counts, settle
from tests.payloads import post_large

BOT_TOKEN = "xoxb-test-token"  # what the hypobot fixture runs with
STALE = 5 * 60 + 30  # seconds: past Slack's five-minute window


async def still_serving(hypobot: Hypobot) -> bool:
    """A genuine signed command still gets its answer."""
    status, body = await hypobot.command("help")
    return status == 200 and "/hypothesis" in body["text"]


# --- requests that are not from Slack --------------------------------------------------------


def _forged(body: str) -> dict[str, str]:
    return sign(body, secret="not-the-signing-secret")


def _stale(body: str) -> dict[str, str]:
    return sign(body, timestamp=int(time.time()) - STALE)


def _unsigned(body: str) -> dict[str, str]:
    return {}


def _timestamp_only(body: str) -> dict[str, str]:
    return {"X-Slack-Request-Timestamp": str(int(time.time()))}


def _replayed_with_fresh_timestamp(body: str) -> dict[str, str]:
    # A captured old signature does not cover a new timestamp.
    old = sign(body, timestamp=int(time.time()) - STALE)
    return {**old, "X-Slack-Request-Timestamp": str(int(time.time()))}


UNTRUSTED = pytest.mark.parametrize(
    "headers",
    [_forged, _stale, _unsigned, _timestamp_only, _replayed_with_fresh_timestamp],
    ids=["forged", "stale", "missing", "timestamp-only", "replayed"],
)


@UNTRUSTED
async def test_unverified_command_gets_401_and_creates_nothing(
    hypobot: Hypobot, headers: Any
) -> None:
    hypobot.fake.reset()  # forget start-up calls (auth.test)
    body = slash_command_body(f"new {ONE_LINER}", response_url=hypobot.fake.response_url("x"))
    status, _ = await hypobot.slack.post_raw(body, FORM, headers(body))
    await settle(hypobot)
    assert status == 401
    assert await row_counts() == (0, 0, 0, 0)
    assert hypobot.fake.calls == []


@UNTRUSTED
async def test_unverified_button_gets_401_and_moves_nothing(hypobot: Hypobot, headers: Any) -> None:
    bet = await posted_bet(hypobot, "proposed")
    before = await row_counts()
    body = block_action_body(ids.START, str(bet.id), message_ts=bet.card_ts)
    status, _ = await hypobot.slack.post_raw(body, FORM, headers(body))
    await settle(hypobot)
    assert status == 401
    assert (await Bet.get(id=bet.id)).state == "proposed"
    assert await row_counts() == before
    assert hypobot.fake.calls == []


@UNTRUSTED
async def test_unverified_thread_reply_gets_401_and_records_nothing(
    hypobot: Hypobot, headers: Any
) -> None:
    bet = await posted_bet(hypobot, "shipped")
    before = await row_counts()
    reply = message_event("it worked", ts="1793000000.000200", thread_ts=bet.card_ts)
    body = event_body(reply)
    status, _ = await hypobot.slack.post_raw(body, JSON, headers(body))
    await settle(hypobot)
    assert status == 401
    assert await row_counts() == before
    assert hypobot.fake.calls == []


# --- bodies Slack would never send -------------------------------------------------------------


# Bolt parses the body before it checks the signature: server/http.py refuses what Bolt cannot
# parse with a 400 first, so none of these reaches Bolt as a 500.


def _payload(payload: Any) -> str:
    return urlencode({"payload": json.dumps(payload)})


def _command(**fields: str) -> str:
    return urlencode({"command": "/hypothesis", "text": "help", **fields})


START_CLICK = {"type": "block_actions", "actions": [{"action_id": ids.START, "value": "1"}]}
KILL_SUBMIT = {"type": "view_submission", "view": {"callback_id": ids.CLOSE_VIEW, "state": {}}}

MALFORMED = [
    pytest.param(urlencode({"payload": "{not json"}), FORM, id="payload-not-json"),
    pytest.param(_payload([1, 2]), FORM, id="payload-a-list"),
    pytest.param("{not json", JSON, id="json-not-json"),
    pytest.param('"hello"', JSON, id="json-a-string"),
    pytest.param(_payload({}), FORM, id="payload-empty-object"),
    pytest.param(_payload(START_CLICK), FORM, id="click-without-team-or-user"),
    pytest.param(_payload(START_CLICK | {"team": {"id": "T1"}}), FORM, id="click-without-user"),
    pytest.param(_payload({**START_CLICK, "user": {"id": "U1"}}), FORM, id="click-without-team"),
    pytest.param(
        _payload({"type": "block_actions", "team": {"id": "T1"}, "user": {"id": "U1"}}),
        FORM,
        id="click-without-actions",
    ),
    pytest.param(_payload({"type": "view_submission"}), FORM, id="submission-without-view"),
    pytest.param(
        _payload(KILL_SUBMIT | {"team": {"id": "T1"}}), FORM, id="submission-without-user"
    ),
    pytest.param(
        json.dumps({"type": "event_callback", "team_id": "T1"}), JSON, id="event-without-event"
    ),
    pytest.param(_command(), FORM, id="command-without-team-or-user"),
    pytest.param(_command(team_id="T1", channel_id="C1"), FORM, id="command-without-user"),
    pytest.param(_command(user_id="U1", channel_id="C1"), FORM, id="command-without-team"),
    pytest.param("", FORM, id="empty"),
    pytest.param(b"payload=\xff\xfe\xfd", FORM, id="not-utf8"),
]


@pytest.mark.parametrize(("body", "content_type"), MALFORMED)
async def test_malformed_signed_body_gets_a_4xx_and_the_server_keeps_serving(
    hypobot: Hypobot, body: str | bytes, content_type: str
) -> None:
    status, text = await hypobot.slack.post_raw(body, content_type, sign(body))
    await settle(hypobot)
    assert 400 <= status < 500, (status, text)
    assert "Traceback" not in text
    assert await row_counts() == (0, 0, 0, 0)
    assert await still_serving(hypobot)


async def test_unsigned_body_bolt_cannot_parse_gets_a_4xx(hypobot: Hypobot) -> None:
    status, _ = await hypobot.slack.post_raw(urlencode({"payload": "{not json"}), FORM, {})
    assert 400 <= status < 500
    assert await still_serving(hypobot)


async def test_body_over_the_size_limit_gets_413_and_the_server_keeps_serving(
    hypobot: Hypobot,
) -> None:
    body = urlencode({"payload": json.dumps({"text": "x" * MAX_BODY})})
    status, _ = await post_large(hypobot.slack, body, FORM, sign(body))
    assert status == 413
    assert await still_serving(hypobot)


async def test_chunked_body_over_the_size_limit_gets_413(hypobot: Hypobot) -> None:
    chunk = b"x" * 65536

    async def stream() -> AsyncIterator[bytes]:
        for _ in range(MAX_BODY // len(chunk) + 2):
            yield chunk

    headers = {"Content-Type": FORM, **sign(b"")}
    async with hypobot.slack.session.post(hypobot.slack.url, data=stream(), headers=headers) as r:
        assert r.status == 413
    assert await still_serving(hypobot)


# --- health ----------------------------------------------------------------------------------


@pytest.mark.parametrize("path", ["/healthz", "/readyz"])
async def test_health_routes_answer_200(hypobot: Hypobot, path: str) -> None:
    async with hypobot.slack.session.get(hypobot.url + path) as response:
        assert response.status == 200
        assert (await response.json())["ok"] is True


# --- secrets never reach the logs --------------------------------------------------------------


@pytest.fixture
def app_logs() -> Iterator[io.StringIO]:
    """Logging as `hypobot serve` installs it (ops.logs.configure at DEBUG, with the secrets
    to scrub), writing to a buffer the test reads; the previous set-up comes back after."""
    root = logging.getLogger()
    handlers, level = root.handlers[:], root.level
    quiet = {name: logging.getLogger(name).level for name in ("tortoise", "aiosqlite")}
    logs.configure("DEBUG", "json", [BOT_TOKEN, SIGNING_SECRET])
    [handler] = root.handlers
    buffer = io.StringIO()
    assert isinstance(handler, logging.StreamHandler)
    handler.setStream(buffer)
    try:
        yield buffer
    finally:
        root.handlers[:] = handlers
        root.setLevel(level)
        for name, was in quiet.items():
            logging.getLogger(name).setLevel(was)


async def test_secrets_never_reach_the_logs(
    app_logs: io.StringIO, caplog: pytest.LogCaptureFixture, hypobot: Hypobot
) -> None:
    caplog.set_level(logging.DEBUG)
    # slack_sdk logs each Web API answer at DEBUG, and some answers carry secrets
    # (oauth.v2.access returns tokens); here users.info, asked by a non-owner's kill, does.
    hypobot.fake.user_fields["U2"] = {"real_name": BOT_TOKEN, "title": SIGNING_SECRET}
    await hypobot.command(f"new {ONE_LINER}")
    await hypobot.deliver()
    bet = await Bet.get(team_id="T1", number=1)
    await hypobot.action(
        ids.KILL, str(bet.id), channel_id="C1", message_ts=bet.card_ts, user_id="U2"
    )
    reply = message_event("it worked", ts="1793000000.000200", thread_ts=bet.card_ts)
    await hypobot.slack.event(reply)
    body = slash_command_body("help")
    await hypobot.slack.post_raw(body, FORM, sign(body, secret="forged"))
    await settle(hypobot)
    written = app_logs.getvalue()
    formatted = [
        caplog.handler.format(record)
        for record in caplog.get_records("setup") + caplog.get_records("call")
    ]
    assert "users.info" in written and "[redacted]" in written  # DEBUG was on, answers logged
    for text in (written, *formatted):
        assert BOT_TOKEN not in text
        assert SIGNING_SECRET not in text
