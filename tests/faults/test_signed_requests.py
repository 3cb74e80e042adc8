"""Correctly signed requests of every shape a generator can think of, against the served app:
never a 500, never a traceback in a response, never a row written by a request that was
answered with an error, and the server keeps serving. Plus bodies at and over the size limit.
"""

from __future__ import annotations

import json
from typing import Any
from urllib.parse import urlencode

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from bot import grammar
from bot.answers import Reply
from bot.blocks import ids
from bot.listeners import actions
from console.signing import FORM, JSON, slash_command_body
from server.http import MAX_BODY
from testkit.signing import sign
from tests.conftest import Hypobot
from tests.faults.conftest import SQLITE_ONLY, footprint
from tests.faults.test_grammar_properties import batches
from tests.flows import ONE_LINER, settle
from tests.payloads import post_large

SERVED = settings(
    deadline=None,
    database=None,
    suppress_health_check=[HealthCheck.function_scoped_fixture, HealthCheck.too_slow],
)


async def still_serving(hypobot: Hypobot) -> bool:
    status, body = await hypobot.command("help")
    return status == 200 and "/hypothesis" in body["text"]


async def post_signed(hypobot: Hypobot, body: str | bytes, content_type: str) -> tuple[int, str]:
    return await post_large(hypobot.slack, body, content_type, sign(body))


def assert_no_crash(status: int, text: str) -> None:
    assert status < 500, (status, text[:500])
    assert "Traceback" not in text and 'File "' not in text, text[:500]


async def some_bets(hypobot: Hypobot) -> None:
    """H-1 proposed, H-2 shipped, H-3 killed, cards posted: commands meet every kind of bet."""
    for text in (
        f"new {ONE_LINER}",
        f"new {ONE_LINER}",
        "ship H-2",
        f"new {ONE_LINER}",
        "kill H-3 superseded",
    ):
        status, body = await hypobot.command(text)
        assert status == 200, body
    await settle(hypobot)


def record_replies(hypobot: Hypobot) -> list[Reply]:
    """Every Reply the service gives a slash command, so a test knows which were errors."""
    replies: list[Reply] = []
    service = hypobot.runtime.answers
    run = service.run

    async def recorded(actor: Any, command: Any) -> Reply:
        reply = await run(actor, command)
        replies.append(reply)
        return reply

    service.run = recorded  # type: ignore[method-assign]
    return replies


# --- command texts through the served app ------------------------------------------------------

command_texts = batches.flatmap(lambda texts: st.sampled_from(texts))


@settings(SERVED, max_examples=150)
@given(text=command_texts)
async def test_generated_commands_never_crash_and_errors_write_nothing(
    hypobot: Hypobot, text: str
) -> None:
    if not hasattr(hypobot, "replies"):
        await some_bets(hypobot)
        hypobot.replies = record_replies(hypobot)  # type: ignore[attr-defined]
    replies: list[Reply] = hypobot.replies  # type: ignore[attr-defined]
    seen = len(replies)
    before = await footprint()
    status, body = await hypobot.command(text)
    await settle(hypobot)
    assert_no_crash(status, json.dumps(body))
    assert status == 200
    parsed = grammar.parse(text)
    answered_an_error = isinstance(parsed, grammar.Usage) or (
        not isinstance(parsed, (grammar.OpenModal, grammar.Help))
        and (len(replies) == seen or not replies[-1].ok)
    )
    if answered_an_error:
        assert await footprint() == before, (text, body)


# --- generated payloads, signed ----------------------------------------------------------------

json_values = st.recursive(
    st.none() | st.booleans() | st.integers() | st.floats(allow_nan=False) | st.text(max_size=20),
    lambda inner: (
        st.lists(inner, max_size=4) | st.dictionaries(st.text(max_size=8), inner, max_size=4)
    ),
    max_leaves=12,
)
ACTION_IDS = (*actions.BET_BUTTONS, *actions.REPLY_BUTTONS, ids.NEW_BET)  # all registered
VIEWS = (ids.NEW_BET_VIEW, ids.EVIDENCE_VIEW, ids.CLOSE_VIEW)
PAYLOAD_TYPES = (
    "block_actions",
    "view_submission",
    "view_closed",
    "shortcut",
    "message_action",
    "block_suggestion",
    "interactive_message",
)


