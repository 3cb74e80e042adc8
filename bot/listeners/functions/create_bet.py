"""The "Create a bet" step: a workflow creates a bet in a channel of the workspace it runs
in, through the same use case as `/hypothesis new`; its card is posted in that channel.

The owner is the bet's creator too: a workflow has no person of its own. The inputs are
read as `/hypothesis new` and the New bet form read theirs (`bets.hypothesis.read_bet`):
"We'll know when …" in the hypothesis is its signal when the step's signal input is empty,
and "within N" closing the signal is when it should show.
"""

from __future__ import annotations

import re
from collections.abc import Awaitable, Callable
from typing import Any

from slack_bolt.context.async_context import AsyncBoltContext

from bets.hypothesis import MAX_TEXT, read_bet
from bets.keys import format_key
from bot import grammar
from bot.answers import BetDraft
from bot.listeners.functions import steps
from bot.listeners.functions.steps import Executions
from bot.listeners.views.common import typed_text
from bot.runtime import Runtime
from usecases import bets as usecase
from usecases.context import Actor
from usecases.results import Refused

STEP = steps.CREATE_BET
_CHANNEL = re.compile(r"[CG][A-Z0-9]+")


def _read(inputs: dict[str, Any]) -> BetDraft | str:
    """The bet to create, or what the workflow author must fix."""
    hypothesis = typed_text(steps.text_input(inputs, "hypothesis"))
    signal = typed_text(steps.text_input(inputs, "signal"))
    if not hypothesis:
        return steps.NEEDS_HYPOTHESIS
    if len(hypothesis) > MAX_TEXT:
        return steps.too_long("Hypothesis", MAX_TEXT)
    if len(signal) > MAX_TEXT:
        return steps.too_long("Signal", MAX_TEXT)
    owner = grammar.parse_user(steps.text_input(inputs, "owner"))
    if owner is None:
        return "Pick the bet's owner (a person) in the step's “Owner” input."
    channel = steps.text_input(inputs, "channel")
    if not _CHANNEL.fullmatch(channel):
        return "Pick the channel the bet belongs to in the step's “Channel” input."
    line = read_bet(hypothesis, signal)
    return BetDraft(
        channel_id=channel,
        title=line.title,
        hypothesis=line.hypothesis,
        signal=line.signal,
        owner_id=owner,
        expect_within=line.expect_within,
    )


def create_bet(runtime: Runtime, executions: Executions) -> Callable[..., Awaitable[None]]:
    context_of = runtime.answers.context

    async def act(draft: BetDraft, context: AsyncBoltContext) -> steps.Outputs | Refused:
        actor = Actor(str(context.team_id), str(draft.owner_id), draft.channel_id)
        execution = context.function_execution_id
        result = await usecase.create(context_of, actor, draft, once=execution)
        if isinstance(result, Refused):
            return result
        return {"key": format_key(result.bet.number)}

    return steps.step_listener(STEP, runtime, executions, _read, act)
