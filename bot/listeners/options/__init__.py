"""Options for external selects (block_suggestion): the bet picker's type-ahead."""

from __future__ import annotations

from slack_bolt.async_app import AsyncApp

from bot.blocks import ids
from bot.listeners.options.bet_picker import bet_picker
from bot.runtime import Runtime


def register(app: AsyncApp, runtime: Runtime) -> None:
    app.options(ids.F_BET)(bet_picker(runtime))
