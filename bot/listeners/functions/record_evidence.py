"""The "Record evidence on a bet" step: a workflow records evidence on a bet of the
workspace it runs in, through the same use case as `/hypothesis evidence`, and the bet's
thread says where the evidence came from.

A step's execution is evidence once: its execution id is the evidence's dedupe key (as a
Slack message's (channel, ts) is), so a delivery Slack retries on another replica records
nothing new and ends the step with the evidence already recorded.
"""

from __future__ import annotations

from collections.abc import Awaitable, Callable
from typing import Any

from slack_bolt.context.async_context import AsyncBoltContext

from bets.evidence import Verdict
from bets.hypothesis import MAX_TEXT
from bets.keys import parse_key
from bot.blocks.from_elsewhere import evidence_message
from bot.listeners.functions import steps
from bot.listeners.functions.steps import Executions
from bot.listeners.views.common import link_error, typed_text
from bot.runtime import Runtime
from usecases import bets as usecase
from usecases.bets import EvidenceAdded, NewEvidence
from usecases.context import Actor
from usecases.results import Refused, Why

STEP = steps.RECORD_EVIDENCE
SOURCE = "workflow"  # the evidence's source, as "command", "thread", "api"…
SHOWN_AS = "Workflow Builder"  # "📎 from Workflow Builder" in the bet's thread
# (channel_id, message_ts) of a step's evidence: no Slack message, the step's execution id.
STEP_RUNS = "workflow-step"
VERDICTS = {
    "supports": Verdict.SUPPORTS,
    "support": Verdict.SUPPORTS,
    "+": Verdict.SUPPORTS,
    "refutes": Verdict.REFUTES,
    "refute": Verdict.REFUTES,
    "-": Verdict.REFUTES,
    "inconclusive": Verdict.INCONCLUSIVE,
    "?": Verdict.INCONCLUSIVE,
}


def _read(inputs: dict[str, Any]) -> tuple[int, Verdict, str, str | None] | str:
    """(bet number, verdict, text, link), or what the workflow author must fix."""
    typed_key = steps.text_input(inputs, "bet")
    if not typed_key:
        return steps.NEEDS_KEY
    number = parse_key(typed_key)
    if number is None:
        return steps.bad_key(typed_key[:80])
    typed_verdict = steps.text_input(inputs, "verdict")
    verdict = VERDICTS.get(typed_verdict.lower())
    if verdict is None:
        return steps.bad_verdict(typed_verdict[:80])
    text = typed_text(steps.text_input(inputs, "text"))
    link = steps.text_input(inputs, "link") or None
    if not text and not link:
        return steps.NEEDS_TEXT_OR_LINK
    if len(text) > MAX_TEXT:
        return steps.too_long("What was seen", MAX_TEXT)
    if link_error(link):
        return steps.BAD_LINK
    return number, verdict, text, link


def record_evidence(runtime: Runtime, executions: Executions) -> Callable[..., Awaitable[None]]:
    context_of = runtime.answers.context

    async def act(
        given: tuple[int, Verdict, str, str | None], context: AsyncBoltContext
    ) -> steps.Outputs | Refused:
        number, verdict, text, link = given
        execution_id = str(context.function_execution_id)
        actor = Actor(str(context.team_id), context.bot_user_id or SOURCE)
        new = NewEvidence(
            verdict,
            text,
            source=SOURCE,
            link=link,
            channel_id=STEP_RUNS,
            message_ts=execution_id,
            source_name=SHOWN_AS,
        )
        result = await usecase.add_evidence(
            context_of,
            actor,
            new,
            number=number,
            announce=lambda bet, evidence: evidence_message(bet, evidence, SHOWN_AS),
        )
        if isinstance(result, Refused) and result.why is Why.ALREADY_EVIDENCE:
            result = await _recorded_before(runtime, actor, result, execution_id)
        if isinstance(result, Refused):
            return result
        return {"evidence_id": result.evidence.id, "state": str(result.bet.state)}

    return steps.step_listener(STEP, runtime, executions, _read, act)


async def _recorded_before(
    runtime: Runtime, actor: Actor, refused: Refused, execution_id: str
) -> EvidenceAdded | Refused:
    """The evidence an earlier delivery of this execution recorded (on another replica)."""
    if refused.other_number is None:
        return refused
    shown = await usecase.show(runtime.answers.context, actor, refused.other_number)
    if isinstance(shown, Refused):
        return shown
    for evidence in shown.evidence:
        if evidence.channel_id == STEP_RUNS and evidence.message_ts == execution_id:
            return EvidenceAdded(shown.bet, evidence)
    return refused
