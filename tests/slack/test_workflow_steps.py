"""Workflow Builder steps end to end: signed `function_executed` events to the served app,
the step ended through the fake Slack's functions.completeSuccess / completeError, on both
databases; and the manifest that declares them."""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

import aiohttp
import pytest
import yaml
from jsonschema import validate

from bot.listeners.functions.steps import CREATE_BET, RECORD_EVIDENCE
from console.fakeslack import serve_on_loopback
from ops.logs import Redactor
from server.process import assemble
from storage.models import Bet, Evidence
from testkit.signing import SlackClient
from tests.conftest import Hypobot, hypobot_settings
from tests.flows import posted_bet, row_counts, said, settle
from tests.slack.slack_reference import MANIFEST_SCHEMA

ROOT = Path(__file__).resolve().parents[2]
MANIFEST = ROOT / "manifest.yml"
SCHEMA = MANIFEST_SCHEMA
STEP_TOKEN = "xwfp-fake-step-token"
EVIDENCE = {
    "bet": "H-1",
    "verdict": "supports",
    "text": "Checkout conversion up 4% in the experiment",
    "link": "https://experiments.test/run/42",
}
NEW_BET = {
    "hypothesis": "We believe saved carts for returning buyers will raise repeat orders",
    "signal": "repeat orders rise 10% within 2w",
    "owner": "UOWNER",
    "channel": "C5",
}


async def run_step(
    hypobot: Hypobot, callback_id: str, inputs: dict[str, Any], **kw: Any
) -> tuple[str, Any]:
    """Run a step as a workflow would; returns how it ended: ("success", outputs) or
    ("error", message)."""
    execution_id = kw.setdefault("execution_id", f"Fx{len(hypobot.fake.completed_steps) + 1:08d}")
    status, body = await hypobot.slack.step(callback_id, inputs, **kw)
    assert status == 200, body
    await settle(hypobot)
    return hypobot.fake.completed_steps[execution_id]


# --- the manifest ------------------------------------------------------------------------------


def test_manifest_declares_both_steps_with_the_settings_custom_steps_need() -> None:
    manifest = yaml.safe_load(MANIFEST.read_text())

    functions = manifest["functions"]
    assert set(functions) == {RECORD_EVIDENCE, CREATE_BET}
    evidence = functions[RECORD_EVIDENCE]
    assert evidence["title"] == "Record evidence on a bet"
    assert set(evidence["input_parameters"]) == {"bet", "verdict", "text", "link"}
    assert set(evidence["output_parameters"]) == {"evidence_id", "state"}
    create = functions[CREATE_BET]
    assert create["title"] == "Create a bet"
    assert set(create["input_parameters"]) == {"hypothesis", "signal", "owner", "channel"}
    assert create["input_parameters"]["owner"]["type"] == "slack#/types/user_id"
    assert create["input_parameters"]["channel"]["type"] == "slack#/types/channel_id"
    assert set(create["output_parameters"]) == {"key"}
    settings = manifest["settings"]
    assert settings["org_deploy_enabled"] is True
    assert settings["function_runtime"] == "remote"
    assert "function_executed" in settings["event_subscriptions"]["bot_events"]


def test_manifest_follows_slacks_manifest_schema() -> None:
    validate(yaml.safe_load(MANIFEST.read_text()), json.loads(SCHEMA.read_text()))


# --- Record evidence on a bet ------------------------------------------------------------------


async def test_recording_evidence_ends_the_step_with_its_id_and_the_bets_state(
    hypobot: Hypobot,
) -> None:
    bet = await posted_bet(hypobot, "shipped")

    outcome = await run_step(hypobot, RECORD_EVIDENCE, EVIDENCE)

    [evidence] = await Evidence.filter(team_id="T1", bet_id=bet.id)
    assert outcome == ("success", {"evidence_id": evidence.id, "state": "shipped"})
    assert (evidence.verdict, evidence.source, evidence.link) == (
        "supports",
        "workflow",
        "https://experiments.test/run/42",
    )
    assert evidence.text == EVIDENCE["text"]
    [completed] = hypobot.fake.calls_to("functions.completeSuccess")
    assert completed.token == STEP_TOKEN  # the step's own just-in-time token
    assert (await Bet.get(id=bet.id)).first_feedback_at is not None  # decisive: TTF ends


async def test_recorded_evidence_is_posted_in_the_bets_thread(hypobot: Hypobot) -> None:
    bet = await posted_bet(hypobot, "shipped")

    await run_step(hypobot, RECORD_EVIDENCE, EVIDENCE)

    in_thread = [
        call for call in hypobot.fake.calls_to("chat.postMessage") if call.thread_ts == bet.card_ts
    ]
    assert any("📎 from" in said(call) and "Workflow Builder" in said(call) for call in in_thread)


