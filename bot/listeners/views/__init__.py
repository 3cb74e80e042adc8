"""Modal submissions: the New bet form, evidence, and closing a bet."""

from __future__ import annotations

from slack_bolt.async_app import AsyncApp

from bot.blocks import ids
from bot.listeners.views.close import close_submission
from bot.listeners.views.evidence import evidence_submission
from bot.listeners.views.new_bet import new_bet_submission
from bot.runtime import Runtime


def register(app: AsyncApp, runtime: Runtime) -> None:
    app.view(ids.NEW_BET_VIEW)(new_bet_submission(runtime))
    app.view(ids.EVIDENCE_VIEW)(evidence_submission(runtime))
    app.view(ids.CLOSE_VIEW)(close_submission(runtime))
