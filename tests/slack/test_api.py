"""The HTTP API (/api/v1) over HTTP on the served app, on both databases: bearer tokens of one
workspace, evidence through the same use case as the slash command (posted in the bet's
thread, ending time to feedback at its observed time, stopping nudges), ship, reads in the
export's shape, idempotency keys, every refusal with its status and nothing written, the
OpenAPI document, the tokens command, and generated bodies and headers that never crash it.
"""

from __future__ import annotations

import argparse
import asyncio
import hashlib
import io
import json
from collections.abc import AsyncIterator
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from typing import Any

import aiohttp
import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from api import bodies
from api.flow import Flow
from api.openapi import document
from bets.evidence import Verdict
from bets.lifecycle import Move, MoveRequest
from console.fakeslack import FakeSlack
from console.tokens import tokens_command
from storage.models import ApiRequest, ApiToken, Bet, Event, Evidence, Outbox
from tests.conftest import Clock, Hypobot, served
from tests.flows import posted_bet, settle
from tests.jobs_support import nudges_for, run_job, shipped_bet
from tests.stored import at, moved
from usecases import bets as usecase
from usecases import export, tokens
from usecases.bets import BetDraft, Created, EvidenceAdded, NewEvidence
from usecases.context import Actor, Context

MONDAY = datetime(2026, 11, 2, 10, 0, tzinfo=UTC)


@dataclass
class Answer:
    status: int
    body: Any
    headers: Any
    text: str


async def call(
    hypobot: Hypobot,
    method: str,
    path: str,
    *,
    token: str | None = None,
    body: Any = None,
    data: bytes | str | None = None,
    headers: dict[str, str] | None = None,
) -> Answer:
    sent = dict(headers or {})
    if token is not None:
        sent["Authorization"] = f"Bearer {token}"
    if body is not None:
        data = json.dumps(body)
    if data is not None:
        sent.setdefault("Content-Type", "application/json")
    async with (
        aiohttp.ClientSession() as session,
        session.request(method, hypobot.url + path, data=data, headers=sent) as response,
    ):
        text = await response.text()
        try:
            parsed = json.loads(text)
        except ValueError:
            parsed = None
        return Answer(response.status, parsed, response.headers, text)


async def token_for(hypobot: Hypobot, team_id: str = "T1", name: str = "ci") -> str:
    issued = await tokens.create(Context(clock=hypobot.clock), team_id, name)
    assert isinstance(issued, tokens.Issued)
    return issued.token


EVIDENCE = {"verdict": "supports", "text": "export tickets down 34%", "source": "grafana"}


async def footprint() -> dict[str, Any]:
    """Every row an API call could write, in full (outbox rows without how their delivery,
    which goes on in the background, is going)."""
    rows = {
        model.__name__: await model.all().order_by("id").values()
        for model in (Bet, Evidence, Event, ApiRequest, ApiToken)
    }
    queued = ("id", "team_id", "channel_id", "kind", "bet_id", "thread_ts", "payload")
    rows["Outbox"] = await Outbox.all().order_by("id").values(*queued)
    return rows


FORECAST = ("forecast_85_at", "forecast_why")  # what the API adds to the export's record (F4)


def exported_part(record: dict[str, Any]) -> dict[str, Any]:
    return {name: value for name, value in record.items() if name not in FORECAST}


def thread_posts(hypobot: Hypobot, bet: Bet) -> list[Any]:
    return [c for c in hypobot.fake.calls_to("chat.postMessage") if c.thread_ts == bet.card_ts]


# --- evidence ------------------------------------------------------------------------------


async def test_evidence_is_recorded_and_answers_201_with_its_id_and_the_bets_state(
    hypobot: Hypobot,
) -> None:
    bet = await posted_bet(hypobot, "shipped")
    token = await token_for(hypobot)
    answer = await call(hypobot, "POST", "/api/v1/bets/H-1/evidence", token=token, body=EVIDENCE)
    assert answer.status == 201, answer.text
    [evidence] = await Evidence.filter(bet_id=bet.id)
    assert answer.body == {"key": "H-1", "evidence_id": evidence.id, "state": "shipped"}
    assert (evidence.verdict, evidence.text, evidence.source) == (
        "supports",
        "export tickets down 34%",
        "api",
    )
    assert (evidence.source_name, evidence.author_id) == ("grafana", "api:ci")


async def test_the_event_names_the_token_by_name_never_the_token(hypobot: Hypobot) -> None:
    bet = await posted_bet(hypobot, "shipped")
    token = await token_for(hypobot)
    await call(hypobot, "POST", "/api/v1/bets/1/evidence", token=token, body=EVIDENCE)
    [event] = await Event.filter(bet_id=bet.id, kind="evidence")
    assert event.actor_id == "api:ci" and event.data["source"] == "api"
    every_row = json.dumps(await footprint(), default=str)
    assert token not in every_row and token.removeprefix("hypo_") not in every_row


async def test_the_same_idempotency_key_again_answers_200_with_the_same_evidence_and_no_new_row(
    hypobot: Hypobot,
) -> None:
    bet = await posted_bet(hypobot, "shipped")
    token = await token_for(hypobot)
    key = {"Idempotency-Key": "deploy-4711"}
    first = await call(
        hypobot, "POST", "/api/v1/bets/H-1/evidence", token=token, body=EVIDENCE, headers=key
    )
    again = await call(
        hypobot, "POST", "/api/v1/bets/h1/evidence", token=token, body=EVIDENCE, headers=key
    )
    assert (first.status, again.status) == (201, 200)
    assert again.body == first.body
    assert await Evidence.filter(bet_id=bet.id).count() == 1
    assert await Outbox.filter(bet_id=bet.id, kind="evidence").count() == 1
    assert await ApiRequest.filter(team_id="T1", idempotency_key="deploy-4711").count() == 1


async def test_concurrent_calls_with_one_idempotency_key_record_one_piece_of_evidence(
    hypobot: Hypobot,
) -> None:
    bet = await posted_bet(hypobot, "shipped")
    token = await token_for(hypobot)
    key = {"Idempotency-Key": "run-1"}
    answers = await asyncio.gather(
        *(
            call(
                hypobot,
                "POST",
                "/api/v1/bets/H-1/evidence",
                token=token,
                body=EVIDENCE,
                headers=key,
            )
            for _ in range(6)
        )
    )
    assert sorted(a.status for a in answers) == [200] * 5 + [201]
    assert len({a.body["evidence_id"] for a in answers}) == 1
    assert await Evidence.filter(bet_id=bet.id).count() == 1
    assert await Event.filter(bet_id=bet.id, kind="evidence").count() == 1


