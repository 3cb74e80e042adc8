"""Sending what the outbox holds: paced to Slack's limits per channel and per workspace, as a
member of the channel (it joins public channels; private ones must invite it), with retries
and backoff, honouring Retry-After, recording failures, and never posting a message twice,
even after a sender died between sending and marking."""

from __future__ import annotations

import asyncio
import contextlib
import itertools
import logging
import math
import time
import uuid
from collections import Counter
from collections.abc import Awaitable, Callable, Mapping, Sequence
from dataclasses import dataclass, field, replace
from datetime import UTC, datetime, timedelta
from typing import Any

import aiohttp
from slack_sdk.errors import SlackApiError
from slack_sdk.web.async_client import AsyncWebClient

from ops import metrics
from ops.settings import Settings
from outbox import rows as store
from outbox.clients import API_TIMEOUT_S, SlackClients, for_settings
from outbox.kinds import CANVAS_KINDS, Kind
from outbox.pacing import MARGIN_S, Bucket, Limits, Pacer
from outbox.queue import Doorbell
from outbox.rows import AWAITING_INVITE, INVITE_ASKED
from storage import bets as bet_store
from storage import shared
from storage.db import UNREACHABLE as DATABASE_ERRORS
from storage.models import Outbox

log = logging.getLogger("hypobot.outbox")

LEASE = timedelta(seconds=60)
# One replica sends a workspace's messages at a time, under this lease, renewed while it
# sends once less than SENDING_LEASE_RENEW is left. 30 s: long enough that a busy replica
# (a stalled event loop, a slow database) keeps it from one renewal to the next; short
# enough that when it dies another takes its workspaces over within half a minute (its rows
# wait that long, nothing is lost: they stay in the outbox).
SENDING_LEASE = timedelta(seconds=30)
SENDING_LEASE_RENEW = timedelta(seconds=20)
# A holder starts no send in the last 15 s of its lease (on its own clock, counted from
# before it asked): a call lasts at most API_TIMEOUT_S (10 s; the sender's client does not
# retry in place), which leaves 5 s for the replicas' clocks to differ. So the replica that
# takes a lapsed lease over may take the rows its last holder had claimed at once.
HOLD_MARGIN_S = API_TIMEOUT_S + 5.0
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
        "canvas_not_found",
        "canvas_disabled_user_team",
        "free_teams_cannot_edit_standalone_canvases",
    }
)
METADATA_TYPE = "hypobot_outbox"
LOOKBACK_S = 600  # how far before a row's creation a lost send is searched for
CHUNK = 10  # rows of one channel claimed at a time
MOST_CHANNELS = 5000  # channels one pass starts on; the next pass takes the rest
CHANNELS_AT_ONCE = 32  # sends in flight at once (each channel's rows go one at a time, in order)
MOST_WAIT_S = 20.0  # a 429 is waited out this long in the pass; longer: the next pass
LEASE_MARGIN_S = 15.0  # rows not sent this long before their lease ends go back and are re-taken
PAUSE_GRACE_S = 1.0  # a workspace's 429 pause this short is waited out, whatever most_wait_s

# Membership. Slack sends a channel's messages (the replies in a card's thread) only to
# members, and a bot without chat:write.public posts only where it is a member.
NOT_MEMBER = frozenset({"not_in_channel", "channel_not_found"})  # a post's answer
# conversations.join's answers for a channel Hypobot cannot join by itself: a private channel
# says so when Hypobot is in it, and is invisible ("not found") when it is not.
CANNOT_JOIN = frozenset({"method_not_supported_for_channel_type", "channel_not_found"})
INVITE_RECHECK = timedelta(hours=6)  # held rows are tried again (an invite event was missed)
INVITE_NEEDED = (
    ":lock: Hypobot can't post in <#{channel}>: it isn't a member, and it can't join a "
    "private channel by itself. Type `/invite @Hypobot` in <#{channel}>: the bet's card, and "
    "anything else waiting for that channel, goes up as soon as Hypobot is in."
)


NETWORK_ERRORS = (TimeoutError, aiohttp.ClientError, OSError)


