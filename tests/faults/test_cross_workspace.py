"""Workspace B, however it words its requests, never reads or changes workspace A's rows:
commands naming A's keys, buttons carrying A's row ids, modals whose private_metadata names
A's bets, replies in A's card threads. A's rows are compared in full before and after each
request, and nothing B is told or shown carries A's words."""

from __future__ import annotations

import itertools
import json
from typing import Any

from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from bot.blocks import ids
from bot.listeners import actions
from console.signing import message_event
from storage.models import Bet, Evidence
from tests.conftest import Hypobot
from tests.faults.conftest import snapshot
from tests.flows import settle

A, B = "TA", "TB"
SECRET = "ALPHA-SECRET"
A_LINE = (
    f"new We believe {SECRET} export for admins will cut tickets. We'll know when tickets drop 30%"
)
B_LINE = "new We believe bravo import for staff will save time. We'll know when time drops"
# H-1 proposed, H-2 shipped with a reply in its thread, H-3 validated, H-4 killed.
A_SETUP = (
    *(A_LINE,) * 4,
    "ship H-2",
    "ship H-3",
    f"validate H-3 {SECRET} tickets fell",
    f"kill H-4 {SECRET} superseded learned: {SECRET} admins use the API",
)
A_USER = "U1"  # the same user id in both workspaces, as a guest of both would have


async def two_workspaces(hypobot: Hypobot) -> dict[str, Any]:
    """A's bets with their cards, a reply in H-2's thread, and B's own H-1 in the same channel."""
    for text in A_SETUP:
        status, body = await hypobot.command(text, team_id=A, user_id=A_USER)
        assert status == 200, body
    status, _ = await hypobot.command(B_LINE, team_id=B, user_id=A_USER)
    assert status == 200
    await settle(hypobot)
    shipped = await Bet.get(team_id=A, number=2)
    reply = message_event(
        f"{SECRET} seen", ts="1793000000.000900", thread_ts=shipped.card_ts, user="U3", team=A
    )
    await hypobot.slack.event(reply, team_id=A)
    await settle(hypobot)
    bets = await Bet.filter(team_id=A).order_by("number")
    assert all(bet.card_ts for bet in bets)
    _, listed = await hypobot.command("list all", team_id=A, user_id=A_USER)
    assert SECRET in json.dumps(listed)  # A's own answers do carry the words B must not see
    return {
        "bet_ids": [bet.id for bet in bets],
        "card_ts": [bet.card_ts for bet in bets],
        "evidence_ids": [e.id for e in await Evidence.filter(team_id=A)],
        "b_bet_id": (await Bet.get(team_id=B, number=1)).id,
    }


VERBS = (
    "show",
    "start",
    "ship",
    "kill",
    "validate",
    "invalidate",
    "evidence",
    "signal",
    "expect",
    "snooze",
    "pivot",
)
TAILS = ("", "it worked https://x.test/a", "10d", "3d", "+ it worked", "We believe x. learned: y")
BUTTONS = actions.BET_BUTTONS + actions.REPLY_BUTTONS  # every button that names a row
MOVES = ("validate", "invalidate", "kill", "ship", None)


def _field(field_id: str, kind: str, value: str | None) -> dict[str, Any]:
    return {field_id: {field_id: {"type": kind, "value": value}}}


@st.composite
def requests_from_b(draw: st.DrawFn) -> tuple[str, Any]:
    """One request B's people could send, naming A's rows any way it can."""
    kind = draw(st.sampled_from(("command", "button", "view", "reply", "home")))
    number = draw(st.integers(min_value=1, max_value=5))
    row = draw(st.integers(min_value=0, max_value=3))
    if kind == "command":
        verb = draw(st.sampled_from((*VERBS, "list all", "list mine", "report", "help")))
        key = draw(st.sampled_from((f"H-{number}", f"h{number}", str(number))))
        tail = draw(st.sampled_from(TAILS))
        return kind, f"{verb} {key} {tail}" if verb in VERBS else verb
    if kind == "button":
        source = draw(st.sampled_from(("bet_ids", "evidence_ids", "b_bet_id")))
        return kind, (draw(st.sampled_from(BUTTONS)), source, row)
    if kind == "view":
        callback = draw(st.sampled_from((ids.EVIDENCE_VIEW, ids.CLOSE_VIEW, ids.NEW_BET_VIEW)))
        move = draw(st.sampled_from(MOVES))
        with_evidence = draw(st.booleans())  # A's evidence, on A's bet or on B's own
        source = draw(st.sampled_from(("bet_ids", "b_bet_id")))
        return kind, (callback, move, with_evidence, source, row)
    if kind == "reply":
        return kind, (row, draw(st.sampled_from(("", "thread_broadcast"))))
    return kind, draw(st.sampled_from((A_USER, "U3")))