async def test_a_call_that_races_past_the_kept_answer_is_stopped_by_the_unique_key(
    hypobot: Hypobot, monkeypatch: pytest.MonkeyPatch
) -> None:
    bet = await posted_bet(hypobot, "shipped")
    token = await token_for(hypobot)
    key = {"Idempotency-Key": "run-2"}
    first = await call(
        hypobot, "POST", "/api/v1/bets/H-1/evidence", token=token, body=EVIDENCE, headers=key
    )
    looked_up = tokens.kept
    misses = [None]  # the second call's first look finds nothing, as if the first were in flight

    async def racing(caller: tokens.Caller, idempotency_key: str) -> tokens.Kept | None:
        return misses.pop() if misses else await looked_up(caller, idempotency_key)

    monkeypatch.setattr(tokens, "kept", racing)
    again = await call(
        hypobot, "POST", "/api/v1/bets/H-1/evidence", token=token, body=EVIDENCE, headers=key
    )
    assert (first.status, again.status, again.body) == (201, 200, first.body)
    assert await Evidence.filter(bet_id=bet.id).count() == 1
    assert await Outbox.filter(bet_id=bet.id, kind="evidence").count() == 1


async def test_an_idempotency_key_used_for_another_request_is_refused_naming_it(
    hypobot: Hypobot,
) -> None:
    await posted_bet(hypobot, "shipped")
    token = await token_for(hypobot)
    key = {"Idempotency-Key": "k1"}
    await call(
        hypobot, "POST", "/api/v1/bets/H-1/evidence", token=token, body=EVIDENCE, headers=key
    )
    before = await footprint()
    answer = await call(hypobot, "POST", "/api/v1/bets/H-1/ship", token=token, headers=key)
    assert (answer.status, answer.body["field"]) == (422, "Idempotency-Key")
    assert await footprint() == before


async def a_second_bet(hypobot: Hypobot) -> None:
    """H-2, proposed (evidence is welcome on it too)."""
    status, body = await hypobot.command("new We believe b for c will d. We'll know when e")
    assert status == 200, body
    await settle(hypobot)


@pytest.mark.parametrize(
    ("path", "again"),
    [
        ("/api/v1/bets/H-1/evidence", EVIDENCE | {"text": "export tickets down 12%"}),
        ("/api/v1/bets/H-1/evidence", EVIDENCE | {"verdict": "refutes"}),
        ("/api/v1/bets/H-1/evidence", EVIDENCE | {"link": "https://grafana.example.com/d/2"}),
        ("/api/v1/bets/H-2/evidence", EVIDENCE),
        ("/api/v1/bets/H-2/evidence", EVIDENCE | {"text": "another bet, another text"}),
        ("/api/v1/bets/H-1/ship", {"link": "https://github.com/acme/app/pull/42"}),
    ],
)
async def test_the_same_idempotency_key_with_another_body_or_bet_is_422_naming_the_header(
    hypobot: Hypobot, path: str, again: dict[str, Any]
) -> None:
    await posted_bet(hypobot, "shipped")
    await a_second_bet(hypobot)
    token = await token_for(hypobot)
    key = {"Idempotency-Key": "alert-9"}
    first = await call(
        hypobot, "POST", "/api/v1/bets/H-1/evidence", token=token, body=EVIDENCE, headers=key
    )
    assert first.status == 201, first.text
    before = await footprint()
    answer = await call(hypobot, "POST", path, token=token, body=again, headers=key)
    assert (answer.status, answer.body["field"]) == (422, "Idempotency-Key"), answer.text
    assert answer.body["message"].startswith("Idempotency-Key: was used ")
    assert "use a new key for a new request" in answer.body["message"]
    assert await footprint() == before
    replay = await call(
        hypobot, "POST", "/api/v1/bets/H-1/evidence", token=token, body=EVIDENCE, headers=key
    )
    assert (replay.status, replay.body) == (200, first.body)


async def test_ship_with_the_same_idempotency_key_and_another_link_is_422_and_ships_nothing_new(
    hypobot: Hypobot,
) -> None:
    await posted_bet(hypobot, "proposed")
    token = await token_for(hypobot)
    key = {"Idempotency-Key": "release-8"}
    link = {"link": "https://github.com/acme/app/pull/42"}
    first = await call(hypobot, "POST", "/api/v1/bets/H-1/ship", token=token, headers=key)
    before = await footprint()
    again = await call(
        hypobot, "POST", "/api/v1/bets/H-1/ship", token=token, body=link, headers=key
    )
    assert (first.status, again.status, again.body["field"]) == (200, 422, "Idempotency-Key")
    assert await footprint() == before
    empty = await call(hypobot, "POST", "/api/v1/bets/H-1/ship", token=token, body={}, headers=key)
    assert (empty.status, empty.body) == (200, first.body)  # no body and {} are one body


async def test_the_same_body_spelt_differently_is_the_same_request_for_its_idempotency_key(
    hypobot: Hypobot,
) -> None:
    bet = await posted_bet(hypobot, "shipped")
    token = await token_for(hypobot)
    hypobot.clock.advance(days=2)
    key = {"Idempotency-Key": "deploy-4712"}
    body = EVIDENCE | {"observed_at": "2026-11-03T11:30:00+02:00", "link": None}
    first = await call(
        hypobot, "POST", "/api/v1/bets/H-1/evidence", token=token, body=body, headers=key
    )
    respelt = (
        '{ "source":"grafana",  "observed_at": "2026-11-03T09:30:00Z",\n'
        '  "text": "export tickets down 34%", "verdict": "supports" }'
    )  # other order, spacing and offset; the default link left out
    again = await call(
        hypobot, "POST", "/api/v1/bets/h1/evidence", token=token, data=respelt, headers=key
    )
    assert (first.status, again.status, again.body) == (201, 200, first.body), again.text
    assert await Evidence.filter(bet_id=bet.id).count() == 1


