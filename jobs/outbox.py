"""Sending what the outbox holds: retries with backoff, honours Retry-After, records failures,
and never posts a message twice, even after a sender died between sending and marking."""

from __future__ import annotations

import asyncio
import logging
from collections import defaultdict
from collections.abc import Awaitable, Callable, Sequence
from dataclasses import dataclass, field
from datetime import UTC, datetime, timedelta
from typing import Any

import aiohttp
from slack_sdk.errors import SlackApiError
from slack_sdk.web.async_client import AsyncWebClient

from bot import metrics
from bot.slack import SlackClients
from storage import bets as bet_store
from storage import outbox as store
from storage.models import Outbox

log = logging.getLogger("hypobot.outbox")

LEASE = timedelta(seconds=60)
MAX_ATTEMPTS = 10
# Errors that no retry will fix: record them on the row and stop.
PERMANENT = frozenset(
    {
        "channel_not_found",
        "not_in_channel",
        "is_archived",
        "account_inactive",
        "invalid_auth",
        "token_revoked",
        "missing_scope",
        "msg_too_long",
        "invalid_blocks",
        "no_text",
        "restricted_action",
        "message_not_found",
        "cant_update_message",
        "team_access_not_granted",
    }
)
METADATA_TYPE = "hypobot_outbox"
LOOKBACK_S = 600  # how far before a row's creation a lost send is searched for
BATCH = 200  # rows claimed at a time
MOST_PER_PASS = 5000  # rows one pass may take; the next pass takes the rest
CHANNELS_AT_ONCE = 32  # channels sent to in parallel (each channel stays in order)


def backoff(attempt: int) -> timedelta:
    """5 s, 10 s, 20 s … capped at 15 minutes."""
    return timedelta(seconds=min(900, 5 * 2 ** max(0, attempt)))


def _now() -> datetime:
    return datetime.now(UTC)


@dataclass
class DeliveryReport:
    sent: int = 0
    retried: int = 0
    failed: int = 0
    deferred: int = 0
    errors: list[str] = field(default_factory=list)


def _log_failure(task: asyncio.Task[DeliveryReport]) -> None:
    """A background delivery that failed (say, the database dropped): log it; the next
    pass retries the rows, which are still in the outbox."""
    if not task.cancelled() and task.exception() is not None:
        log.error("outbox.background_failed", extra={"error_type": type(task.exception()).__name__})