@dataclass(frozen=True)
class Post:
    """A message rendered when it is sent: chat.postMessage's arguments, or chat.update's
    when `update_ts` names the message it replaces (a card once posted)."""

    payload: dict[str, Any]
    update_ts: str | None = None


@dataclass(frozen=True)
class CanvasEdit:
    """A canvas rewritten whole (canvases.edit, one `replace` of its document): sending it
    again changes nothing, so it is never looked for before a retry."""

    canvas_id: str
    markdown: str

    def changes(self) -> list[dict[str, Any]]:
        return [
            {
                "operation": "replace",
                "document_content": {"type": "markdown", "markdown": self.markdown},
            }
        ]


# Renders a row of a kind whose message is made when it is sent; None: nothing to send.
Render = Callable[[Outbox, datetime], Awaitable[Post | CanvasEdit | None]]
# What a row's kind does when Slack refuses the row for good (the error's code, and now).
OnFailed = Callable[[Outbox, str, datetime], Awaitable[None]]


class _NotInvited(Exception):
    """The channel is one Hypobot must be invited to before it can post there."""


class _NotYet(Exception):
    """The row's turn under Slack's limits comes after its lease: a later pass sends it."""

    def __init__(self, seconds: float) -> None:
        super().__init__(seconds)
        self.seconds = seconds


class _Held(Exception):
    """The row was held until Hypobot is invited; so are the channel's other rows."""

    def __init__(self, until: datetime) -> None:
        super().__init__(until)
        self.until = until


class _Seconds:
    """The pacer's clock: the sender's, in seconds, so that a 429's pause and the outbox's
    schedule agree; while that clock stands still (a test's fixed clock), real time runs on
    from its last reading, so that waiting for a turn ends. It never runs backwards: a clock
    set back (a test's, or a host's corrected clock) would otherwise make every turn already
    reserved look days away."""

    def __init__(self, clock: Callable[[], datetime]) -> None:
        self.clock = clock
        self.reading = -math.inf
        self.since = 0.0
        self.last = -math.inf  # the last value given, and when (monotonic)
        self.last_at = 0.0

    def __call__(self) -> float:
        reading, now = self.clock().timestamp(), time.monotonic()
        if reading != self.reading:
            self.reading, self.since = reading, now
        value = reading + (now - self.since)
        if value < self.last:
            value = self.last + (now - self.last_at)
        self.last, self.last_at = value, now
        return value


def _on_canvas(row: Outbox) -> bool:
    return Kind(row.kind) in CANVAS_KINDS


def _look_again(now: datetime, card_due: datetime | None) -> datetime:
    """When a deferred row is tried again: in a second, or when the card it waits for is
    due, but within a minute (the card may go sooner, say once Hypobot is invited)."""
    soon = now + timedelta(seconds=1)
    if card_due is None:
        return soon
    return min(max(card_due, soon), now + timedelta(minutes=1))


def _workspaces_in_turn(channels: Sequence[tuple[str, str]]) -> list[tuple[str, str]]:
    """Channels in the order their senders start: the workspaces take turns (each keeping
    its channels' order), so that one workspace's long queue never holds another's back
    while both wait only for their own limits."""
    by_team: dict[str, list[tuple[str, str]]] = {}
    for channel in channels:
        by_team.setdefault(channel[0], []).append(channel)
    rounds = itertools.zip_longest(*by_team.values())
    return [channel for turn in rounds for channel in turn if channel is not None]


def _code(error: BaseException) -> str:
    if isinstance(error, SlackApiError):
        return str(error.response.get("error") or error.response.status_code)
    return type(error).__name__


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
    awaiting_invite: int = 0  # held until Hypobot is invited to a private channel
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


_COUNTS = ("sent", "retried", "failed", "deferred", "awaiting_invite")


def _log_failure(task: asyncio.Task[Any]) -> None:
    """A background delivery that failed (say, the database dropped): log it; the next
    pass retries the rows, which are still in the outbox."""
    if not task.cancelled() and task.exception() is not None:
        log.error("outbox.background_failed", extra={"error_type": type(task.exception()).__name__})