async def test_an_answer_kept_before_bodies_were_replays_whatever_the_body(
    hypobot: Hypobot,
) -> None:
    """A row kept by the last release holds the answer alone, no body hash: the key still
    answers with it (nothing can be compared), and a new row keeps the hash beside it."""
    await posted_bet(hypobot, "shipped")
    token = await token_for(hypobot)
    [row] = await ApiToken.filter(team_id="T1")
    answer = {"key": "H-1", "evidence_id": 4242, "state": "shipped"}
    await ApiRequest.create(
        team_id="T1",
        idempotency_key="old-1",
        token_id=row.id,
        method="POST",
        path="/api/v1/bets/H-1/evidence",
        status=201,
        response=answer,
        created_at=MONDAY,
    )
    before = await footprint()
    other = EVIDENCE | {"text": "something else"}
    replay = await call(
        hypobot,
        "POST",
        "/api/v1/bets/H-1/evidence",
        token=token,
        body=other,
        headers={"Idempotency-Key": "old-1"},
    )
    assert (replay.status, replay.body) == (200, answer)
    assert {k: v for k, v in (await footprint()).items() if k != "ApiToken"} == {
        k: v for k, v in before.items() if k != "ApiToken"
    }
    new = await call(
        hypobot,
        "POST",
        "/api/v1/bets/H-1/evidence",
        token=token,
        body=EVIDENCE,
        headers={"Idempotency-Key": "new-1"},
    )
    kept = await ApiRequest.get(team_id="T1", idempotency_key="new-1")
    assert kept.response == {"body_sha256": kept.response["body_sha256"], "answer": new.body}
    assert len(kept.response["body_sha256"]) == 64


async def test_concurrent_calls_with_one_idempotency_key_and_two_bodies_record_only_the_first(
    hypobot: Hypobot,
) -> None:
    """One call wins the key; the calls with its body get its answer (200), the calls with
    the other body 422, whichever order they arrive in, and nothing of theirs is written."""
    bet = await posted_bet(hypobot, "shipped")
    token = await token_for(hypobot)
    key = {"Idempotency-Key": "run-3"}
    texts = ["tickets down 34%", "tickets up 3%"] * 3
    answers = await asyncio.gather(
        *(
            call(
                hypobot,
                "POST",
                "/api/v1/bets/H-1/evidence",
                token=token,
                body=EVIDENCE | {"text": text},
                headers=key,
            )
            for text in texts
        )
    )
    [won] = [text for text, a in zip(texts, answers, strict=True) if a.status == 201]
    assert sorted(a.status for t, a in zip(texts, answers, strict=True) if t == won) == [
        200,
        200,
        201,
    ]
    lost = [a for t, a in zip(texts, answers, strict=True) if t != won]
    assert [(a.status, a.body["field"]) for a in lost] == [(422, "Idempotency-Key")] * 3
    [evidence] = await Evidence.filter(bet_id=bet.id)
    assert evidence.text == won
    assert await Event.filter(bet_id=bet.id, kind="evidence").count() == 1
    assert await Outbox.filter(bet_id=bet.id, kind="evidence").count() == 1
    assert await ApiRequest.filter(team_id="T1", idempotency_key="run-3").count() == 1


async def test_a_call_with_another_body_that_races_past_the_kept_answer_is_422_and_rolled_back(
    hypobot: Hypobot, monkeypatch: pytest.MonkeyPatch
) -> None:
    await posted_bet(hypobot, "shipped")
    token = await token_for(hypobot)
    key = {"Idempotency-Key": "run-4"}
    first = await call(
        hypobot, "POST", "/api/v1/bets/H-1/evidence", token=token, body=EVIDENCE, headers=key
    )
    assert first.status == 201
    before = await footprint()
    looked_up = tokens.kept
    misses = [None]  # its first look finds nothing, as if the first call were in flight

    async def racing(caller: tokens.Caller, idempotency_key: str) -> tokens.Kept | None:
        return misses.pop() if misses else await looked_up(caller, idempotency_key)

    monkeypatch.setattr(tokens, "kept", racing)
    again = await call(
        hypobot,
        "POST",
        "/api/v1/bets/H-1/evidence",
        token=token,
        body=EVIDENCE | {"text": "a different observation"},
        headers=key,
    )
    assert (again.status, again.body["field"]) == (422, "Idempotency-Key"), again.text
    assert {k: v for k, v in (await footprint()).items() if k != "ApiToken"} == {
        k: v for k, v in before.items() if k != "ApiToken"
    }


async def test_evidence_is_posted_in_the_bets_thread_from_its_source_escaped(
    hypobot: Hypobot,
) -> None:
    bet = await posted_bet(hypobot, "shipped")
    token = await token_for(hypobot)
    body = {
        "verdict": "refutes",
        "text": "no change <!channel> & co",
        "source": "<!here> ci & <https://evil.example|x>",
        "link": "https://grafana.example.com/d/1",
    }
    answer = await call(hypobot, "POST", "/api/v1/bets/H-1/evidence", token=token, body=body)
    assert answer.status == 201
    await hypobot.deliver()
    [post] = thread_posts(hypobot, bet)
    shown = json.dumps(post.blocks, ensure_ascii=False)
    assert "📎 from *&lt;!here&gt; ci &amp; &lt;https://evil.example|x&gt;*" in shown
    assert "no change &lt;!channel&gt; &amp; co" in shown
    assert "<https://grafana.example.com/d/1>" in shown
    assert "<!here>" not in shown and "<!channel>" not in shown
    assert "<!here>" not in (post.text or "")
    assert not hypobot.fake.block_errors


async def test_without_a_source_the_thread_says_the_tokens_name(hypobot: Hypobot) -> None:
    bet = await posted_bet(hypobot, "shipped")
    token = await token_for(hypobot, name="deploy-bot")
    body = {"verdict": "inconclusive", "text": "too early to tell"}
    await call(hypobot, "POST", "/api/v1/bets/H-1/evidence", token=token, body=body)
    await hypobot.deliver()
    [post] = thread_posts(hypobot, bet)
    assert "📎 from *deploy-bot*" in json.dumps(post.blocks, ensure_ascii=False)


async def test_observed_at_is_the_evidence_time_and_ends_time_to_feedback(
    hypobot: Hypobot,
) -> None:
    bet = await posted_bet(hypobot, "shipped")  # shipped Monday 10:00
    token = await token_for(hypobot)
    hypobot.clock.advance(days=2)
    body = EVIDENCE | {"observed_at": "2026-11-03T11:30:00+02:00"}  # Tuesday 09:30 UTC
    answer = await call(hypobot, "POST", "/api/v1/bets/H-1/evidence", token=token, body=body)
    assert answer.status == 201
    observed = datetime(2026, 11, 3, 9, 30, tzinfo=UTC)
    assert (await Evidence.get(bet_id=bet.id)).at == observed
    assert (await Bet.get(id=bet.id)).first_feedback_at == observed


async def test_observed_at_in_the_future_is_refused_naming_the_field(hypobot: Hypobot) -> None:
    await posted_bet(hypobot, "shipped")
    token = await token_for(hypobot)
    before = await footprint()
    body = EVIDENCE | {"observed_at": "2026-11-02T10:00:01Z"}  # a second after the clock
    answer = await call(hypobot, "POST", "/api/v1/bets/H-1/evidence", token=token, body=body)
    assert (answer.status, answer.body["field"]) == (422, "observed_at")
    assert "future" in answer.body["message"]
    assert await footprint() == before