async def test_verdicts_read_as_typed_in_a_form(hypobot: Hypobot) -> None:
    await posted_bet(hypobot, "shipped")

    outcome = await run_step(hypobot, RECORD_EVIDENCE, {**EVIDENCE, "verdict": " Refutes "})

    assert outcome[0] == "success"
    assert await Evidence.filter(team_id="T1").values_list("verdict", flat=True) == ["refutes"]


@pytest.mark.parametrize(
    ("inputs", "message"),
    [
        ({"bet": "H-9"}, "There is no H-9 in this workspace."),
        ({"bet": ""}, "Give the bet's key in the step's “Bet key” input, e.g. H-12."),
        ({"bet": "the export one"}, "“the export one” is not a bet key."),
        ({"verdict": "maybe"}, "“maybe” is not a verdict Hypobot knows."),
        ({"text": "", "link": ""}, "Evidence needs words or a link"),
        ({"link": "ftp://files.test/x"}, "The link must be a web address starting with https://"),
        ({"text": "x" * 3001}, "“What was seen” input is too long"),
    ],
)
async def test_bad_evidence_input_fails_the_step_and_writes_nothing(
    hypobot: Hypobot, inputs: dict[str, str], message: str
) -> None:
    await posted_bet(hypobot, "shipped")
    before = await row_counts()

    outcome = await run_step(hypobot, RECORD_EVIDENCE, {**EVIDENCE, **inputs})

    assert outcome[0] == "error"
    assert message in outcome[1]
    assert await row_counts() == before
    assert hypobot.fake.calls_to("functions.completeSuccess") == []


async def test_evidence_on_a_closed_bet_fails_the_step_saying_so(hypobot: Hypobot) -> None:
    await posted_bet(hypobot, "validated")
    before = await row_counts()

    outcome = await run_step(hypobot, RECORD_EVIDENCE, EVIDENCE)

    assert outcome == (
        "error",
        "H-1 is already validated: a closed bet takes no more evidence. "
        "Point the step at an open bet.",
    )
    assert await row_counts() == before


async def test_a_key_of_another_workspace_is_not_found(hypobot: Hypobot) -> None:
    await posted_bet(hypobot, "shipped", team_id="T2")

    outcome = await run_step(hypobot, RECORD_EVIDENCE, EVIDENCE, team_id="T1")

    assert outcome[0] == "error"
    assert outcome[1].startswith("There is no H-1 in this workspace.")
    assert not await Evidence.exists()


async def test_a_retried_delivery_records_the_evidence_once(hypobot: Hypobot) -> None:
    await posted_bet(hypobot, "shipped")
    await run_step(hypobot, RECORD_EVIDENCE, EVIDENCE, execution_id="FxRETRIED")

    status, _ = await hypobot.slack.step(
        RECORD_EVIDENCE, EVIDENCE, execution_id="FxRETRIED", retry_num=1
    )
    await settle(hypobot)

    assert status == 200
    assert await Evidence.filter(team_id="T1").count() == 1
    assert len(hypobot.fake.calls_to("functions.completeSuccess")) == 1


async def test_a_delivery_retried_to_another_replica_records_the_evidence_once(
    hypobot: Hypobot,
) -> None:
    await posted_bet(hypobot, "shipped")
    await run_step(hypobot, RECORD_EVIDENCE, EVIDENCE, execution_id="FxRETRIED")
    [evidence] = await Evidence.filter(team_id="T1")
    other_process = assemble(hypobot_settings(hypobot.fake, hypobot.database), clock=hypobot.clock)
    other = other_process.runtime
    async with (
        serve_on_loopback(other_process.web_app()) as url,
        aiohttp.ClientSession() as session,
    ):
        status, _ = await SlackClient(url, session).step(
            RECORD_EVIDENCE, EVIDENCE, execution_id="FxRETRIED", retry_num=1
        )
        await settle(hypobot)
        await other.sender.drain()
        await other.close()

    assert status == 200
    assert await Evidence.filter(team_id="T1").count() == 1
    # The second replica ends the step with the same outputs (Slack keeps the first ending).
    outputs = {"evidence_id": evidence.id, "state": "shipped"}
    calls = hypobot.fake.calls_to("functions.completeSuccess")
    assert [json.loads(c.params["outputs"]) for c in calls] == [outputs, outputs]
    assert hypobot.fake.completed_steps["FxRETRIED"] == ("success", outputs)
    assert hypobot.fake.calls_to("functions.completeError") == []


# --- Create a bet ------------------------------------------------------------------------------