class Sender:
    """Delivers outbox rows through the team's Web API client."""

    def __init__(
        self,
        clients: SlackClients,
        *,
        renderers: Mapping[Kind, Render],
        on_failed: Mapping[Kind, OnFailed] | None = None,
        clock: Callable[[], datetime] = _now,
        most_wait_s: float = MOST_WAIT_S,
        limits: Limits | None = None,
        owner: str | None = None,
    ) -> None:
        self.clients = clients
        self.renderers = renderers
        self.on_failed = on_failed or {}
        self.owner = owner or f"sender-{uuid.uuid4().hex[:12]}"  # who holds its leases
        self._leases: dict[str, float] = {}  # workspace → when our lease ends (monotonic)
        self._leasing: dict[str, asyncio.Future[bool]] = {}  # a lease asked for, in flight
        self._by_id: Counter[str] = Counter()  # rows being sent by id (send_now), by workspace
        self.clock = clock
        self.most_wait_s = most_wait_s
        self.pacer = Pacer(limits or Limits(), clock=_Seconds(clock))
        self._members: set[tuple[str, str]] = set()  # channels Hypobot is known to be in
        # The doorbell: channels whose rows were queued, waiting for `when` to let them go.
        self._when: Callable[[Callable[[], None]], None] | None = None
        self._deaf: Callable[[], None] = lambda: None
        self._rang: dict[tuple[str, str], None] = {}
        self._answering = False
        self._answered = asyncio.Event()
        self._answered.set()
        self._gate = asyncio.Semaphore(CHANNELS_AT_ONCE)
        # Channels a task here is sending to: each channel has at most one sender in this
        # process, which keeps taking its due rows until none is left.
        self._active: dict[tuple[str, str], asyncio.Task[None]] = {}
        # Channels whose sender was asked to start while it was at work: it claims once more
        # before it stops (otherwise a short chunk means the channel has nothing more due).
        self._more: set[tuple[str, str]] = set()
        self.background = DeliveryReport()  # what rung deliveries did, for logs and tests

    async def posted(
        self, team_id: str, outbox_id: int, *, wait_s: float = 0.0
    ) -> tuple[str, str] | None:
        """(channel, ts) of a queued message once it has been sent, else None. While another
        sender (this process's, woken by the doorbell, or another replica's) is sending it,
        wait up to `wait_s` for it to be out."""
        deadline = time.monotonic() + wait_s
        while True:
            row = await store.row(team_id, outbox_id)
            if row is None:
                return None
            if row.message_ts is not None:
                return row.channel_id, row.message_ts
            if row.status != "sending" or time.monotonic() >= deadline:
                return None
            await asyncio.sleep(0.05)

    def hear(
        self,
        doorbell: Doorbell,
        *,
        when: Callable[[Callable[[], None]], None] | None = None,
    ) -> None:
        """Start on a channel's rows as soon as they are queued in this process (the doorbell
        rings once their unit of work has committed), when `when` lets it: the Slack edge
        holds the senders back while people wait for their acks and answers
        (`Backlog.when_idle`); rows queued meanwhile go together."""
        self._when = when
        self._deaf = doorbell.subscribe(self._rung)

    def stop_hearing(self) -> None:
        """Hear the doorbell no more: rows queued from now on wait for a pass (`deliver`),
        as rows queued by another replica do."""
        self._deaf()
        self._deaf = lambda: None

    def _rung(self, team_id: str, channel_id: str) -> None:
        self._rang[(team_id, channel_id)] = None
        if self._answering:
            return
        self._answering = True
        self._answered.clear()
        if self._when is None:
            self._answer()
        else:
            self._when(self._answer)

    def _answer(self) -> None:
        rang, self._rang = list(self._rang), {}
        self._answering = False
        self._answered.set()
        for channel in _workspaces_in_turn(rang):
            self._start(channel, None, self.background)

    def send_soon(self, team_id: str, channel_id: str) -> None:
        """Start this channel's sender now (unless one is at work on the channel already; it
        takes the new rows before it stops)."""
        self._start((team_id, channel_id), None, self.background)

    async def drain(self) -> None:
        """Wait until the deliveries started by the doorbell (and `send_soon`) are done
        (jobs, tests, the console)."""
        while True:
            await self._answered.wait()
            pending = [task for task in self._active.values() if not task.done()]
            if not pending:
                return
            await asyncio.gather(*pending, return_exceptions=True)

    async def stop(self) -> None:
        """Shutting down: hear no more, and stop the background senders (their unsent rows
        go back)."""
        self.stop_hearing()
        tasks = list(self._active.values())
        for task in tasks:
            task.cancel()
        await asyncio.gather(*tasks, return_exceptions=True)
        if self._leases:  # the next replica need not wait for them to lapse
            self._leases.clear()
            with contextlib.suppress(*DATABASE_ERRORS):
                await shared.release(self.owner)

    async def send_now(self, team_id: str, ids: Sequence[int]) -> DeliveryReport:
        """Send these rows of the workspace now (a reply that must be out before its chart),
        unless another replica sends the workspace's messages (it sends them soon) or a
        sender here has taken them already."""
        report = DeliveryReport()
        self._by_id[team_id] += 1
        try:
            await self._send_rows(team_id, None, ids, None, report)
        finally:
            self._by_id[team_id] -= 1
            self._give_back_if_idle(team_id)
        return report

    async def deliver(
        self,
        *,
        now: datetime | None = None,
        most: int = MOST_CHANNELS,
    ) -> DeliveryReport:
        """Send what is due: channels in parallel, each channel's rows in order, paced by
        the channel's and the workspace's token buckets. A 429 holds back the whole
        workspace for its Retry-After (up to `most_wait_s`; longer: the next pass); other
        workspaces go on at their own pace."""
        report = DeliveryReport()
        # A replica that died holding workspaces: take them over first (its claimed rows
        # are due at once), and give back those with nothing to send.
        stranded = await shared.lapsed(now or self.clock())
        await asyncio.gather(*(self._sends_for(team) for team in stranded))
        due = await store.due_channels(now=now or self.clock(), limit=most)
        teams = sorted({team for team, _ in due})
        held = await asyncio.gather(*(self._sends_for(team) for team in teams))
        ours = {team for team, mine in zip(teams, held, strict=True) if mine}
        channels = _workspaces_in_turn([channel for channel in due if channel[0] in ours])
        started = [self._start(channel, now, report) for channel in channels]
        for team in set(stranded) - ours:
            self._give_back_if_idle(team)
        await asyncio.gather(*(task for task in started if task is not None))
        return report

    def _start(
        self, channel: tuple[str, str], now: datetime | None, report: DeliveryReport
    ) -> asyncio.Task[None] | None:
        """A sender for `channel`, unless one is at work on it already."""
        if channel in self._active:
            self._more.add(channel)
            return None
        task = asyncio.create_task(self._send_rows(channel[0], channel, None, now, report))
        self._active[channel] = task
        task.add_done_callback(lambda done: self._retire(channel, done))
        task.add_done_callback(_log_failure)
        return task

    def _retire(self, channel: tuple[str, str], task: asyncio.Task[Any] | None) -> None:
        """`task` no longer sends for `channel`: a new sender may start there. When it was the
        workspace's last, the workspace's sending lease goes back: another replica's rows
        for it need not wait for the lease to lapse."""
        if task is not None and self._active.get(channel) is task:
            del self._active[channel]
            self._give_back_if_idle(channel[0])

    def _give_back_if_idle(self, team_id: str) -> None:
        """Nothing of the workspace is being sent here: its sending lease goes back, so that
        another replica's rows for it need not wait for the lease to lapse."""
        busy = self._by_id[team_id] or any(team == team_id for team, _ in self._active)
        if team_id in self._leases and not busy:
            del self._leases[team_id]
            release = asyncio.create_task(self._release(team_id))
            release.add_done_callback(_log_failure)

    async def _release(self, team_id: str) -> None:
        with contextlib.suppress(*DATABASE_ERRORS):
            await shared.release(self.owner, team_id=team_id)

    async def _send_rows(
        self,
        team_id: str,
        channel: tuple[str, str] | None,
        ids: Sequence[int] | None,
        now: datetime | None,
        report: DeliveryReport,
    ) -> None:
        """The workspace's due rows of one channel (or the rows `ids`), a chunk at a time,
        until none is due. Only the replica that sends a workspace's messages claims its
        rows."""
        while True:
            if channel is not None:
                self._more.discard(channel)  # this claim takes whatever was queued until now
            if not await self._sends_for(team_id):
                return  # another replica sends this workspace's messages now
            rows = await store.claim(
                now=now or self.clock(),
                lease=LEASE,
                limit=len(ids) if ids is not None else CHUNK,
                channel=channel,
                ids=ids,
                team_id=team_id,
            )
            if not rows:
                return
            leased_until = time.monotonic() + LEASE.total_seconds() - LEASE_MARGIN_S
            index = 0
            drained = len(rows) < CHUNK  # nothing more was due when this chunk was taken
            try:
                for index, row in enumerate(rows):
                    if time.monotonic() > leased_until or not await self._sends_for(row.team_id):
                        await self._put_back(rows[index:], now or self.clock())
                        drained = False
                        break
                    deadline = min(leased_until, self._holds_until(row.team_id))
                    limited_until = await self._send_paced(row, now, report, deadline)
                    if limited_until is not None:  # a long wait (Slack's or ours): next pass
                        await self._put_back(rows[index + 1 :], limited_until)
                        return
            except _Held as held:  # the channel waits for an invite; so do these rows
                await self._put_back(rows[index + 1 :], held.until, error=AWAITING_INVITE)
                return
            except asyncio.CancelledError:
                # Shutting down: rows not started go back at once; the one being sent
                # stays "sending" (it may be out) until its lease lapses and a sender
                # looks for it in the channel before sending it again.
                await self._put_back(rows[index + 1 :], now or self.clock())
                raise
            if ids is not None:
                return
            if channel is not None and drained and channel not in self._more:
                self._retire(channel, asyncio.current_task())  # at once: no start is lost
                return

    async def _send_paced(
        self, row: Outbox, now: datetime | None, report: DeliveryReport, deadline: float
    ) -> datetime | None:
        """Send one row at its turn in its channel and its workspace (token buckets, so that
        Slack seldom answers 429), waiting out 429s within `most_wait_s`. A 429 holds back
        the whole workspace for its Retry-After. Returns when to try again if the row went
        back to the outbox for a later pass (a long wait, or its turn after the lease)."""
        waited = 0.0
        while True:
            moment = now or self.clock()
            paused = self.pacer.paused_for(row.team_id, canvas=_on_canvas(row))
            if paused > max(PAUSE_GRACE_S, self.most_wait_s - waited):  # a long 429: next pass
                until = moment + timedelta(seconds=paused)
                await self._put_back([row], until)
                return until
            try:
                retry_after = await self._deliver_one(row, moment, report, deadline)
            except _NotYet as late:
                until = moment + timedelta(seconds=late.seconds)
                await self._put_back([row], until)
                return until
            if retry_after is None:
                return None
            self.pacer.limited(row.team_id, row.channel_id, retry_after, canvas=_on_canvas(row))
            if waited + retry_after > self.most_wait_s:
                until = moment + timedelta(seconds=retry_after)
                await store.mark_retry(row, at=until, error="ratelimited", count_attempt=False)
                report.retried += 1
                metrics.outbox_delivery("retried", "ratelimited")
                return until
            metrics.outbox_delivery("waited", "ratelimited")
            waited += retry_after

    async def _turn(self, row: Outbox, deadline: float) -> list[Bucket]:
        """Wait for the row's turn in each bucket of its lane (a post: its channel's, then its
        workspace's; a board: its own, the workspace's, then the workspace's canvas edits'),
        the lane's last bucket holding a 429's pause for all; returns the buckets whose turns
        it took. Raises _NotYet when a turn would come after `deadline` (monotonic: the rows'
        lease)."""
        team, canvas = row.team_id, _on_canvas(row)
        lane = self.pacer.lane(team, row.channel_id, canvas=canvas)
        pauser = lane[-1]
        taken: list[Bucket] = []

        def too_late(delay: float) -> _NotYet | None:
            if delay <= deadline - time.monotonic():
                return None
            for bucket in taken:
                bucket.unused()
            return _NotYet(delay)

        for bucket in lane:
            now = self.pacer.clock()
            if late := too_late(bucket.turn(now, pauser.paused_until) - now):
                raise late
            start = bucket.reserve(now, pauser.paused_until)
            taken.append(bucket)
            if start > now:
                await asyncio.sleep(start - now)
        while (paused := self.pacer.paused_for(team, canvas=canvas)) > 0:  # a 429 meanwhile
            if late := too_late(paused):
                raise late
            await asyncio.sleep(paused + MARGIN_S)
        return taken

    async def _put_back(
        self, rows: Sequence[Outbox], at: datetime, *, error: str | None = None
    ) -> None:
        """Unsent claimed rows back to pending, due `at`, for a loop or pass to re-take."""
        for row in rows:
            await store.mark_retry(row, at=at, error=error or row.last_error, count_attempt=False)

    async def _sends_for(self, team_id: str) -> bool:
        """Whether this replica sends the workspace's messages now: it holds the workspace's
        sending lease (storage/shared.py), renewed while it sends. One sender per workspace
        at a time keeps the workspace's pace, whatever the number of replicas; a replica
        that dies holding it is replaced once the lease lapses (SENDING_LEASE)."""
        expires = self._leases.get(team_id, -math.inf)
        if expires - time.monotonic() > SENDING_LEASE_RENEW.total_seconds():
            return True
        asked = self._leasing.get(team_id)
        if asked is not None:  # the workspace's other channels wait for the one question
            return await asyncio.shield(asked)
        asked = self._leasing[team_id] = asyncio.get_running_loop().create_future()
        asked_at = time.monotonic()  # the lease runs from no later than this
        try:
            # On the sender's clock, as the rows' leases are: every replica reads the same one.
            lease = await shared.lease(team_id, self.owner, now=self.clock(), length=SENDING_LEASE)
            if lease is shared.Lease.TAKEN_OVER:
                # Its last holder stopped sending before its lease ran out (HOLD_MARGIN_S):
                # the rows it had claimed are ours at once, each looked for in the channel
                # before it is sent again (it may be out).
                lapsed = await store.lapse_claims(team_id, now=self.clock())
                log.info("outbox.took_over", extra={"team_id": team_id, "lapsed": lapsed})
        except asyncio.CancelledError:
            asked.cancel()
            raise
        except Exception as error:  # the waiters fail as this one does (a database error)
            asked.set_exception(error)
            asked.exception()  # retrieved: nobody else may be waiting
            raise
        finally:
            del self._leasing[team_id]
        held = lease is not shared.Lease.NOT_OURS
        if held:
            self._leases[team_id] = asked_at + SENDING_LEASE.total_seconds()
        else:
            self._leases.pop(team_id, None)
            metrics.outbox_delivery("not_ours")
        asked.set_result(held)
        return held

    def _holds_until(self, team_id: str) -> float:
        """The last instant (monotonic) this replica may start a send for the workspace:
        HOLD_MARGIN_S before its lease ends, so that a send started in time is over before
        another replica can take the workspace over."""
        return self._leases.get(team_id, -math.inf) - HOLD_MARGIN_S

    def _may_call(self, team_id: str) -> None:
        """Each call to Slack for a row starts before the replica's hold on the workspace
        ends (the row goes back otherwise: nothing of it was sent)."""
        if time.monotonic() > self._holds_until(team_id):
            raise _NotYet(0.0)

    async def invited(self, team_id: str, channel_id: str) -> int:
        """Hypobot was invited to (or joined) a channel: what waited for it is due now, and
        goes out at once. Returns how many rows were waiting."""
        self._members.add((team_id, channel_id))
        released = await store.release_held(team_id, channel_id, now=self.clock())
        if released:
            self.send_soon(team_id, channel_id)
        log.info(
            "outbox.invited",
            extra={"team_id": team_id, "channel_id": channel_id, "released": released},
        )
        return released

    async def _deliver_one(
        self, row: Outbox, now: datetime, report: DeliveryReport, deadline: float
    ) -> float | None:
        """Send one row; the seconds Slack asked us to wait, when it rate-limited us."""
        # A card waits for an earlier sync of it; a nudge queued with its bet's first card
        # (an imported bet) waits for that card, to go in its thread.
        kind = Kind(row.kind)
        card_due = await store.card_due_at(row) if kind.in_bet_thread else None
        if (kind is Kind.CARD and await store.older_unsent_card(row)) or card_due is not None:
            await store.mark_retry(
                row, at=_look_again(now, card_due), error=row.last_error, count_attempt=False
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
            ts = await self._send_joining(client, row, now, deadline)
        except _NotInvited:
            raise _Held(await self._await_invite(client, row, now, report)) from None
        except SlackApiError as error:
            return await self._on_api_error(row, error, now, report)
        except NETWORK_ERRORS as error:
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

    async def _send_joining(
        self, client: AsyncWebClient, row: Outbox, now: datetime, deadline: float
    ) -> str | None:
        """Send at the row's turn under Slack's limits, as a member of its channel."""
        turns = await self._turn(row, deadline)
        channel = (row.team_id, row.channel_id)
        try:
            ts = await self._send_as_member(client, row, now)
        finally:
            done = self.pacer.clock()
            for bucket in turns:
                bucket.answered(done)
        self._members.add(channel)
        return ts

    async def _send_as_member(
        self, client: AsyncWebClient, row: Outbox, now: datetime
    ) -> str | None:
        """Hypobot joins a public channel before a bet's card goes up there (and whenever
        Slack says it is not in one), so that it hears the replies in the card's thread.
        Raises _NotInvited for a channel it cannot join (private: someone must invite it)."""
        channel = (row.team_id, row.channel_id)
        async with self._gate:
            joinable = True
            if row.kind == Kind.CARD and channel not in self._members:
                self._may_call(row.team_id)
                joinable = await self._join(client, row)
            try:
                self._may_call(row.team_id)
                ts = await self._send(client, row, now)
            except SlackApiError as error:
                if error.response.get("error") not in NOT_MEMBER:
                    raise
                self._members.discard(channel)
                if not (joinable and await self._join(client, row)):
                    raise _NotInvited from error
                self.pacer.extra(row.team_id, row.channel_id)  # Slack counted the refusal
                self._may_call(row.team_id)
                ts = await self._send(client, row, now)
        return ts

    async def _join(self, client: AsyncWebClient, row: Outbox) -> bool:
        """Join the row's channel; False when Slack says it cannot be joined (private)."""
        try:
            await client.conversations_join(channel=row.channel_id)
        except SlackApiError as error:
            if error.response.get("error") in CANNOT_JOIN:
                return False
            raise
        self._members.add((row.team_id, row.channel_id))
        log.info("outbox.joined", extra={"team_id": row.team_id, "channel_id": row.channel_id})
        return True

    async def _await_invite(
        self, client: AsyncWebClient, row: Outbox, now: datetime, report: DeliveryReport
    ) -> datetime:
        """Hold the row, and every other row of its channel, until Hypobot is invited (the
        member_joined_channel event releases them) or the next recheck; ask the bet's
        creator, once per channel, to invite Hypobot. Returns when the rows are due again."""
        until = now + INVITE_RECHECK
        if row.last_error == INVITE_ASKED:  # a recheck of the row that asked
            error = INVITE_ASKED
        elif await store.invite_asked(row):
            error = AWAITING_INVITE
        else:
            error = INVITE_ASKED if await self._ask_for_invite(client, row) else AWAITING_INVITE
        await store.mark_retry(row, at=until, error=error, count_attempt=False)
        await store.hold_channel(row, until)
        report.awaiting_invite += 1
        metrics.outbox_delivery("awaiting_invite")
        log.info(
            "outbox.awaiting_invite",
            extra={"outbox_id": row.id, "team_id": row.team_id, "channel_id": row.channel_id},
        )
        return until

    async def _ask_for_invite(self, client: AsyncWebClient, row: Outbox) -> bool:
        """Tell the bet's creator, in a message only they see in the channel, or (as Slack
        shows no such message where Hypobot cannot see the channel) in Hypobot's direct
        message with them. True when one of the two went out."""
        bet = await bet_store.bet_by_id(row.team_id, row.bet_id) if row.bet_id else None
        if bet is None:
            return False  # a digest or notice: the next bet's card asks
        text = INVITE_NEEDED.format(channel=row.channel_id)
        try:
            await client.chat_postEphemeral(channel=row.channel_id, user=bet.creator_id, text=text)
            return True
        except (SlackApiError, *NETWORK_ERRORS) as error:
            log.info("outbox.invite_ephemeral_failed", extra={"error": _code(error)})
        try:
            await client.chat_postMessage(channel=bet.creator_id, text=text)
            return True
        except (SlackApiError, *NETWORK_ERRORS) as error:
            log.warning("outbox.invite_not_asked", extra={"error": _code(error)})
        return False

    async def _send(self, client: AsyncWebClient, row: Outbox, now: datetime) -> str | None:
        metadata = {"event_type": METADATA_TYPE, "event_payload": {"outbox_id": row.id}}
        payload = dict(row.payload)
        thread_ts = row.thread_ts
        kind = Kind(row.kind)
        render = self.renderers.get(kind)
        if render is not None:  # made from what the row points at, as it is now
            post = await render(row, now)
            if post is None:
                return None  # what it shows is gone (a purged bet, a board turned off)
            if isinstance(post, CanvasEdit):
                await self._edit(client, row.team_id, post)
                return None
            payload = post.payload
            if post.update_ts:
                response = await client.chat_update(
                    channel=row.channel_id, ts=post.update_ts, **payload
                )
                return str(response["ts"])
        elif kind.in_bet_thread and row.bet_id and not thread_ts:
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

    async def _edit(self, client: AsyncWebClient, team_id: str, edit: CanvasEdit) -> None:
        """canvases.edit once the edits that left before it allow: its turn was taken before
        its board was rendered, and a slow render (a busy database) would otherwise send it
        together with the edits whose turns came after it."""
        leaving = self.pacer.canvas_sends(team_id)
        now = self.pacer.clock()
        start = leaving.reserve(now, leaving.paused_until)
        try:
            if start > now:
                await asyncio.sleep(start - now)
            await client.canvases_edit(canvas_id=edit.canvas_id, changes=edit.changes())
        finally:
            leaving.answered(self.pacer.clock())

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
            failed = self.on_failed.get(Kind(row.kind))
            if failed is not None:
                await failed(row, code, now)
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


def from_settings(
    settings: Settings,
    *,
    renderers: Mapping[Kind, Render],
    on_failed: Mapping[Kind, OnFailed] | None = None,
    clock: Callable[[], datetime] = _now,
    clients: SlackClients | None = None,
) -> Sender:
    """The sender the settings call for: their Slack clients (`clients` instead, say a
    test's) and their pace (SLACK_CHANNEL_POSTS_PER_SECOND and the rest)."""
    return Sender(
        clients or for_settings(settings),
        renderers=renderers,
        on_failed=on_failed,
        clock=clock,
        limits=Limits(
            channel_rate=settings.slack_channel_posts_per_second,
            channel_burst=settings.slack_channel_post_burst,
            workspace_rate=settings.slack_workspace_posts_per_second,
            workspace_burst=settings.slack_workspace_post_burst,
            canvas_rate=settings.slack_canvas_edits_per_minute / 60,
            canvas_burst=settings.slack_canvas_edit_burst,
            board_every_s=settings.hypobot_board_every_s,
        ),
    )