CREATED_BEFORE = "observed before H-1 existed (created Mon 2 Nov, 10:00 UTC)"


async def test_observed_at_before_the_bet_was_created_is_refused_naming_the_field(
    hypobot: Hypobot,
) -> None:
    await posted_bet(hypobot, "shipped")  # created Monday 2 Nov 10:00 UTC
    token = await token_for(hypobot)
    hypobot.clock.advance(days=2)
    before = await footprint()
    for observed in ("2026-11-02T09:59:59Z", "2026-11-02T11:59:59+02:00", "2023-01-01T00:00:00Z"):
        body = EVIDENCE | {"observed_at": observed}
        answer = await call(hypobot, "POST", "/api/v1/bets/H-1/evidence", token=token, body=body)
        assert (answer.status, answer.body) == (
            422,
            {
                "error": "invalid",
                "field": "observed_at",
                "message": "observed_at: " + CREATED_BEFORE,
            },
        ), observed
    assert await footprint() == before


async def test_observed_at_the_moment_the_bet_was_created_is_accepted(hypobot: Hypobot) -> None:
    bet = await posted_bet(hypobot, "shipped")
    token = await token_for(hypobot)
    hypobot.clock.advance(hours=1)
    body = EVIDENCE | {"observed_at": "2026-11-02T11:00:00+01:00"}  # 10:00 UTC, its creation
    answer = await call(hypobot, "POST", "/api/v1/bets/H-1/evidence", token=token, body=body)
    assert answer.status == 201, answer.text
    assert (await Evidence.get(bet_id=bet.id)).at == bet.created_at == MONDAY


async def test_observed_at_on_an_unknown_bet_is_404(hypobot: Hypobot) -> None:
    await posted_bet(hypobot, "shipped")
    token = await token_for(hypobot)
    before = await footprint()
    body = EVIDENCE | {"observed_at": "2020-01-01T00:00:00Z"}
    answer = await call(hypobot, "POST", "/api/v1/bets/H-9/evidence", token=token, body=body)
    assert (answer.status, answer.body["error"]) == (404, "not_found")
    assert await footprint() == before


async def test_decisive_api_evidence_stops_the_next_nudge(hypobot: Hypobot) -> None:
    bet = await shipped_bet(hypobot, MONDAY)
    token = await token_for(hypobot)
    hypobot.clock.now = MONDAY + timedelta(days=1)
    body = {"verdict": "supports", "text": "tickets fell", "source": "grafana"}
    await call(hypobot, "POST", "/api/v1/bets/H-1/evidence", token=token, body=body)
    await run_job(hypobot, "nudges", MONDAY + timedelta(days=3, hours=1))
    assert nudges_for(hypobot, bet) == []


async def test_inconclusive_api_evidence_leaves_the_nudge_due(hypobot: Hypobot) -> None:
    bet = await shipped_bet(hypobot, MONDAY)
    token = await token_for(hypobot)
    hypobot.clock.now = MONDAY + timedelta(days=1)
    body = {"verdict": "inconclusive", "text": "too early", "source": "grafana"}
    await call(hypobot, "POST", "/api/v1/bets/H-1/evidence", token=token, body=body)
    await run_job(hypobot, "nudges", MONDAY + timedelta(days=3, hours=1))
    assert len(nudges_for(hypobot, bet)) == 1


async def test_evidence_on_a_closed_bet_is_refused_409_and_writes_nothing(
    hypobot: Hypobot,
) -> None:
    await posted_bet(hypobot, "killed")
    token = await token_for(hypobot)
    before = await footprint()
    answer = await call(hypobot, "POST", "/api/v1/bets/H-1/evidence", token=token, body=EVIDENCE)
    assert (answer.status, answer.body["state"], answer.body["allowed"]) == (409, "killed", [])
    assert await footprint() == before


# --- ship ------------------------------------------------------------------------------------


async def test_ship_answers_200_with_the_bet_as_export_writes_it(hypobot: Hypobot) -> None:
    bet = await posted_bet(hypobot, "building")
    token = await token_for(hypobot)
    link = "https://github.com/acme/app/pull/42"
    answer = await call(hypobot, "POST", "/api/v1/bets/H-1/ship", token=token, body={"link": link})
    assert answer.status == 200, answer.text
    shipped = await Bet.get(id=bet.id)
    assert (shipped.state, shipped.link, shipped.shipped_at) == ("shipped", link, MONDAY)
    assert exported_part(answer.body) == await export.record_of("T1", 1)
    assert answer.body["forecast_why"] == "no bet heard in the last 90 days, 5 needed"
    assert answer.body["events"][-1]["actor"] == "api:ci"
    assert (answer.body["events"][-1]["from"], answer.body["events"][-1]["to"]) == (
        "building",
        "shipped",
    )


async def test_ship_without_a_body_ships(hypobot: Hypobot) -> None:
    await posted_bet(hypobot, "proposed")
    token = await token_for(hypobot)
    answer = await call(hypobot, "POST", "/api/v1/bets/1/ship", token=token)
    assert (answer.status, answer.body["state"]) == (200, "shipped")


async def test_ship_of_a_shipped_bet_is_refused_409_with_the_legal_moves(
    hypobot: Hypobot,
) -> None:
    await posted_bet(hypobot, "shipped")
    token = await token_for(hypobot)
    before = await footprint()
    answer = await call(hypobot, "POST", "/api/v1/bets/H-1/ship", token=token)
    assert answer.status == 409
    assert answer.body["error"] == "illegal_move" and answer.body["state"] == "shipped"
    assert answer.body["allowed"] == ["validate", "invalidate", "kill"]
    assert "validate, invalidate, kill" in answer.body["message"]
    assert await footprint() == before


async def test_ship_again_with_the_same_idempotency_key_answers_200_not_409(
    hypobot: Hypobot,
) -> None:
    await posted_bet(hypobot, "proposed")
    token = await token_for(hypobot)
    key = {"Idempotency-Key": "release-7"}
    first = await call(hypobot, "POST", "/api/v1/bets/H-1/ship", token=token, headers=key)
    again = await call(hypobot, "POST", "/api/v1/bets/H-1/ship", token=token, headers=key)
    assert (first.status, again.status) == (200, 200)
    assert again.body == first.body
    assert await Event.filter(kind="ship").count() == 1


# --- reads -----------------------------------------------------------------------------------