ids_like = st.sampled_from(("1", "2", "3", "0", "-1", "99999999999", "１", "²", "1.5", "", "x"))
FIELDS = st.sampled_from(
    (ids.F_TEXT, ids.F_LINK, ids.F_HYPOTHESIS, ids.F_CHANNEL, ids.F_VERDICT, ids.F_LEARNED)
)


def payload_bodies(*, any_type: bool) -> st.SearchStrategy[tuple[str, str]]:
    """Signed bodies of the three kinds Slack posts: interactivity, slash commands, events.

    Any field may be missing, and hold a value no Slack client would send. With `any_type`
    a field may also hold another JSON type than Slack's (a list where an object belongs).
    """

    def maybe(value: st.SearchStrategy[Any]) -> st.SearchStrategy[Any]:
        return value | json_values if any_type else value

    def text(*choices: str) -> st.SearchStrategy[str]:
        return maybe(st.sampled_from(choices) | st.text(max_size=12))

    team = maybe(st.fixed_dictionaries({}, optional={"id": text("T1", "T2", "")}))
    user = maybe(
        st.fixed_dictionaries({}, optional={"id": text("U1", "U2", ""), "team_id": text("T1")})
    )
    action = st.fixed_dictionaries(
        {"action_id": text(*ACTION_IDS)},
        optional={"value": maybe(ids_like), "block_id": text("b1"), "type": text("button")},
    )
    field_state = st.fixed_dictionaries(
        {"type": text("plain_text_input", "url_text_input", "static_select")},
        optional={"value": maybe(st.none() | st.text(max_size=30))},
    )
    state = maybe(
        st.fixed_dictionaries(
            {
                "values": maybe(
                    st.dictionaries(
                        FIELDS, maybe(st.dictionaries(FIELDS, maybe(field_state), max_size=2))
                    )
                )
            }
        )
    )
    metadata = maybe(
        st.dictionaries(
            st.sampled_from(("bet_id", "move", "evidence_id", "channel_id")),
            json_values | st.sampled_from(("validate", "invalidate", "kill", "C1")) | ids_like,
        ).map(json.dumps)
        | st.text(max_size=12)
    )
    view = maybe(
        st.fixed_dictionaries(
            {"callback_id": text(*VIEWS)},
            optional={"private_metadata": metadata, "state": state, "id": text("V1")},
        )
    )
    interactive = st.fixed_dictionaries(
        {"type": text(*PAYLOAD_TYPES)},
        optional={
            "team": team,
            "user": user,
            "actions": maybe(st.lists(action, max_size=2)),
            "view": view,
            "trigger_id": text("trig-9"),
            "channel": maybe(st.fixed_dictionaries({}, optional={"id": text("C1")})),
            "callback_id": text(ids.RECORD_EVIDENCE),
            "api_app_id": text("A1"),
            "is_enterprise_install": maybe(st.booleans()),
        },
    )
    command = st.dictionaries(
        st.sampled_from(
            ("team_id", "user_id", "channel_id", "command", "text", "trigger_id", "api_app_id")
        ),
        st.sampled_from(("T1", "T2", "U1", "C1", "/hypothesis", "/other", "", "list all"))
        | st.text(max_size=20),
    )
    event = st.fixed_dictionaries(
        {"type": text("message", "app_mention", "app_home_opened")},
        optional={
            "user": text("U1", "U3"),
            "text": text("it worked"),
            "ts": text("1793000000.000200"),
            "thread_ts": text("1793000000.000100"),
            "channel": text("C1"),
            "subtype": text("message_changed", "thread_broadcast", "bot_message"),
            "tab": text("home", "messages"),
            "bot_id": text("BBOT"),
        },
    )
    envelope = st.fixed_dictionaries(
        {"type": text("event_callback", "url_verification", "app_rate_limited")},
        optional={
            "team_id": text("T1", "T2"),
            "event": maybe(event),
            "authorizations": maybe(
                st.lists(st.fixed_dictionaries({}, optional={"team_id": text("T1")}), max_size=2)
            ),
            "challenge": text("challenge"),
            "api_app_id": text("A1"),
            "event_id": text("Ev1"),
        },
    )
    return st.one_of(
        interactive.map(lambda payload: (urlencode({"payload": json.dumps(payload)}), FORM)),
        command.map(lambda fields: (urlencode(fields), FORM)),
        envelope.map(lambda body: (json.dumps(body), JSON)),
    )


