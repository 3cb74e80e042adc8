"""Pacing under Slack's limits: about one post a second per channel with short bursts, and a
workspace-wide rate; token buckets per workspace and per channel."""

from __future__ import annotations

import math
from collections.abc import Callable
from dataclasses import dataclass
from typing import Any

# Post this long after the moment a bucket says a post may go: our clock and Slack's see the
# same post a few milliseconds apart, and a post that arrives a hair early is a 429.
MARGIN_S = 0.05


@dataclass(frozen=True)
class Limits:
    """How fast the outbox posts: Slack allows about one post a second per channel with short
    bursts, and a workspace-wide rate (ops.settings: SLACK_CHANNEL_POSTS_PER_SECOND,
    SLACK_CHANNEL_POST_BURST, SLACK_WORKSPACE_POSTS_PER_SECOND, SLACK_WORKSPACE_POST_BURST)."""

    channel_rate: float = 1.0
    channel_burst: int = 3
    workspace_rate: float = 20.0
    workspace_burst: int = 40
    # Boards: canvases.edit per workspace (Slack's tier 3: 50+ a minute, SLACK_CANVAS_EDITS_
    # PER_MINUTE, SLACK_CANVAS_EDIT_BURST), and one rewrite of a board at most every
    # `board_every_s` (HYPOBOT_BOARD_EVERY_S): changes made meanwhile go out together.
    canvas_rate: float = 50 / 60
    canvas_burst: int = 5
    board_every_s: float = 10.0


class Bucket:
    """A token bucket (`burst` posts at once, then `rate` a second), kept as the moment it
    would be full again ("generic cell rate"): a post reserves its turn at once, so the
    posts of many channels queue for a workspace's turns in the order they asked.

    Slack counts a post when it arrives, after we sent it and before its answer comes back:
    `answered()` moves the schedule to the answers' times (the n-th answer standing for the
    n-th post Slack counted), so that posts that were slow to arrive (a new connection, a
    busy machine) cannot make the later ones early by Slack's count."""

    def __init__(self, rate: float, burst: int) -> None:
        self.interval = 1.0 / rate
        self.tolerance = (max(1, burst) - 1) * self.interval
        self.full_at = -math.inf  # "theoretical arrival time" of the next post
        self.paused_until = -math.inf
        self.reserved = 0  # turns handed out so far
        self.answered_count = 0  # of which answered (or given up)

    def turn(self, now: float, not_before: float = -math.inf) -> float:
        """When a post asked for at `now` may go, without reserving it."""
        ready = max(now, self.full_at - self.tolerance, self.paused_until, not_before)
        return ready if ready <= now else ready + MARGIN_S

    def reserve(self, now: float, not_before: float = -math.inf) -> float:
        """Reserve the next turn; returns when the post may go (`now` if at once)."""
        ready = max(now, self.full_at - self.tolerance, self.paused_until, not_before)
        self.full_at = max(self.full_at, ready) + self.interval
        self.reserved += 1
        return ready if ready <= now else ready + MARGIN_S

    def answered(self, done: float) -> None:
        """A post came back at `done`: Slack counted it no later than that, and the turns
        not answered yet come after it."""
        self.answered_count += 1
        waiting = self.reserved - self.answered_count + 1  # this one included
        self.full_at = max(self.full_at, done + waiting * self.interval)

    def unused(self) -> None:
        """A reserved turn that was not used after all."""
        self.answered_count += 1

    def limited(self, now: float, retry_after: float) -> None:
        """Slack answered 429: its bucket was empty at `now`, and nothing may go before
        `retry_after` has passed (the bucket refills meanwhile, as Slack's does)."""
        self.paused_until = max(self.paused_until, now + retry_after)
        self.full_at = max(self.full_at, now + self.tolerance + self.interval)  # 0 tokens

    def extra(self, now: float) -> None:
        """A post made without a turn of its own (sent again after joining the channel)."""
        self.reserve(now)
        self.answered(now)

    def idle(self, now: float) -> bool:
        return self.full_at <= now and self.paused_until <= now


