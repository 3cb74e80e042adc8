"""Slash command listeners."""

from __future__ import annotations

from slack_bolt.async_app import AsyncApp

from bot.listeners.commands.hypothesis import hypothesis_command
from bot.runtime import Runtime


def register(app: AsyncApp, runtime: Runtime) -> None:
    app.command("/hypothesis")(hypothesis_command(runtime))