def _value(a: dict[str, Any], source: str, n: int) -> str:
    """A button's value: one of A's bet or evidence ids, or B's own bet."""
    if source == "b_bet_id":
        return str(a["b_bet_id"])
    return str(a[source][n % len(a[source])])


async def send_as_b(hypobot: Hypobot, a: dict[str, Any], request: tuple[str, Any]) -> list[str]:
    """Send it as workspace B; return what B got back (the HTTP answer)."""
    kind, spec = request
    if kind == "command":
        status, body = await hypobot.command(spec, team_id=B, user_id=A_USER)
        return [str(status), json.dumps(body)]
    if kind == "button":
        action_id, source, n = spec
        card = a["card_ts"][n % len(a["card_ts"])]
        status, body = await hypobot.action(
            action_id, _value(a, source, n), team_id=B, user_id=A_USER, message_ts=card
        )
        return [str(status), json.dumps(body)]
    if kind == "view":
        callback, move, with_evidence, source, n = spec
        meta: dict[str, Any] = {"bet_id": int(_value(a, source, n)), "channel_id": "C1"}
        if move:
            meta["move"] = move
        if with_evidence:
            meta["evidence_id"] = a["evidence_ids"][0]
        values = {
            **_field(ids.F_TEXT, "plain_text_input", "B says it worked"),
            **_field(ids.F_LINK, "url_text_input", None),
            **_field(ids.F_LEARNED, "plain_text_input", "B learned"),
            **_field(ids.F_HYPOTHESIS, "plain_text_input", "We believe b for c will d"),
        }
        status, body = await hypobot.slack.submit_view(
            callback, values, private_metadata=json.dumps(meta), team_id=B, user_id=A_USER
        )
        return [str(status), json.dumps(body)]
    if kind == "reply":
        n, subtype = spec
        ts = f"1793000001.{next_ts():06d}"
        event = message_event(
            "B replies",
            ts=ts,
            thread_ts=a["card_ts"][n],
            user="U9",
            team=B,
            subtype=subtype or None,
        )
        status, body = await hypobot.slack.event(event, team_id=B)
        return [str(status), json.dumps(body)]
    event = {"type": "app_home_opened", "user": spec, "channel": "D1", "tab": "home"}
    status, body = await hypobot.slack.event(event, team_id=B)
    return [str(status), json.dumps(body)]


_fresh = itertools.count(1)


def next_ts() -> int:
    return next(_fresh)


def shown_to_b(hypobot: Hypobot, since: int) -> str:
    """Everything Slack received from Hypobot since call `since`: answers, messages, views."""
    return json.dumps([call.params for call in hypobot.fake.calls[since:]], default=str)


@settings(
    max_examples=70,
    deadline=None,
    database=None,
    suppress_health_check=[HealthCheck.function_scoped_fixture, HealthCheck.too_slow],
)
@given(request=requests_from_b())
async def test_requests_from_another_workspace_never_read_or_change_a_workspaces_rows(
    hypobot: Hypobot, request: tuple[str, Any]
) -> None:
    if not hasattr(hypobot, "a_rows"):
        hypobot.a_rows = await two_workspaces(hypobot)  # type: ignore[attr-defined]
    a_rows: dict[str, Any] = hypobot.a_rows  # type: ignore[attr-defined]
    before = await snapshot(A)
    since = len(hypobot.fake.calls)
    answers = await send_as_b(hypobot, a_rows, request)
    await settle(hypobot)
    assert await snapshot(A) == before, request
    assert answers[0] in ("200", "400", "404"), (request, answers)
    told = " ".join(answers) + shown_to_b(hypobot, since)
    assert SECRET not in told, (request, told[:2000])