class Pacer:
    """One bucket per workspace and one per channel for posts; for boards, one per board, one
    per workspace for canvases.edit (its own Slack limit), and the workspace's. Workspaces
    never share a bucket, so a busy or rate-limited workspace never slows another; a 429
    holds back the whole workspace's posts for its Retry-After (Slack does not say which
    limit it hit), or its canvas edits when an edit got it."""

    PRUNE_AT = 10_000  # buckets kept before idle ones are forgotten

    def __init__(self, limits: Limits, clock: Callable[[], float]) -> None:
        self.limits = limits
        self.clock = clock
        self._workspaces: dict[str, Bucket] = {}
        self._channels: dict[tuple[str, str], Bucket] = {}
        self._canvases: dict[str, Bucket] = {}
        self._canvas_sends: dict[str, Bucket] = {}
        self._boards: dict[tuple[str, str], Bucket] = {}

    @staticmethod
    def _get(
        buckets: dict[Any, Bucket],
        key: Any,
        make: Callable[[], Bucket],
        prune: Callable[[dict[Any, Bucket]], None],
    ) -> Bucket:
        bucket = buckets.get(key)
        if bucket is None:
            prune(buckets)
            bucket = make()
            buckets[key] = bucket
        return bucket

    def workspace(self, team_id: str) -> Bucket:
        limits = self.limits
        return self._get(
            self._workspaces,
            team_id,
            lambda: Bucket(limits.workspace_rate, limits.workspace_burst),
            self._prune,
        )

    def channel(self, team_id: str, channel_id: str) -> Bucket:
        limits = self.limits
        return self._get(
            self._channels,
            (team_id, channel_id),
            lambda: Bucket(limits.channel_rate, limits.channel_burst),
            self._prune,
        )

    def canvas(self, team_id: str) -> Bucket:
        limits = self.limits
        return self._get(
            self._canvases,
            team_id,
            lambda: Bucket(limits.canvas_rate, limits.canvas_burst),
            self._prune,
        )

    def canvas_sends(self, team_id: str) -> Bucket:
        """The workspace's canvas edits again, taken as each edit leaves (after its board is
        rendered, which takes as long as the database does) rather than when its turn came:
        edits whose renders came out late must not leave together (Slack counts arrivals)."""
        limits = self.limits
        return self._get(
            self._canvas_sends,
            team_id,
            lambda: Bucket(limits.canvas_rate, limits.canvas_burst),
            self._prune,
        )

    def board(self, team_id: str, channel_id: str) -> Bucket:
        every = self.limits.board_every_s
        return self._get(
            self._boards,
            (team_id, channel_id),
            lambda: Bucket(1 / every if every > 0 else 1e6, 1),
            self._prune,
        )

    def lane(self, team_id: str, channel_id: str, *, canvas: bool) -> tuple[Bucket, ...]:
        """The buckets a call takes a turn in, in order: the last holds a 429's pause."""
        if canvas:
            return (self.board(team_id, channel_id), self.workspace(team_id), self.canvas(team_id))
        return (self.channel(team_id, channel_id), self.workspace(team_id))

    def paused_for(self, team_id: str, *, canvas: bool = False) -> float:
        """Seconds the workspace's posts (or canvas edits) are still held back by a 429."""
        pauser = self.canvas(team_id) if canvas else self.workspace(team_id)
        return max(0.0, pauser.paused_until - self.clock())

    def extra(self, team_id: str, channel_id: str) -> None:
        now = self.clock()
        self.channel(team_id, channel_id).extra(now)
        self.workspace(team_id).extra(now)

    def limited(
        self, team_id: str, channel_id: str, retry_after: float, *, canvas: bool = False
    ) -> None:
        now = self.clock()
        held = (
            (self.board(team_id, channel_id), self.canvas(team_id), self.canvas_sends(team_id))
            if canvas
            else (
                self.channel(team_id, channel_id),
                self.workspace(team_id),
            )
        )
        for bucket in held:
            bucket.limited(now, retry_after)

    def _prune(self, buckets: dict[Any, Bucket]) -> None:
        if len(buckets) >= self.PRUNE_AT:
            now = self.clock()
            for key in [key for key, bucket in buckets.items() if bucket.idle(now)]:
                del buckets[key]
