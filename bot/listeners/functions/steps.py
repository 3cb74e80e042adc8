"""What both workflow steps share: their callback ids, reading what a workflow passed in,
ending the step once, and the words a workflow author reads when a step fails.

Workflow Builder shows a failed step's message as plain text in the workflow's activity,
to whoever built the workflow: so no mrkdwn, no slash-command syntax, and the fix named.
"""

from __future__ import annotations

import logging
from collections import OrderedDict
from collections.abc import Awaitable, Callable
from typing import Any, TypeVar

import aiohttp
from slack_bolt.context.async_context import AsyncBoltContext
from slack_bolt.context.complete.async_complete import AsyncComplete
from slack_bolt.context.fail.async_fail import AsyncFail
from slack_sdk.errors import SlackApiError

from bets.keys import format_key
from bot.listeners.safety import failure_text
from bot.runtime import Runtime
from usecases.results import Refused, Why

log = logging.getLogger("hypobot.steps")

# Callback ids of manifest.yml's `functions`.
RECORD_EVIDENCE = "record_bet_evidence"
CREATE_BET = "create_bet"
REMEMBERED = 1000  # executions this process remembers, for Slack's retried deliveries


class Executions:
    """Step executions this process has started: a delivery Slack retries while (or after)
    the first one runs here is not run twice. Across replicas, evidence is kept once by its
    execution id (see record_evidence)."""

    def __init__(self) -> None:
        self._seen: OrderedDict[str, None] = OrderedDict()

    def first(self, execution_id: str) -> bool:
        if execution_id in self._seen:
            return False
        self._seen[execution_id] = None
        while len(self._seen) > REMEMBERED:
            self._seen.popitem(last=False)
        return True


Read = TypeVar("Read")
Outputs = dict[str, Any]


def step_listener(
    step: str,
    runtime: Runtime,
    executions: Executions,
    read: Callable[[dict[str, Any]], Read | str],
    act: Callable[[Read, AsyncBoltContext], Awaitable[Outputs | Refused]],
) -> Callable[..., Awaitable[None]]:
    """A step's listener: read the inputs (or fail saying what to fix), run the use case
    (`act`), and end the step with its outputs or with why nothing was done."""

    async def handle(
        inputs: dict[str, Any],
        complete: AsyncComplete,
        fail: AsyncFail,
        context: AsyncBoltContext,
    ) -> None:
        if not executions.first(str(context.function_execution_id)):
            return  # Slack retried a delivery this process is handling (or handled)
        given = read(inputs or {})
        if isinstance(given, str):
            await fail_with(fail, given, step=step, why="bad_input")
            return
        try:
            outputs = await act(given, context)
        except Exception as error:
            await _end(fail, failure_text(error, where=step), step=step, outcome="failed")
            return
        if isinstance(outputs, Refused):
            await fail_with(fail, refusal(outputs), step=step, why=outputs.why)
            return
        await _end(complete, outputs, step=step, outcome="completed")

    return handle


def text_input(inputs: dict[str, Any] | None, name: str) -> str:
    """An input as text ("" when the workflow left it empty)."""
    value = (inputs or {}).get(name)
    if value is None or isinstance(value, (dict, list)):
        return ""
    return str(value).strip()


async def fail_with(fail: AsyncFail, message: str, *, step: str, why: str) -> None:
    """End the step with `message`; `why` goes to the log (never the inputs)."""
    log.info("step.refused", extra={"step": step, "why": why})
    await _end(fail, message, step=step, outcome="failed")


async def _end(end: Any, value: Any, *, step: str, outcome: str) -> None:
    """Tell Slack how the step ended. Slack refuses a second ending of the same execution
    (a retried delivery that finished after the first): nothing more to do then."""
    try:
        await end(value)
    except (SlackApiError, aiohttp.ClientError, OSError, TimeoutError) as error:
        code = error.response.get("error") if isinstance(error, SlackApiError) else None
        log.warning(
            "step.end_failed",
            extra={"step": step, "outcome": outcome, "error": code or type(error).__name__},
        )
        return
    log.info("step.ended", extra={"step": step, "outcome": outcome})


def refusal(refused: Refused) -> str:
    """A use case's refusal, in a workflow author's words."""
    key = format_key(refused.number) if refused.number is not None else "That bet"
    match refused.why:
        case Why.NO_SUCH_BET:
            return (
                f"There is no {key} in this workspace. Check the bet key the workflow passes "
                "(e.g. H-12); /hypothesis list all shows every bet."
            )
        case Why.CLOSED:
            return (
                f"{key} is already {refused.state}: a closed bet takes no more evidence. "
                "Point the step at an open bet."
            )
        case Why.EMPTY_EVIDENCE:
            return NEEDS_TEXT_OR_LINK
        case Why.BAD_WHEN:
            return f"“{refused.quoted}” is not a duration such as 10d or a date in the future."
        case Why.NO_HYPOTHESIS:
            return HALF_A_HYPOTHESIS
    return "Hypobot could not do that, so nothing was changed."


NEEDS_KEY = "Give the bet's key in the step's “Bet key” input, e.g. H-12."
NEEDS_TEXT_OR_LINK = (
    "Evidence needs words or a link: fill in the step's “What was seen” or “Link” input."
)
NEEDS_HYPOTHESIS = (
    "Give the hypothesis in the step's “Hypothesis” input: "
    "“We believe <change> for <whom> will <outcome>”."
)
HALF_A_HYPOTHESIS = (
    "The step's “Hypothesis” input needs at least a change and the outcome expected of it: "
    "“We believe <change> for <whom> will <outcome>”. Nothing was created."
)
BAD_LINK = "The link must be a web address starting with https:// (at most 2,000 characters)."


def bad_key(typed: str) -> str:
    return f"“{typed}” is not a bet key. Use a key such as H-12 in the step's “Bet key” input."


def bad_verdict(typed: str) -> str:
    return (
        f"“{typed}” is not a verdict Hypobot knows. Use supports, refutes or inconclusive "
        "in the step's “Verdict” input."
    )


def too_long(name: str, limit: int) -> str:
    return f"The step's “{name}” input is too long: keep it under {limit:,} characters."
