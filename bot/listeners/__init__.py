"""Bolt listeners, split by kind; each kind's `register(app, runtime)` wires its callbacks."""

from __future__ import annotations

from slack_bolt.async_app import AsyncApp

from bot.listeners import actions, commands, events, functions, options, shortcuts, views
from bot.listeners.attribution import RefuseUnattributable
from bot.runtime import Runtime


def register(app: AsyncApp, runtime: Runtime) -> None:
    app.middleware(RefuseUnattributable())
    commands.register(app, runtime)
    actions.register(app, runtime)
    views.register(app, runtime)
    events.register(app, runtime)
    shortcuts.register(app, runtime)
    options.register(app, runtime)
    functions.register(app, runtime)
