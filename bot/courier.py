"""Sending what the outbox holds: retries with backoff, honours Retry-After, records failures,
and never posts a message twice, even after a sender died between sending and marking."""

from __future__ import annotations

import asyncio
import logging
import time
from collections.abc import Awaitable, Callable, Sequence
from dataclasses import dataclass, field, replace
from datetime import UTC, datetime, timedelta
from typing import Any

import aiohttp
from slack_sdk.errors import SlackApiError
from slack_sdk.web.async_client import AsyncWebClient

from bot.slack import SlackClients
from ops import metrics
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
CHUNK = 10  # rows of one channel claimed at a time
MOST_CHANNELS = 5000  # channels one pass starts on; the next pass takes the rest
CHANNELS_AT_ONCE = 32  # sends in flight at once (each channel's rows go one at a time, in order)
MOST_WAIT_S = 20.0  # a channel waits out a Retry-After this long in the pass; longer: next pass
SPACING_S = 1.0  # after a 429, a channel's posts go at most one a second (Slack's rate)
LEASE_MARGIN_S = 15.0  # rows not sent this long before their lease ends go back and are re-taken


@dataclass
class _Pace:
    """When a channel may post next: at once until Slack rate-limits it, then one post
    every SPACING_S, so the rest of its queue meets no more 429s."""

    not_before: float = 0.0
    limited_once: bool = False

    async def wait(self) -> None:
        delay = self.not_before - time.monotonic()
        if delay > 0:
            await asyncio.sleep(delay)

    def limited(self, retry_after: float) -> None:
        self.limited_once = True
        self.not_before = time.monotonic() + retry_after

    def posted(self) -> None:
        if self.limited_once:
            self.not_before = time.monotonic() + SPACING_S


def _retry_after(error: SlackApiError) -> float:
    try:
        return max(1.0, float(error.response.headers.get("Retry-After", 1)))
    except (TypeError, ValueError):
        return 1.0


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

    def copy(self) -> DeliveryReport:
        return replace(self, errors=list(self.errors))

    def since(self, earlier: DeliveryReport) -> DeliveryReport:
        """What was added to this running report after `earlier` (a copy of it)."""
        return DeliveryReport(
            *(getattr(self, name) - getattr(earlier, name) for name in _COUNTS),
            errors=self.errors[len(earlier.errors) :],
        )

    def plus(self, other: DeliveryReport) -> DeliveryReport:
        return DeliveryReport(
            *(getattr(self, name) + getattr(other, name) for name in _COUNTS),
            errors=self.errors + other.errors,
        )


_COUNTS = ("sent", "retried", "failed", "deferred")


