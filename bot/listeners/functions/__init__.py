"""Workflow Builder steps (Bolt custom functions, declared under `functions` in manifest.yml):
"Record evidence on a bet" and "Create a bet". Each calls the same use case as the slash
command, and ends the step with its outputs, or with an error a workflow author can act on."""

from __future__ import annotations

from slack_bolt.async_app import AsyncApp

from bot.listeners.functions.create_bet import create_bet
from bot.listeners.functions.record_evidence import record_evidence
from bot.listeners.functions.steps import CREATE_BET, RECORD_EVIDENCE, Executions
from bot.runtime import Runtime


def register(app: AsyncApp, runtime: Runtime) -> None:
    executions = Executions()
    app.function(RECORD_EVIDENCE)(record_evidence(runtime, executions))
    app.function(CREATE_BET)(create_bet(runtime, executions))
