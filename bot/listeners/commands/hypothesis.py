"""`/hypothesis …`: parse, run one service function, answer within Slack's 3 seconds."""

from __future__ import annotations

import asyncio
import logging
from collections.abc import Awaitable, Callable
from typing import Any

import aiohttp
from slack_bolt.context.ack.async_ack import AsyncAck
from slack_bolt.context.respond.async_respond import AsyncRespond
from slack_sdk.errors import SlackApiError
from slack_sdk.web.async_client import AsyncWebClient
from slack_sdk.webhook.async_client import AsyncWebhookClient

from bot import grammar
from bot.answers import Actor, Reply, refused
from bot.blocks import modals
from bot.blocks.text import escape
from bot.listeners.safety import failure_text, respond_safely
from bot.runtime import Runtime

log = logging.getLogger("hypobot.commands")

# Slack waits 3 s for the ack, counted from before our listener even starts; past this
# budget the command acks "working on it" and answers through the response_url instead.
ACK_BUDGET_S = 1.5
WORKING = "⏳ Working on it…"

POSTED_WAIT_S = 10.0  # how long a report's chart waits for the report another sender is posting
MODAL_FAILED = (
    "Slack couldn't open the New bet form just now. Try `/hypothesis` again, or create the "
    "bet in one line: `/hypothesis new We believe <change> for <whom> will <outcome>. "
    "We'll know when <signal>`."
)


async def post_with_chart(
    runtime: Runtime,
    client: AsyncWebClient,
    team_id: str,
    outbox_id: int,
    chart: bytes | None,
) -> None:
    """Send a queued message now (unless a sender has taken it already) and put its chart
    in the message's thread."""
    await runtime.sender.send_now(team_id, [outbox_id])
    posted = await runtime.sender.posted(team_id, outbox_id, wait_s=POSTED_WAIT_S)
    if chart is None or posted is None:
        return  # not sent yet: the outbox retries the message; the chart is best effort
    channel_id, message_ts = posted
    try:
        await client.files_upload_v2(
            channel=channel_id,
            thread_ts=message_ts,
            content=chart,
            filename="time-to-feedback.png",
            title="Time to feedback",
        )
    except (SlackApiError, OSError) as error:
        log.warning("report.chart_failed", extra={"error_type": type(error).__name__})


async def answer_later(
    runtime: Runtime, respond: AsyncRespond, reply: Reply, *, replace_original: bool = False
) -> None:
    """The answer through the response_url, ephemeral, on the Web API clients' kept-alive
    connections (Bolt's `respond` opens a session and a connection per answer). Failures
    are logged, as `respond_safely` does: the command has done its work by then."""
    lender = getattr(runtime.sender.clients, "session", None)
    url = getattr(respond, "response_url", None)
    if lender is None or not url:
        await respond_safely(
            respond,
            text=reply.text,
            blocks=reply.blocks,
            response_type="ephemeral",
            replace_original=replace_original or None,
        )
        return
    message: dict[str, Any] = {"text": reply.text, "response_type": "ephemeral"}
    if reply.blocks is not None:
        message["blocks"] = reply.blocks
    if replace_original:
        message["replace_original"] = True
    client = lender.lend(AsyncWebhookClient(url=url, proxy=respond.proxy, ssl=respond.ssl))
    try:
        await client.send_dict(message)
    except (aiohttp.ClientError, OSError, TimeoutError, SlackApiError) as error:
        log.warning("respond.failed", extra={"error_type": type(error).__name__})


async def _answer(runtime: Runtime, actor: Actor, parsed: grammar.Command) -> Reply:
    """The service's reply, or what to tell the person when it failed."""
    try:
        return await runtime.answers.run(actor, parsed)
    except Exception as error:
        return refused(failure_text(error, where="command"))


def hypothesis_command(runtime: Runtime) -> Callable[..., Awaitable[None]]:
    async def handle(
        ack: AsyncAck, command: dict[str, Any], client: AsyncWebClient, respond: AsyncRespond
    ) -> None:
        actor = Actor(command["team_id"], command["user_id"], command.get("channel_id"))
        parsed = grammar.parse(command.get("text") or "")
        if isinstance(parsed, grammar.Usage):
            await ack(text=escape(parsed.message))  # it quotes what the user typed
            return
        if isinstance(parsed, grammar.OpenModal):
            # Ack first: views.open may be slow, and the trigger stays valid for 3 seconds.
            await ack()
            view = modals.new_bet_modal(channel_id=actor.channel_id or "", owner_id=actor.user_id)
            try:
                await client.views_open(trigger_id=command["trigger_id"], view=view)
            except SlackApiError as error:
                # Past the ack the only way left to tell the person is the response_url.
                log.warning("modal.not_opened", extra={"error": error.response.get("error")})
                await respond_safely(respond, text=MODAL_FAILED, response_type="ephemeral")
            return
        # The answer goes in the ack when it is ready within ACK_BUDGET_S, as a hand-written
        # bot's does; only a slow one acks "working on it" and follows through the
        # response_url. Its ack holds back no one else's work; the cards a burst queues
        # wait until the answers owed are out.
        runtime.backlog.acked()
        async with runtime.backlog.owing():
            work = asyncio.create_task(_answer(runtime, actor, parsed))
            done, _ = await asyncio.wait({work}, timeout=ACK_BUDGET_S)
            if done:
                reply = work.result()
                await ack(text=reply.text, blocks=reply.blocks)
            else:
                await ack(text=WORKING)
                reply = await work
                await answer_later(runtime, respond, reply, replace_original=True)
        if reply.outbox_id is not None:
            await post_with_chart(runtime, client, actor.team_id, reply.outbox_id, reply.chart)

    return handle