@pytest.mark.parametrize("key", ["H-1", "h-1", "h1", "1"])
async def test_a_bet_reads_as_export_writes_it_by_any_spelling_of_its_key(
    hypobot: Hypobot, key: str
) -> None:
    await posted_bet(hypobot, "shipped")
    token = await token_for(hypobot)
    answer = await call(hypobot, "GET", f"/api/v1/bets/{key}", token=token)
    assert answer.status == 200
    [exported] = await export.team_records("T1")
    assert exported_part(answer.body) == exported


async def test_listing_by_state_gives_only_bets_in_that_state(hypobot: Hypobot) -> None:
    await posted_bet(hypobot, "shipped")
    for text in ("new We believe b for c will d. We'll know when e", "kill H-2 superseded"):
        await hypobot.command(text)
    await settle(hypobot)
    token = await token_for(hypobot)
    shipped = await call(hypobot, "GET", "/api/v1/bets?state=shipped", token=token)
    everything = await call(hypobot, "GET", "/api/v1/bets", token=token)
    assert [b["key"] for b in shipped.body] == ["H-1"]
    assert [b["key"] for b in everything.body] == ["H-1", "H-2"]
    assert [exported_part(b) for b in everything.body] == await export.team_records("T1")


async def test_an_unknown_state_is_refused_naming_the_parameter(hypobot: Hypobot) -> None:
    token = await token_for(hypobot)
    answer = await call(hypobot, "GET", "/api/v1/bets?state=done", token=token)
    assert (answer.status, answer.body["field"]) == (422, "state")


@pytest.mark.parametrize(
    ("method", "path", "field", "takes"),
    [
        ("GET", "/api/v1/bets?colour=blue", "colour", "state, limit"),
        ("GET", "/api/v1/bets?state=shipped&Limit=5", "Limit", "state, limit"),
        ("GET", "/api/v1/bets/H-1?state=shipped", "state", "none"),
        ("GET", "/api/v1/openapi.json?format=yaml", "format", "none"),
        ("POST", "/api/v1/bets/H-1/evidence?dry_run=1", "dry_run", "none"),
        ("POST", "/api/v1/bets/H-1/ship?force", "force", "none"),
    ],
)
async def test_an_unknown_query_parameter_is_422_naming_it_and_changes_nothing(
    hypobot: Hypobot, method: str, path: str, field: str, takes: str
) -> None:
    await posted_bet(hypobot, "building")
    token = await token_for(hypobot)
    before = await footprint()
    body = EVIDENCE if path.endswith("evidence?dry_run=1") else None
    answer = await call(hypobot, method, path, token=token, body=body)
    assert (answer.status, answer.body["field"]) == (422, field), answer.text
    assert answer.body["message"] == (
        f"{field}: is not a query parameter of this path (it takes {takes})"
    )
    assert await footprint() == before


async def test_a_query_parameter_given_twice_is_422_naming_it(hypobot: Hypobot) -> None:
    token = await token_for(hypobot)
    answer = await call(hypobot, "GET", "/api/v1/bets?state=shipped&state=killed", token=token)
    assert (answer.status, answer.body["field"]) == (422, "state")
    assert answer.body["message"] == "state: is given more than once"


async def test_the_listed_query_parameters_are_still_taken(hypobot: Hypobot) -> None:
    await posted_bet(hypobot, "shipped")
    token = await token_for(hypobot)
    answer = await call(hypobot, "GET", "/api/v1/bets?state=shipped&limit=1", token=token)
    assert (answer.status, [b["key"] for b in answer.body]) == (200, ["H-1"])


# --- content types ----------------------------------------------------------------------------


@pytest.mark.parametrize(
    "content_type",
    [
        "text/plain",
        "text/plain; charset=utf-8",
        "application/x-www-form-urlencoded",
        "application/octet-stream",
        "multipart/form-data; boundary=x",
        "application/json; charset=latin-1",
        "application/jsonx",
        "application/merge-patch+json",
        "json",
        ";;;",
    ],
)
@pytest.mark.parametrize("path", ["/api/v1/bets/H-1/evidence", "/api/v1/bets/H-1/ship"])
async def test_a_body_that_is_not_sent_as_json_is_415_naming_what_is_accepted(
    hypobot: Hypobot, content_type: str, path: str
) -> None:
    await posted_bet(hypobot, "building")
    token = await token_for(hypobot)
    before = await footprint()
    body = EVIDENCE if path.endswith("evidence") else {"link": "https://git.example/pr/1"}
    answer = await call(
        hypobot,
        "POST",
        path,
        token=token,
        data=json.dumps(body),
        headers={"Content-Type": content_type, "Idempotency-Key": "k"},
    )
    assert (answer.status, answer.body["error"]) == (415, "unsupported_media_type"), answer.text
    assert answer.body["field"] == "Content-Type"
    assert answer.body["message"].startswith(
        "send the body as Content-Type: application/json (charset utf-8, if any); got "
    )
    assert answer.headers["Accept-Post"] == "application/json"
    assert await footprint() == before


@pytest.mark.parametrize(
    "content_type",
    ["application/json", "application/json; charset=utf-8", "Application/JSON;charset=UTF8"],
)
async def test_a_json_body_with_or_without_its_utf8_charset_is_taken(
    hypobot: Hypobot, content_type: str
) -> None:
    await posted_bet(hypobot, "shipped")
    token = await token_for(hypobot)
    answer = await call(
        hypobot,
        "POST",
        "/api/v1/bets/H-1/evidence",
        token=token,
        data=json.dumps(EVIDENCE),
        headers={"Content-Type": content_type},
    )
    assert answer.status == 201, answer.text


async def test_ship_without_a_body_ships_whatever_its_content_type(hypobot: Hypobot) -> None:
    await posted_bet(hypobot, "building")
    token = await token_for(hypobot)
    answer = await call(
        hypobot,
        "POST",
        "/api/v1/bets/H-1/ship",
        token=token,
        headers={"Content-Type": "application/x-www-form-urlencoded"},  # curl -X POST -d ''
    )
    assert (answer.status, answer.body["state"]) == (200, "shipped")


# --- the export's shape -----------------------------------------------------------------------


