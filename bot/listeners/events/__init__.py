"""Events API listeners: replies in a bet's thread, mentions, the App Home tab, and Hypobot
being invited to a channel."""

from __future__ import annotations

from slack_bolt.async_app import AsyncApp

from bot.listeners.events import uninstall
from bot.listeners.events.app_home import app_home_opened
from bot.listeners.events.app_mention import app_mention
from bot.listeners.events.links import is_top_level_link_message, link_shared_in_channel
from bot.listeners.events.member_joined import member_joined
from bot.listeners.events.thread_reply import thread_reply
from bot.runtime import Runtime


def register(app: AsyncApp, runtime: Runtime) -> None:
    # Bolt runs the first listener that matches: the link listener takes only top-level
    # messages with a link, before the thread-reply listener sees every message.
    app.event("message", matchers=[is_top_level_link_message])(link_shared_in_channel(runtime))
    app.event("message")(thread_reply(runtime))
    app.event("app_mention")(app_mention(runtime))
    app.event("app_home_opened")(app_home_opened(runtime))
    app.event("member_joined_channel")(member_joined(runtime))
    uninstall.register(app)