class Courier:
    """Delivers outbox rows through the team's Web API client."""

    def __init__(
        self,
        clients: SlackClients,
        *,
        render_card: Callable[[Any, datetime], Awaitable[dict[str, Any]]],
        clock: Callable[[], datetime] = _now,
    ) -> None:
        self.clients = clients
        self.render_card = render_card
        self.clock = clock
        self._kick: asyncio.Task[DeliveryReport] | None = None

    def kick(self) -> None:
        """Deliver soon, in the background (after a listener has acked)."""
        if self._kick is None or self._kick.done():
            self._kick = asyncio.create_task(self.deliver())
            self._kick.add_done_callback(_log_failure)

    async def drain(self) -> None:
        """Wait for a background delivery started by kick() (tests, shutdown)."""
        if self._kick is not None:
            await asyncio.gather(self._kick, return_exceptions=True)

    async def deliver(
        self,
        *,
        now: datetime | None = None,
        ids: Sequence[int] | None = None,
        batch: int = BATCH,
        most: int = MOST_PER_PASS,
    ) -> DeliveryReport:
        """Send what is due, a batch at a time: channels in parallel, each channel's rows in
        order. Slack rate-limits per channel, so a 429 holds back only that channel."""
        report = DeliveryReport()
        moment = now or self.clock()
        taken = 0
        while taken < most:
            rows = await store.claim_due(now=moment, lease=LEASE, limit=batch, ids=ids)
            if not rows:
                break
            taken += len(rows)
            by_channel: dict[tuple[str, str], list[Outbox]] = defaultdict(list)
            for row in rows:
                by_channel[(row.team_id, row.channel_id)].append(row)
            gate = asyncio.Semaphore(CHANNELS_AT_ONCE)
            await asyncio.gather(
                *(
                    self._deliver_channel(queue, moment, report, gate)
                    for queue in by_channel.values()
                )
            )
            if len(rows) < batch or ids is not None:
                break
        return report

    async def _deliver_channel(
        self, rows: list[Outbox], now: datetime, report: DeliveryReport, gate: asyncio.Semaphore
    ) -> None:
        async with gate:
            for index, row in enumerate(rows):
                limited_until = await self._deliver_one(row, now, report)
                if limited_until is not None:
                    for later in rows[index + 1 :]:
                        await store.mark_retry(
                            later, at=limited_until, error="ratelimited", count_attempt=False
                        )
                        report.retried += 1
                        metrics.outbox_delivery("retried", "ratelimited")
                    return

    async def _deliver_one(
        self, row: Outbox, now: datetime, report: DeliveryReport
    ) -> datetime | None:
        """Send one row; the moment Slack asked us to wait until, when it rate-limited us."""
        if row.kind == "card" and await store.older_unsent_card(row):
            await store.mark_retry(
                row, at=now + timedelta(seconds=1), error=row.last_error, count_attempt=False
            )
            report.deferred += 1
            metrics.outbox_delivery("deferred")
            return None
        client = await self.clients.for_team(row.team_id)
        if client is None:
            await store.mark_failed(row, now=now, error="no_installation: workspace not installed")
            report.failed += 1
            metrics.outbox_delivery("failed", "no_installation")
            return None
        try:
            ts = await self._send_joining(client, row, now)
        except SlackApiError as error:
            return await self._on_api_error(row, error, now, report)
        except (TimeoutError, aiohttp.ClientError, OSError) as error:
            await self._retry_or_fail(
                row, now, f"uncertain: network {type(error).__name__}", report
            )
            return None
        await store.mark_sent(row, now=now, message_ts=ts)
        report.sent += 1
        metrics.outbox_delivery("sent", queued_for=now - row.created_at)
        log.info(
            "outbox.sent", extra={"outbox_id": row.id, "kind": row.kind, "team_id": row.team_id}
        )
        return None

    async def _send_joining(self, client: AsyncWebClient, row: Outbox, now: datetime) -> str | None:
        """Send; if Hypobot is not in a public channel yet, join it (to hear thread replies)
        and send once more."""
        try:
            return await self._send(client, row, now)
        except SlackApiError as error:
            if error.response.get("error") != "not_in_channel":
                raise
            await client.conversations_join(channel=row.channel_id)
            return await self._send(client, row, now)

    async def _send(self, client: AsyncWebClient, row: Outbox, now: datetime) -> str | None:
        metadata = {"event_type": METADATA_TYPE, "event_payload": {"outbox_id": row.id}}
        payload = dict(row.payload)
        thread_ts = row.thread_ts
        if row.kind == "card":
            bet = await bet_store.bet_by_id(row.team_id, row.bet_id) if row.bet_id else None
            if bet is None:
                return None  # the bet was purged: nothing to show
            payload = await self.render_card(bet, now)
            if bet.card_ts:
                response = await client.chat_update(
                    channel=row.channel_id, ts=bet.card_ts, **payload
                )
                return str(response["ts"])
        elif row.kind == "nudge" and row.bet_id and not thread_ts:
            bet = await bet_store.bet_by_id(row.team_id, row.bet_id)
            thread_ts = bet.card_ts if bet else None
        if row.last_error.startswith("uncertain"):
            already = await self._find_posted(client, row, thread_ts)
            if already:
                return already
        response = await client.chat_postMessage(
            channel=row.channel_id, thread_ts=thread_ts, metadata=metadata, **payload
        )
        return str(response["ts"])

    async def _find_posted(
        self, client: AsyncWebClient, row: Outbox, thread_ts: str | None
    ) -> str | None:
        """A message this row already posted (a sender died before marking it sent)."""
        # Match on metadata, so search generously: Slack's clock and ours may disagree.
        oldest = f"{row.created_at.timestamp() - LOOKBACK_S:.6f}"
        if thread_ts:
            response = await client.conversations_replies(
                channel=row.channel_id, ts=thread_ts, oldest=oldest, include_all_metadata=True
            )
        else:
            response = await client.conversations_history(
                channel=row.channel_id, oldest=oldest, include_all_metadata=True, limit=200
            )
        for message in response.get("messages", []):
            meta = message.get("metadata") or {}
            if (
                meta.get("event_type") == METADATA_TYPE
                and (meta.get("event_payload") or {}).get("outbox_id") == row.id
            ):
                return str(message["ts"])
        return None

    async def _on_api_error(
        self, row: Outbox, error: SlackApiError, now: datetime, report: DeliveryReport
    ) -> datetime | None:
        status = error.response.status_code
        code = str(error.response.get("error") or f"http_{status}")
        if status == 429:
            retry_after = int(error.response.headers.get("Retry-After", 1) or 1)
            until = now + timedelta(seconds=retry_after)
            await store.mark_retry(row, at=until, error="ratelimited", count_attempt=False)
            report.retried += 1
            metrics.outbox_delivery("retried", "ratelimited")
            return until
        if status >= 500:
            await self._retry_or_fail(row, now, f"server error {status}", report)
        else:
            await store.mark_failed(row, now=now, error=code)
            report.failed += 1
            report.errors.append(code)
            metrics.outbox_delivery("failed", code)
            log.warning(
                "outbox.failed",
                extra={"outbox_id": row.id, "error": code, "permanent": code in PERMANENT},
            )
        return None

    async def _retry_or_fail(
        self, row: Outbox, now: datetime, error: str, report: DeliveryReport
    ) -> None:
        if row.attempts + 1 >= MAX_ATTEMPTS:
            await store.mark_failed(row, now=now, error=f"gave up after {MAX_ATTEMPTS}: {error}")
            report.failed += 1
            report.errors.append(error)
            metrics.outbox_delivery("failed", "gave_up")
            return
        await store.mark_retry(row, at=now + backoff(row.attempts), error=error)
        report.retried += 1
        metrics.outbox_delivery("retried", error)