async def a_rich_bet(hypobot: Hypobot) -> None:
    """H-2: a pivot of H-1 (killed), with coach notes (no signal when it was made), an
    expected date "within 4 days" of shipping, a supporting result before shipping, evidence
    from elsewhere with its source's name, and a snooze."""
    made_at = MONDAY - timedelta(days=10)
    actor = Actor("T1", "UCAROL", "C1")

    def draft(title: str, **more: Any) -> BetDraft:
        return BetDraft(
            channel_id="C1",
            title=title,
            hypothesis=f"We believe {title.lower()} for admins will cut tickets",
            **more,
        )

    killed = await usecase.create(at(made_at), actor, draft("Old export", signal="tickets"))
    assert isinstance(killed, Created), killed
    kill = MoveRequest(Move.KILL, text="superseded")
    await moved("T1", killed.bet.id, kill, now=made_at, actor="UCAROL")
    made = await usecase.create(
        at(made_at + timedelta(hours=1)),
        actor,
        draft("One-click export", owner_id="UOWNER", expect_within=timedelta(days=4), pivot_of=1),
    )
    assert isinstance(made, Created), made
    bet_id = made.bet.id
    early = NewEvidence(Verdict.SUPPORTS, "prototype: 4 of 5 liked it", "command")
    added = await usecase.add_evidence(at(made_at + timedelta(days=1)), actor, early, bet_id=bet_id)
    assert isinstance(added, EvidenceAdded), added
    ship = MoveRequest(Move.SHIP)
    await moved("T1", bet_id, ship, now=made_at + timedelta(days=2), actor="UCAROL")
    snoozed = await usecase.snooze(
        at(made_at + timedelta(days=3)), actor, timedelta(days=5), bet_id=bet_id
    )
    assert not isinstance(snoozed, usecase.Refused), snoozed
    token = await token_for(hypobot)
    body = {
        "verdict": "inconclusive",
        "text": "too early",
        "source": "amplitude",
        "link": "https://amplitude.example/q/7",
        "observed_at": (MONDAY - timedelta(days=1)).isoformat(),
    }
    answer = await call(hypobot, "POST", "/api/v1/bets/H-2/evidence", token=token, body=body)
    assert answer.status == 201, answer.text
    await settle(hypobot)


async def test_a_rich_bet_reads_from_the_api_exactly_as_the_export_writes_it(
    hypobot: Hypobot,
) -> None:
    await a_rich_bet(hypobot)
    token = await token_for(hypobot, name="reader")
    exported = {record["key"]: record for record in await export.team_export("T1")}
    rich = exported["H-2"]
    assert rich["expect_within_s"] == 4 * 86400 and rich["pivot_of"] == "H-1"
    assert rich["snoozed_until"] and rich["coach_notes"] and rich["first_decisive_at"]
    assert [e["source_name"] for e in rich["evidence"]] == ["", "amplitude"]
    one = await call(hypobot, "GET", "/api/v1/bets/H-2", token=token)
    assert (one.status, exported_part(one.body)) == (200, json.loads(json.dumps(rich)))
    every = await call(hypobot, "GET", "/api/v1/bets", token=token)
    assert [exported_part(record) for record in every.body] == json.loads(
        json.dumps(list(exported.values()))
    )
    shipped = await call(hypobot, "GET", "/api/v1/bets?state=shipped", token=token)
    assert shipped.body == [one.body]
    assert set(one.body) == set(bodies.BetRecord.model_fields) | set(FORECAST)
    assert set(one.body["evidence"][0]) == set(bodies.EvidenceRecord.model_fields)


# --- the workspace's own bets only ------------------------------------------------------------


@pytest.mark.parametrize("key", ["H-7", "0", "x", "H-1-2"])
async def test_an_unknown_key_is_404(hypobot: Hypobot, key: str) -> None:
    await posted_bet(hypobot, "shipped")
    token = await token_for(hypobot)
    answer = await call(hypobot, "GET", f"/api/v1/bets/{key}", token=token)
    assert (answer.status, answer.body["error"]) == (404, "not_found")


async def test_another_workspaces_bet_is_404_and_stays_untouched(hypobot: Hypobot) -> None:
    await posted_bet(hypobot, "shipped", team_id="TA")  # only workspace A has an H-1
    token_b = await token_for(hypobot, team_id="TB")
    before = await footprint()
    read = await call(hypobot, "GET", "/api/v1/bets/H-1", token=token_b)
    added = await call(hypobot, "POST", "/api/v1/bets/H-1/evidence", token=token_b, body=EVIDENCE)
    shipped = await call(hypobot, "POST", "/api/v1/bets/H-1/ship", token=token_b)
    listed = await call(hypobot, "GET", "/api/v1/bets", token=token_b)
    assert (read.status, added.status, shipped.status) == (404, 404, 404)
    assert (listed.status, listed.body) == (200, [])
    after = await footprint()
    assert {k: v for k, v in after.items() if k != "ApiToken"} == {
        k: v for k, v in before.items() if k != "ApiToken"
    }  # B's token notes its last use (the list), nothing else changed


# --- tokens ----------------------------------------------------------------------------------


@pytest.mark.parametrize(
    "authorization",
    [None, "", "Bearer", "Bearer ", "Basic dXNlcjpwYXNz", "Bearer hypo_not-a-token", "hypo_x"],
)
async def test_a_missing_or_bad_token_is_401_with_a_bearer_challenge(
    hypobot: Hypobot, authorization: str | None
) -> None:
    await posted_bet(hypobot, "shipped")
    await token_for(hypobot)
    headers = {} if authorization is None else {"Authorization": authorization}
    before = await footprint()
    answer = await call(
        hypobot, "POST", "/api/v1/bets/H-1/evidence", body=EVIDENCE, headers=headers
    )
    assert (answer.status, answer.body["error"]) == (401, "unauthorized")
    assert answer.headers["WWW-Authenticate"].startswith("Bearer")
    assert await footprint() == before


async def test_a_revoked_token_is_401(hypobot: Hypobot) -> None:
    await posted_bet(hypobot, "shipped")
    token = await token_for(hypobot)
    assert (await call(hypobot, "GET", "/api/v1/bets/H-1", token=token)).status == 200
    revoked = await tokens.revoke(Context(clock=hypobot.clock), "T1", name="ci")
    assert not isinstance(revoked, tokens.TokenRefused)
    answer = await call(hypobot, "GET", "/api/v1/bets/H-1", token=token)
    assert answer.status == 401
    assert 'error="invalid_token"' in answer.headers["WWW-Authenticate"]


async def test_the_api_needs_no_slack_signature_and_slack_events_still_need_one(
    hypobot: Hypobot,
) -> None:
    token = await token_for(hypobot)
    slack = await call(hypobot, "POST", "/slack/events", token=token, body={"type": "x"})
    api = await call(hypobot, "GET", "/api/v1/bets", token=token)
    assert (slack.status, api.status) == (401, 200)