async def assert_refusal_writes_nothing(hypobot: Hypobot, body: tuple[str, str]) -> None:
    before = await footprint()
    status, text = await post_signed(hypobot, *body)
    await settle(hypobot)
    assert_no_crash(status, text)
    if status >= 400:
        assert await footprint() == before, (status, text)


@SQLITE_ONLY  # the database only stores what a listener decided; one kind is enough here
@settings(SERVED, max_examples=200)
@given(body=payload_bodies(any_type=False))
async def test_signed_payloads_with_missing_fields_and_odd_values_never_crash(
    hypobot: Hypobot, body: tuple[str, str]
) -> None:
    await assert_refusal_writes_nothing(hypobot, body)


@SQLITE_ONLY
@settings(SERVED, max_examples=200)
@given(body=payload_bodies(any_type=True))
async def test_signed_payloads_with_fields_of_any_type_never_crash(
    hypobot: Hypobot, body: tuple[str, str]
) -> None:
    await assert_refusal_writes_nothing(hypobot, body)


def _payload(payload: Any) -> tuple[str, str]:
    return urlencode({"payload": json.dumps(payload)}), FORM


CLICK = {
    "type": "block_actions",
    "team": {"id": "T1"},
    "user": {"id": "U1", "team_id": "T1"},
    "actions": [{"action_id": ids.START, "value": "1"}],
}
EVENT = {"type": "event_callback", "team_id": "T1", "api_app_id": "A1"}


def _case(body: tuple[str, str], name: str) -> Any:
    return pytest.param(body, id=name)


WHO = {"team": {"id": "T1"}, "user": {"id": "U1", "team_id": "T1"}}
MISSHAPEN = [
    _case(("payload=%7Bnot+json", FORM), "payload-not-json"),
    _case(_payload([1, 2]), "payload-a-list"),
    _case(_payload("text"), "payload-a-string"),
    _case(_payload(None), "payload-null"),
    _case(("{not json", JSON), "json-not-json"),
    _case(("[]", JSON), "json-a-list"),
    _case(("null", JSON), "json-null"),
    _case(_payload({**CLICK, "type": []}), "type-a-list"),
    _case(_payload({**CLICK, "type": {"a": 1}}), "type-an-object"),
    _case((json.dumps({**EVENT, "type": ["event_callback"]}), JSON), "event-type-a-list"),
    _case(_payload({**CLICK, "channel": 1.5}), "channel-a-number"),
    _case(_payload({**CLICK, "enterprise": False}), "enterprise-a-bool"),
    _case(_payload({**CLICK, "authorizations": 3.5}), "authorizations-a-number"),
    _case(_payload({**CLICK, "team": True}), "team-a-bool"),
    _case(_payload({**CLICK, "user": True}), "user-a-bool"),
    _case(
        (json.dumps({**EVENT, "event": {"type": "message"}, "authorizations": [7]}), JSON),
        "authorizations-of-numbers",
    ),
    _case(("[" * 100_000 + "]" * 100_000, JSON), "json-nested-100k-deep"),
    _case((urlencode({"payload": "[" * 50_000 + "]" * 50_000}), FORM), "payload-deep"),
    _case((json.dumps({**EVENT, "event": []}), JSON), "event-a-list"),
    _case((json.dumps({**EVENT, "event": "message"}), JSON), "event-a-string"),
    _case(_payload({**CLICK, "actions": []}), "actions-empty"),
    _case(_payload({**CLICK, "actions": [1]}), "actions-of-numbers"),
    _case(_payload({"type": "view_submission", **WHO, "view": []}), "view-a-list"),
    _case(
        _payload({"type": "view_submission", **WHO, "view": {"callback_id": []}}),
        "view-callback-id-a-list",
    ),
    # A plain form (a slash command) whose fields Bolt would route as an event, a view or
    # actions, though each is a string; field names may come percent- or plus-encoded.
    _case(("command=%2Fhypothesis&text=help&team_id=T1&user_id=U1&event=x", FORM), "form-event"),
    _case(("command=%2Fhypothesis&text=help&team_id=T1&%76iew=x", FORM), "form-view-encoded"),
    _case(("command=%2Fhypothesis&team_id=T1&actions", FORM), "form-actions-blank"),
    _case(("type=event_callback&event=message&team_id=T1", FORM), "form-event-callback"),
]