def _log_failure(task: asyncio.Task[Any]) -> None:
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
        most_wait_s: float = MOST_WAIT_S,
    ) -> None:
        self.clients = clients
        self.render_card = render_card
        self.clock = clock
        self.most_wait_s = most_wait_s
        self._scan: asyncio.Task[None] | None = None
        self._again = False
        self._gate = asyncio.Semaphore(CHANNELS_AT_ONCE)
        # Channels a task here is sending to: each channel has at most one sender in this
        # process, which keeps taking its due rows until none is left.
        self._active: dict[tuple[str, str], asyncio.Task[None]] = {}
        self.background = DeliveryReport()  # what kicked deliveries did, for logs and tests

    async def posted(self, team_id: str, outbox_id: int) -> tuple[str, str] | None:
        """(channel, ts) of a queued message once it has been sent, else None."""
        row = await store.row(team_id, outbox_id)
        if row is None or row.message_ts is None:
            return None
        return row.channel_id, row.message_ts

    def kick(self) -> None:
        """Deliver soon, in the background (after a listener has acked): start a sender on
        each channel with rows due and no sender yet. A kick during a scan makes the scan
        look once more when it ends."""
        if self._scan is None or self._scan.done():
            self._scan = asyncio.create_task(self._kicked())
            self._scan.add_done_callback(_log_failure)
        else:
            self._again = True

    def send_soon(self, team_id: str, channel_id: str) -> None:
        """A job has just queued messages for this channel: start its sender now, without
        a look over the whole outbox (unless one is at work on the channel already; it
        takes the new rows before it stops)."""
        self._start((team_id, channel_id), None, self.background)

    async def _kicked(self) -> None:
        self._again = True
        while self._again:
            self._again = False
            for channel in await store.due_channels(now=self.clock(), limit=MOST_CHANNELS):
                self._start(channel, None, self.background)

    async def drain(self) -> None:
        """Wait until the background deliveries started by kick() and send_soon() are done
        (jobs, tests, the console)."""
        while True:
            pending = [task for task in (self._scan, *self._active.values()) if task]
            pending = [task for task in pending if not task.done()]
            if not pending:
                return
            await asyncio.gather(*pending, return_exceptions=True)

    async def stop(self) -> None:
        """Shutting down: stop the background senders (their unsent rows go back)."""
        tasks = [task for task in (self._scan, *self._active.values()) if task]
        for task in tasks:
            task.cancel()
        await asyncio.gather(*tasks, return_exceptions=True)

    async def deliver(
        self,
        *,
        now: datetime | None = None,
        ids: Sequence[int] | None = None,
        most: int = MOST_CHANNELS,
    ) -> DeliveryReport:
        """Send what is due: channels in parallel, each channel's rows in order, each
        channel at its own pace. Slack rate-limits per channel, so a 429 holds back only
        that channel, which waits out Retry-After (up to `most_wait_s`) and goes on."""
        report = DeliveryReport()
        if ids is not None:  # these rows now (a reply that must be out before its chart)
            await self._send_rows(None, ids, now, report)
            return report
        channels = await store.due_channels(now=now or self.clock(), limit=most)
        started = [self._start(channel, now, report) for channel in channels]
        await asyncio.gather(*(task for task in started if task is not None))
        return report

    def _start(
        self, channel: tuple[str, str], now: datetime | None, report: DeliveryReport
    ) -> asyncio.Task[None] | None:
        """A sender for `channel`, unless one is at work on it already."""
        if channel in self._active:
            return None
        task = asyncio.create_task(self._send_rows(channel, None, now, report))
        self._active[channel] = task
        task.add_done_callback(lambda _: self._active.pop(channel, None))
        task.add_done_callback(_log_failure)
        return task

    async def _send_rows(
        self,
        channel: tuple[str, str] | None,
        ids: Sequence[int] | None,
        now: datetime | None,
        report: DeliveryReport,
    ) -> None:
        """One channel's due rows (or the rows `ids`), a chunk at a time, until none is due."""
        pace = _Pace()
        while True:
            rows = await store.claim(
                now=now or self.clock(),
                lease=LEASE,
                limit=len(ids) if ids is not None else CHUNK,
                channel=channel,
                ids=ids,
            )
            if not rows:
                return
            leased_until = time.monotonic() + LEASE.total_seconds() - LEASE_MARGIN_S
            index = 0
            try:
                for index, row in enumerate(rows):
                    if time.monotonic() > leased_until:
                        await self._put_back(rows[index:], now or self.clock())
                        break
                    limited_until = await self._send_paced(row, now, report, pace)
                    if limited_until is not None:  # Slack wants a long wait: next pass
                        await self._put_back(rows[index + 1 :], limited_until)
                        return
            except asyncio.CancelledError:
                # Shutting down: rows not started go back at once; the one being sent
                # stays "sending" (it may be out) until its lease lapses and a sender
                # looks for it in the channel before sending it again.
                await self._put_back(rows[index + 1 :], now or self.clock())
                raise
            if ids is not None:
                return

    async def _send_paced(
        self, row: Outbox, now: datetime | None, report: DeliveryReport, pace: _Pace
    ) -> datetime | None:
        """Send one row, waiting out the channel's 429s within `most_wait_s`; once Slack
        has limited the channel, its later posts go SPACING_S apart. Returns when the
        channel may post again if the row went back to the outbox for a later pass."""
        waited = 0.0
        while True:
            await pace.wait()
            async with self._gate:
                moment = now or self.clock()
                retry_after = await self._deliver_one(row, moment, report)
            if retry_after is None:
                pace.posted()
                return None
            if waited + retry_after > self.most_wait_s:
                until = moment + timedelta(seconds=retry_after)
                await store.mark_retry(row, at=until, error="ratelimited", count_attempt=False)
                report.retried += 1
                metrics.outbox_delivery("retried", "ratelimited")
                return until
            metrics.outbox_delivery("waited", "ratelimited")
            waited += retry_after
            pace.limited(retry_after)

    async def _put_back(self, rows: Sequence[Outbox], at: datetime) -> None:
        """Unsent claimed rows back to pending, due `at`, for a loop or pass to re-take."""
        for row in rows:
            await store.mark_retry(row, at=at, error=row.last_error, count_attempt=False)

    async def _deliver_one(
        self, row: Outbox, now: datetime, report: DeliveryReport
    ) -> float | None:
        """Send one row; the seconds Slack asked us to wait, when it rate-limited us."""
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
    ) -> float | None:
        status = error.response.status_code
        code = str(error.response.get("error") or f"http_{status}")
        if status == 429:  # the row stays ours: the caller waits or puts it back
            return _retry_after(error)
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
