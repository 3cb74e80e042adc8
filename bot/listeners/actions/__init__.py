"""Button listeners: the moves on a card or nudge, and the verdicts under a thread reply."""

from __future__ import annotations

from slack_bolt.async_app import AsyncApp

from bot.blocks import ids
from bot.listeners.actions.bet_buttons import bet_button
from bot.listeners.actions.new_bet import new_bet_button
from bot.listeners.actions.reply_buttons import reply_button
from bot.runtime import Runtime

BET_BUTTONS = (
    ids.START,
    ids.SHIP,
    ids.ADD_EVIDENCE,
    ids.NUDGE_SUPPORTS,
    ids.NUDGE_REFUTES,
    ids.VALIDATE,
    ids.INVALIDATE,
    ids.KILL,
    ids.SNOOZE,
)
REPLY_BUTTONS = (
    ids.VERDICT_SUPPORTS,
    ids.VERDICT_REFUTES,
    ids.VERDICT_NOTE,
    ids.REPLY_VALIDATE,
    ids.REPLY_INVALIDATE,
)


def register(app: AsyncApp, runtime: Runtime) -> None:
    for action_id in BET_BUTTONS:
        app.action(action_id)(bet_button(runtime))
    for action_id in REPLY_BUTTONS:
        app.action(action_id)(reply_button(runtime))
    app.action(ids.NEW_BET)(new_bet_button(runtime))