@SQLITE_ONLY  # answered before any query: one database is enough
@pytest.mark.parametrize("body", MISSHAPEN)
async def test_a_misshapen_body_is_refused_not_a_500(
    hypobot: Hypobot, body: tuple[str, str]
) -> None:
    status, text = await post_signed(hypobot, *body)
    assert 400 <= status < 500, (status, text[:200])


async def test_misshapen_bodies_write_nothing_and_the_server_keeps_serving(
    hypobot: Hypobot,
) -> None:
    await some_bets(hypobot)
    before = await footprint()
    for case in MISSHAPEN:
        _, text = await post_signed(hypobot, *case.values[0])
        assert "Traceback" not in text and 'File "' not in text, case.id
    await settle(hypobot)
    assert await footprint() == before
    assert await still_serving(hypobot)


# --- bodies at and over the size limit -----------------------------------------------------


def _command_of_size(size: int) -> str:
    """A slash command body exactly `size` bytes long (its text is mostly x)."""
    body = slash_command_body("new ")
    return body.replace("text=new+", "text=new+" + "x" * (size - len(body)), 1)


def _click_of_size(size: int, response_url: str) -> str:
    """A click on a bet that does not exist, exactly `size` bytes long (a field pads it)."""
    action = {"action_id": ids.START, "value": "999999"}
    click = {**CLICK, "actions": [action], "response_url": response_url, "pad": ""}
    body = _payload(click)[0]
    empty = "pad%22%3A+%22%22"
    return body.replace(empty, empty[:-3] + "x" * (size - len(body)) + "%22", 1)


async def test_bodies_up_to_the_size_limit_are_answered_and_larger_ones_get_413(
    hypobot: Hypobot,
) -> None:
    await some_bets(hypobot)
    before = await footprint()
    answers = hypobot.fake.response_url("big")
    for size in (MAX_BODY - 1, MAX_BODY):
        command, click = _command_of_size(size), _click_of_size(size, answers)
        assert len(command) == len(click) == size
        status, text = await post_signed(hypobot, command, FORM)
        assert_no_crash(status, text)
        assert status == 200 and "characters; keep it under" in text, (size, text[:200])
        status, text = await post_signed(hypobot, click, FORM)
        assert_no_crash(status, text)
        assert status == 200, (size, text[:200])
    for size in (MAX_BODY + 1, MAX_BODY + 4096, 3 * MAX_BODY):
        for body in (_command_of_size(size), _click_of_size(size, answers)):
            status, text = await post_signed(hypobot, body, FORM)
            assert status == 413, (size, status, text[:200])
    await settle(hypobot)
    assert await footprint() == before
    assert await still_serving(hypobot)