async def test_creating_a_bet_ends_the_step_with_its_key_and_posts_its_card(
    hypobot: Hypobot,
) -> None:
    outcome = await run_step(hypobot, CREATE_BET, NEW_BET)

    assert outcome == ("success", {"key": "H-1"})
    bet = await Bet.get(team_id="T1", number=1)
    assert (bet.channel_id, bet.owner_id, bet.creator_id, bet.state) == (
        "C5",
        "UOWNER",
        "UOWNER",
        "proposed",
    )
    assert bet.hypothesis == NEW_BET["hypothesis"]
    # "within 2w" is read as the one-liner and the New bet form read it (T1)
    assert (bet.signal, bet.expect_within_s) == ("repeat orders rise 10%", 14 * 86400)
    assert bet.card_ts is not None
    assert {call.channel for call in hypobot.fake.calls_to("chat.postMessage")} == {"C5"}
    assert not hypobot.fake.block_errors


async def test_a_hypothesis_with_its_signal_in_one_line_is_split(hypobot: Hypobot) -> None:
    line = (
        "We believe saved carts for returning buyers will raise repeat orders. "
        "We'll know when repeat orders rise 10% within 14 days"
    )

    outcome = await run_step(hypobot, CREATE_BET, {**NEW_BET, "hypothesis": line, "signal": ""})

    assert outcome[0] == "success"
    bet = await Bet.get(team_id="T1", number=1)
    assert bet.signal.startswith("repeat orders rise 10%")
    assert "know when" not in bet.hypothesis
    assert bet.expect_within_s == 14 * 86400


@pytest.mark.parametrize(
    ("inputs", "message"),
    [
        ({"hypothesis": "  "}, "Give the hypothesis in the step's “Hypothesis” input"),
        ({"owner": "someone"}, "Pick the bet's owner (a person)"),
        ({"channel": "#general"}, "Pick the channel the bet belongs to"),
        ({"hypothesis": "We believe " + "x" * 3000}, "“Hypothesis” input is too long"),
        ({"hypothesis": "We believe"}, "needs at least a change and the outcome"),
        ({"hypothesis": "We believe saved carts"}, "needs at least a change and the outcome"),
    ],
    ids=["blank", "owner", "channel", "too-long", "no-change-no-outcome", "no-outcome"],
)
async def test_bad_bet_input_fails_the_step_and_creates_nothing(
    hypobot: Hypobot, inputs: dict[str, str], message: str
) -> None:
    outcome = await run_step(hypobot, CREATE_BET, {**NEW_BET, **inputs})

    assert outcome[0] == "error"
    assert message in outcome[1]
    assert await row_counts() == (0, 0, 0, 0)


async def test_a_retried_create_delivery_creates_one_bet(hypobot: Hypobot) -> None:
    await run_step(hypobot, CREATE_BET, NEW_BET, execution_id="FxCREATE")

    await hypobot.slack.step(CREATE_BET, NEW_BET, execution_id="FxCREATE", retry_num=1)
    await settle(hypobot)

    assert await Bet.filter(team_id="T1").count() == 1


async def test_a_create_delivery_retried_to_another_replica_creates_one_bet(
    hypobot: Hypobot,
) -> None:
    await run_step(hypobot, CREATE_BET, NEW_BET, execution_id="FxCREATE2")
    other_process = assemble(hypobot_settings(hypobot.fake, hypobot.database), clock=hypobot.clock)
    other = other_process.runtime
    async with (
        serve_on_loopback(other_process.web_app()) as url,
        aiohttp.ClientSession() as session,
    ):
        status, _ = await SlackClient(url, session).step(
            CREATE_BET, NEW_BET, execution_id="FxCREATE2", retry_num=1
        )
        await settle(hypobot)
        await other.sender.drain()
        await other.close()

    assert status == 200
    assert await Bet.filter(team_id="T1").count() == 1
    # the second replica answers with the bet the first one created
    calls = hypobot.fake.calls_to("functions.completeSuccess")
    assert [json.loads(c.params["outputs"]) for c in calls] == [{"key": "H-1"}, {"key": "H-1"}]


async def test_bets_created_by_steps_are_numbered_per_workspace(hypobot: Hypobot) -> None:
    await posted_bet(hypobot, team_id="T2")

    outcome = await run_step(hypobot, CREATE_BET, NEW_BET, team_id="T2")

    assert outcome == ("success", {"key": "H-2"})
    assert not await Bet.filter(team_id="T1").exists()


def test_a_steps_token_is_scrubbed_from_every_log_line() -> None:
    line = f"calling functions.completeSuccess with {STEP_TOKEN}-1234-abcd"

    assert Redactor().scrub(line) == "calling functions.completeSuccess with [redacted]"
