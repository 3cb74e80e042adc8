"""Events API listeners: replies in a bet's thread, mentions, and the App Home tab."""

from __future__ import annotations

from slack_bolt.async_app import AsyncApp

from bot.listeners.events.app_home import app_home_opened
from bot.listeners.events.app_mention import app_mention
from bot.listeners.events.thread_reply import thread_reply
from bot.runtime import Runtime


def register(app: AsyncApp, runtime: Runtime) -> None:
    app.event("message")(thread_reply(runtime))
    app.event("app_mention")(app_mention(runtime))
    app.event("app_home_opened")(app_home_opened(runtime))