async def test_tokens_command_prints_the_token_once_keeps_its_hash_lists_and_revokes(
    hypobot: Hypobot,
) -> None:
    def args(command: str, **kw: Any) -> argparse.Namespace:
        return argparse.Namespace(tokens_command=command, team="T1", **kw)

    out, err = io.StringIO(), io.StringIO()
    assert await tokens_command(args("create", name="ci"), out=out, err=err) == 0
    token = out.getvalue().strip()
    assert token.startswith("hypo_") and "\n" not in token
    [row] = await ApiToken.filter(team_id="T1")
    assert row.token_hash == hashlib.sha256(token.encode()).hexdigest()
    assert token not in json.dumps(await footprint(), default=str)
    assert (await call(hypobot, "GET", "/api/v1/bets", token=token)).status == 200

    listed = io.StringIO()
    assert await tokens_command(args("list"), out=listed, err=err) == 0
    assert "ci" in listed.getvalue() and token not in listed.getvalue()
    assert "2026-11-02 10:00 UTC" in listed.getvalue()  # created, and last used

    refused = io.StringIO()
    assert await tokens_command(args("create", name="ci"), out=out, err=refused) == 2
    assert "revoke it first" in refused.getvalue()

    done = io.StringIO()
    assert await tokens_command(args("revoke", name="ci", id=None), out=done, err=err) == 0
    assert "revoked token 'ci'" in done.getvalue()
    assert (await call(hypobot, "GET", "/api/v1/bets", token=token)).status == 401


# --- bodies ----------------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("data", "field"),
    [
        ("{not json", "body"),
        ("[1, 2]", "body"),
        ('{"verdict": "maybe", "text": "x"}', "verdict"),
        ('{"verdict": "supports"}', "text"),
        ('{"verdict": "supports", "text": 12}', "text"),
        ('{"verdict": "supports", "text": "x", "link": "javascript:alert(1)"}', "link"),
        ('{"verdict": "supports", "text": "x", "observed_at": "yesterday"}', "observed_at"),
        ('{"verdict": "supports", "text": "x", "observed_at": "2026-11-01T10:00"}', "observed_at"),
        ('{"verdict": "supports", "text": "x", "verdit": "supports"}', "verdit"),
        ('{"verdict": "supports", "text": "  "}', "text"),
        ('{"verdict": "supports", "text": "a\\u0000b"}', "text"),
        (b'{"verdict": "supports", "text": "\xff"}', "body"),
    ],
)
async def test_an_invalid_body_is_422_naming_the_field_and_writes_nothing(
    hypobot: Hypobot, data: str | bytes, field: str
) -> None:
    await posted_bet(hypobot, "shipped")
    token = await token_for(hypobot)
    before = await footprint()
    answer = await call(
        hypobot,
        "POST",
        "/api/v1/bets/H-1/evidence",
        token=token,
        data=data,
        headers={"Content-Type": "application/json", "Idempotency-Key": "k"},
    )
    assert (answer.status, answer.body["field"]) == (422, field), answer.text
    assert answer.body["message"].startswith(f"{field}: ")
    assert await footprint() == before


async def test_a_body_over_64_kb_is_413_and_writes_nothing(hypobot: Hypobot) -> None:
    await posted_bet(hypobot, "shipped")
    token = await token_for(hypobot)
    before = await footprint()
    big = json.dumps(EVIDENCE | {"text": "x" * (64 * 1024)})
    answer = await call(
        hypobot, "POST", "/api/v1/bets/H-1/evidence", token=token, data=big.encode()
    )
    assert (answer.status, answer.body["error"]) == (413, "too_large")
    assert await footprint() == before


async def test_a_body_of_64_kb_is_read_not_refused_as_too_large(hypobot: Hypobot) -> None:
    await posted_bet(hypobot, "shipped")
    token = await token_for(hypobot)
    data = json.dumps(EVIDENCE).encode()
    data += b" " * (64 * 1024 - len(data))
    answer = await call(hypobot, "POST", "/api/v1/bets/H-1/evidence", token=token, data=data)
    assert answer.status == 201


# --- rate limit ------------------------------------------------------------------------------


async def test_over_the_tokens_rate_limit_is_429_with_retry_after(
    database: str, fake_slack: FakeSlack, clock: Clock
) -> None:
    async with served(
        database, fake_slack, clock, hypobot_api_rate=0.001, hypobot_api_burst=3
    ) as limited:
        token = await token_for(limited)
        other = await token_for(limited, name="other")
        answers = [await call(limited, "GET", "/api/v1/bets", token=token) for _ in range(4)]
        assert [a.status for a in answers] == [200, 200, 200, 429]
        assert int(answers[-1].headers["Retry-After"]) >= 1
        assert answers[-1].body["error"] == "rate_limited"
        assert (await call(limited, "GET", "/api/v1/bets", token=other)).status == 200


# --- the OpenAPI document ---------------------------------------------------------------------

MODELS = {
    "NewEvidenceBody": bodies.NewEvidenceBody,
    "ShipBody": bodies.ShipBody,
    "EvidenceRecorded": bodies.EvidenceRecorded,
    "BetWithForecast": bodies.BetWithForecast,
    "Problem": bodies.Problem,
    "Flow": Flow,
}


def refs(node: Any) -> list[str]:
    if isinstance(node, dict):
        found = [node["$ref"]] if isinstance(node.get("$ref"), str) else []
        return found + [ref for value in node.values() for ref in refs(value)]
    if isinstance(node, list):
        return [ref for value in node for ref in refs(value)]
    return []


async def test_the_openapi_document_is_served_without_a_token_with_paths_and_schemas(
    hypobot: Hypobot,
) -> None:
    answer = await call(hypobot, "GET", "/api/v1/openapi.json")
    assert answer.status == 200
    doc = answer.body
    assert doc["openapi"].startswith("3.1")
    assert set(doc["paths"]) >= {
        "/api/v1/bets/{key}/evidence",
        "/api/v1/bets/{key}/ship",
        "/api/v1/bets/{key}",
        "/api/v1/bets",
    }
    schemas = doc["components"]["schemas"]
    assert set(MODELS) <= set(schemas)
    assert doc["components"]["securitySchemes"]["bearer"] == {
        "type": "http",
        "scheme": "bearer",
        "description": "A token from `hypobot tokens create` (hypo_…)",
    }
    assert all(ref.removeprefix("#/components/schemas/") in schemas for ref in refs(doc))
    evidence = doc["paths"]["/api/v1/bets/{key}/evidence"]["post"]
    assert set(evidence["responses"]) >= {"200", "201", "401", "404", "409", "413", "422", "429"}


async def test_the_openapi_documents_examples_are_valid_for_the_models(hypobot: Hypobot) -> None:
    schemas = document()["components"]["schemas"]
    for name, model in MODELS.items():
        examples = schemas[name].get("examples", [])
        assert examples, name
        for example in examples:
            model.model_validate_json(json.dumps(example))


async def test_the_documents_evidence_example_is_accepted_by_the_api(hypobot: Hypobot) -> None:
    await posted_bet(hypobot, "shipped")
    token = await token_for(hypobot)
    [example] = document()["components"]["schemas"]["NewEvidenceBody"]["examples"]
    hypobot.clock.now = datetime.fromisoformat(example["observed_at"]) + timedelta(hours=1)
    answer = await call(hypobot, "POST", "/api/v1/bets/H-1/evidence", token=token, body=example)
    assert answer.status == 201, answer.text
    bodies.EvidenceRecorded.model_validate(answer.body)


async def test_the_openapi_document_lists_every_operations_parameters_415_and_422(
    hypobot: Hypobot,
) -> None:
    """What the API refuses is in the document: an operation takes the parameters it lists
    (any other is 422), and a body that is not JSON is 415."""
    paths = document()["paths"]
    listed = {
        (method, path): {p["name"] for p in operation["parameters"] if p["in"] == "query"}
        for path, operations in paths.items()
        for method, operation in operations.items()
    }
    assert listed == {
        ("post", "/api/v1/bets/{key}/evidence"): set(),
        ("post", "/api/v1/bets/{key}/ship"): set(),
        ("get", "/api/v1/bets/{key}"): set(),
        ("get", "/api/v1/bets"): {"state", "limit"},
        ("get", "/api/v1/flow"): {"channel", "window"},
        ("get", "/api/v1/openapi.json"): set(),
    }
    for operations in paths.values():
        for method, operation in operations.items():
            assert "422" in operation["responses"]
            if method == "post":
                assert operation["requestBody"]["content"].keys() == {"application/json"}
                assert "Accept-Post" in operation["responses"]["415"]["headers"]
    token = await token_for(hypobot)
    for method, path in listed:
        concrete = path.replace("{key}", "H-1")
        answer = await call(hypobot, method.upper(), f"{concrete}?unlisted=1", token=token)
        assert (answer.status, answer.body["field"]) == (422, "unlisted"), path


# --- generated bodies and headers ------------------------------------------------------------

SERVED = settings(
    deadline=None,
    database=None,
    max_examples=60,
    suppress_health_check=[HealthCheck.function_scoped_fixture, HealthCheck.too_slow],
)
json_values = st.recursive(
    st.none() | st.booleans() | st.integers() | st.floats(allow_nan=False) | st.text(max_size=20),
    lambda inner: (
        st.lists(inner, max_size=3) | st.dictionaries(st.text(max_size=8), inner, max_size=3)
    ),
    max_leaves=8,
)
FIELD_VALUES = {
    "verdict": st.sampled_from(("supports", "refutes", "inconclusive", "unknown", "")),
    "text": st.text(max_size=40),
    "link": st.sampled_from(("https://x.example/a", "http://", "ftp://x", ""))
    | st.text(max_size=10),
    "observed_at": st.sampled_from(
        (
            "2026-11-01T09:00:00Z",
            "2026-11-02T10:00:00+00:00",
            "2026-12-01T00:00:00Z",
            "0001-01-01T00:00:00+14:00",
            "9999-12-31T23:59:59-14:00",
            "2026-11-01T09:00:00",
            "2026-11-01",
        )
    ),
    "source": st.text(max_size=70),
}
evidence_bodies = st.fixed_dictionaries(
    {},
    optional={name: values | json_values for name, values in FIELD_VALUES.items()},
).flatmap(
    lambda body: st.one_of(
        st.just(json.dumps(body)),
        st.just(json.dumps(body)[:-1]),
        st.dictionaries(st.text(max_size=6), json_values, max_size=2).map(
            lambda extra: json.dumps(body | extra)
        ),
    )
) | st.binary(max_size=60).map(lambda raw: raw.decode("latin-1"))
header_text = st.text(
    alphabet=st.characters(min_codepoint=0x20, max_codepoint=0xFF, exclude_characters="\x7f"),
    max_size=40,
)
ROUTES = (
    ("POST", "/api/v1/bets/{key}/evidence"),
    ("POST", "/api/v1/bets/{key}/ship"),
    ("GET", "/api/v1/bets/{key}"),
    ("GET", "/api/v1/bets?state={key}"),
    ("GET", "/api/v1/bets?limit={key}"),
    ("DELETE", "/api/v1/bets/{key}"),
)
KEYS = st.sampled_from(("H-1", "H-2", "h2", "3", "H-99", "0", "x", "shipped", "-1", "%00"))


@pytest.fixture
async def roomy(database: str, fake_slack: FakeSlack, clock: Clock) -> AsyncIterator[Hypobot]:
    """The served app with its rate limit out of the way, H-1 shipped, H-2 proposed, H-3
    killed, a live token and a revoked one (made once for all of a property test's examples)."""
    async with served(
        database, fake_slack, clock, hypobot_api_rate=1e9, hypobot_api_burst=10**9
    ) as app:
        await posted_bet(app, "shipped")
        for text in (*("new We believe b for c will d. We'll know when e",) * 2, "kill H-3 x"):
            await app.command(text)
        await settle(app)
        good = await token_for(app)
        old = await token_for(app, name="old")
        await tokens.revoke(Context(clock=clock), "T1", name="old")
        app.tokens = {"good": f"Bearer {good}", "revoked": f"Bearer {old}"}  # type: ignore[attr-defined]
        yield app


@SERVED
@given(
    route=st.sampled_from(ROUTES),
    key=KEYS,
    body=evidence_bodies,
    authorization=st.sampled_from(("good", "revoked", "none")) | header_text,
    idempotency_key=st.none() | st.sampled_from(("k1", "k2")) | header_text,
    content_type=st.sampled_from(
        ("application/json", "text/plain", "application/x-www-form-urlencoded")
    ),
)
async def test_generated_calls_never_crash_and_refusals_write_nothing(
    roomy: Hypobot,
    route: tuple[str, str],
    key: str,
    body: str,
    authorization: str,
    idempotency_key: str | None,
    content_type: str,
) -> None:
    headers = {"Content-Type": content_type}
    if authorization != "none":
        headers["Authorization"] = roomy.tokens.get(authorization, authorization)  # type: ignore[attr-defined]
    if idempotency_key is not None:
        headers["Idempotency-Key"] = idempotency_key
    method, path = route
    before = await footprint()
    answer = await call(
        roomy,
        method,
        path.format(key=key),
        data=body.encode("utf-8", "surrogatepass") if method == "POST" else None,
        headers=headers,
    )
    assert answer.status < 500, (answer.status, answer.text[:500])
    assert "Traceback" not in answer.text and 'File "' not in answer.text
    assert isinstance(answer.body, dict | list), answer.text[:200]
    if answer.status >= 400:
        assert await footprint() == before, (answer.status, answer.text[:300])
