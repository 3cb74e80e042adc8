"""The outbox against Slack's posting limits: N queued messages, one per channel, delivered
through a fake Slack (its own process, on loopback) that allows 1 chat.postMessage a second
per channel with a burst of 3 and, per workspace, 20 a second with a burst of 40, answering
429 with Retry-After beyond that.

    python -m bench.pacing [--quick] [--workspace-rate 20] [--workspace-burst 40] [--compare]
    python -m bench.pacing --replicas 3 [--kill-one-after 3]

Scenarios: 200 channels of one workspace; 1,000 channels across 10 workspaces (100 each).
With --replicas N: 600 channels of one workspace, and 1,000 across 10 workspaces, sent by N
senders at once, each in its own process, as N replicas on one PostgreSQL would; with
--kill-one-after S, one of them is killed (SIGKILL) S seconds in.
Prints per scenario: messages delivered, total time, the floor (the time the fake's limits
allow), total / floor, 429 answers and their share of the posts, lost and duplicated.
Targets: <= 1.1 x the floor, <= 2 % of posts answered 429, 0 lost, 0 duplicated (with one
sender killed: nothing lost or doubled, its workspaces taken over once its 30 s lease lapses).
"""

from __future__ import annotations

import argparse
import asyncio
import math
import sys
import time
from collections import Counter
from dataclasses import dataclass, field
from datetime import UTC, datetime
from typing import Any

import aiohttp
from aiohttp import web

from bench import common
from bench.sweep import postgres_cpu
from console.fakeslack import FakeSlack
from jobs.scheduler import INTERVALS
from outbox.clients import InstalledWorkspaces
from outbox.pacing import Limits
from outbox.sender import Sender
from storage import db
from storage.models import Outbox, SenderLease

TARGET_RATIO = 1.1
TARGET_429_SHARE = 0.02
DEADLINE_S = 300
SCENARIOS = ((1, 200), (10, 100))  # (workspaces, channels in each)
REPLICA_SCENARIOS = ((1, 600), (10, 100))
QUICK = ((1, 60), (3, 60))


@dataclass(frozen=True)
class SlackLimits:
    """What the fake enforces (and, unless --compare turns it off, the outbox keeps to)."""

    channel_rate: float = 1.0
    channel_burst: int = 3
    workspace_rate: float = 20.0
    workspace_burst: int = 40

    def floor(self, per_channel: Counter[str], per_workspace: Counter[str]) -> float:
        """A bucket holding `burst` posts and refilling at `rate` a second lets its k-th post
        go no sooner than (k - burst) / rate after the first: the delivery can finish no
        sooner than its slowest channel or workspace."""
        channel = max(per_channel.values(), default=0)
        workspace = max(per_workspace.values(), default=0)
        return max(
            max(0, channel - self.channel_burst) / self.channel_rate,
            max(0, workspace - self.workspace_burst) / self.workspace_rate,
        )


def team_ids(workspaces: int) -> list[str]:
    return [f"T{w:02d}" for w in range(workspaces)]


def channel_ids(team_id: str, channels: int) -> list[str]:
    return [f"C{team_id[1:]}{n:04d}" for n in range(channels)]


@dataclass
class Result:
    workspaces: int
    channels: int
    paced: bool
    replicas: int = 1
    killed: bool = False
    queued: int = 0
    delivered: int = 0
    total_s: float = 0.0
    floor_s: float = 0.0
    posts: int = 0  # chat.postMessage calls the fake answered
    ratelimited: int = 0
    lost: int = 0
    duplicated: int = 0
    unsent: int = 0
    failed: int = 0
    passes: int = 0
    finished: bool = True
    calls: dict[str, int] = field(default_factory=dict)
    limited_at: list[list[float]] = field(default_factory=list)
    posts_between: list[float] = field(default_factory=list)  # s after the start: first, last
    posts_per_half_second: list[int] = field(default_factory=list)
    cpu_s: dict[str, float] = field(default_factory=dict)  # CPU seconds while delivering

    @property
    def ratio(self) -> float:
        return self.total_s / self.floor_s if self.floor_s else math.inf

    @property
    def share_429(self) -> float:
        return self.ratelimited / self.posts if self.posts else 0.0


# --- the fake, in its own process ----------------------------------------------------------


def fake_report(fake: FakeSlack) -> dict[str, Any]:
    posted = []
    for channel, messages in fake.messages.items():
        for message in messages:
            payload = (message.get("metadata") or {}).get("event_payload") or {}
            posted.append([channel, payload.get("outbox_id")])
    calls = Counter(call.method for call in fake.calls)
    ratelimited = sum(call.status == 429 for call in fake.calls)
    posts = [call for call in fake.calls if call.method == "chat.postMessage"]
    limited_at = [  # (seconds after the first post, posts before it) of each 429
        [round(call.at - posts[0].at, 3), index]
        for index, call in enumerate(posts)
        if call.status == 429
    ]
    return {
        "posted": posted,
        "calls": dict(calls),
        "ratelimited": ratelimited,
        "limited_at": limited_at,
        # monotonic clock readings (system-wide on Linux: comparable with the bench's)
        "posts_between": [posts[0].at, posts[-1].at] if posts else [],
        "posts_per_half_second": list(
            Counter(int((call.at - posts[0].at) * 2) for call in posts).values()
        ),
    }


async def serve_fake(limits: SlackLimits, workspaces: int, channels: int) -> None:
    """Serve the fake until SIGTERM; print its base URL first. Hypobot is in every channel."""
    fake = FakeSlack(team_ids(1)[0])
    fake.per_channel_rate, fake.burst = limits.channel_rate, limits.channel_burst
    fake.per_workspace_rate = limits.workspace_rate
    fake.workspace_burst = limits.workspace_burst
    for team_id in team_ids(workspaces):
        fake.members |= {(team_id, channel) for channel in channel_ids(team_id, channels)}
    app = fake.web_app()

    async def report(_: web.Request) -> web.Response:
        return web.json_response(fake_report(fake))

    app.router.add_get("/bench/report", report)
    await common.serve_until_stopped(fake, app)


def fake_slack(limits: SlackLimits, workspaces: int, channels: int) -> Any:
    """The fake in its own process; yields its Web API base URL and its pid."""
    return common.fake_process(
        "bench.pacing",
        "--serve-fake",
        *("--workspaces", str(workspaces), "--channels", str(channels)),
        *("--channel-rate", str(limits.channel_rate)),
        *("--channel-burst", str(limits.channel_burst)),
        *("--workspace-rate", str(limits.workspace_rate)),
        *("--workspace-burst", str(limits.workspace_burst)),
    )


async def report_of(base_url: str) -> dict[str, Any]:
    async with (
        aiohttp.ClientSession() as session,
        session.get(f"{base_url.removesuffix('api/')}bench/report") as response,
    ):
        found: dict[str, Any] = await response.json()
        return found


# --- one scenario --------------------------------------------------------------------------


async def queue(workspaces: int, channels: int, now: datetime) -> int:
    rows = [
        Outbox(
            team_id=team_id,
            channel_id=channel_id,
            kind="digest",
            payload={"text": f"Hypobot digest for <#{channel_id}>"},
            next_attempt_at=now,
            created_at=now,
        )
        for team_id in team_ids(workspaces)
        for channel_id in channel_ids(team_id, channels)
    ]
    await Outbox.bulk_create(rows, batch_size=500)
    return len(rows)


async def deliver_everything(sender: Sender, interval: float) -> tuple[int, bool]:
    """Outbox passes as `hypobot serve` runs them (one starts `interval` seconds after the
    last started, at once if that took longer, and not before the next row is due)."""
    deadline = time.monotonic() + DEADLINE_S
    passes = 0
    while time.monotonic() < deadline:
        started = time.monotonic()
        report = await sender.deliver(now=datetime.now(UTC))
        passes += 1
        pending = (
            await Outbox.filter(status__in=("pending", "sending"))
            .order_by("next_attempt_at")
            .first()
        )
        if pending is None:
            return passes, True
        due_in = (pending.next_attempt_at - datetime.now(UTC)).total_seconds()
        if not (report.sent or report.retried or report.failed):
            due_in = interval  # nothing here was ours to send: another replica's workspace
        await asyncio.sleep(max(due_in, started + interval - time.monotonic(), 0.02))
    return passes, False


def our_limits(limits: SlackLimits, *, paced: bool) -> Limits:
    if not paced:
        return Limits(1e6, 10**6, 1e6, 10**6)
    return Limits(
        limits.channel_rate, limits.channel_burst, limits.workspace_rate, limits.workspace_burst
    )


async def scenario(
    workspaces: int,
    channels: int,
    limits: SlackLimits,
    *,
    paced: bool,
    interval: float,
    replicas: int = 1,
    kill_after: float | None = None,
) -> Result:
    result = Result(workspaces, channels, paced, replicas, kill_after is not None)
    async with (
        common.postgres_database("pacing") as url,
        fake_slack(limits, workspaces, channels) as (api, fake_pid),
    ):
        await db.migrate(url)
        await db.connect(url, upgrade=False)
        clients = InstalledWorkspaces(_token, api)
        try:
            result.queued = await queue(workspaces, channels, datetime.now(UTC))
            cpu = {"bench (the outbox)": time.process_time(), "fake Slack": 0.0}
            cpu["fake Slack"] = common.cpu_seconds(fake_pid)
            cpu["PostgreSQL"] = await postgres_cpu()
            begin = time.monotonic()
            if replicas == 1:
                sender = Sender(clients, renderers={}, limits=our_limits(limits, paced=paced))
                result.passes, result.finished = await deliver_everything(sender, interval)
            else:
                begin, (result.passes, result.finished) = await run_replicas(
                    url,
                    api,
                    limits,
                    paced=paced,
                    interval=interval,
                    count=replicas,
                    kill_after=kill_after,
                )
            result.total_s = time.monotonic() - begin
            result.cpu_s = {
                "bench (the outbox)": time.process_time() - cpu["bench (the outbox)"],
                "fake Slack": common.cpu_seconds(fake_pid) - cpu["fake Slack"],
                "PostgreSQL": await postgres_cpu() - cpu["PostgreSQL"],
            }
            await check(result, api, limits)
            result.posts_between = [at - begin for at in result.posts_between]
            if replicas > 1 and result.posts_between:
                # until the last message was in Slack: the replicas' own exits (after their
                # next pass found nothing left) are not part of the delivery
                result.total_s = result.posts_between[1]
        finally:
            await clients.close()
            await db.disconnect()
    return result


# --- replicas, each a process of its own ----------------------------------------------------


async def run_replicas(
    url: str,
    api: str,
    limits: SlackLimits,
    *,
    paced: bool,
    interval: float,
    count: int,
    kill_after: float | None,
) -> tuple[float, tuple[int, bool]]:
    """`count` senders at once, as replicas on one database; the first killed with SIGKILL
    `kill_after` seconds in. Returns when they started (monotonic: once every process had
    started up and connected, when they were all told to go), and (passes of all of them,
    whether every row was sent)."""
    args = ["--as-replica", "--database", url, "--api", api, "--interval", str(interval)]
    args += [
        "--channel-rate",
        str(limits.channel_rate),
        "--channel-burst",
        str(limits.channel_burst),
    ]
    args += ["--workspace-rate", str(limits.workspace_rate)]
    args += ["--workspace-burst", str(limits.workspace_burst)]
    if not paced:
        args.append("--compare")
    processes = [
        await asyncio.create_subprocess_exec(
            sys.executable,
            "-m",
            "bench.pacing",
            *args,
            cwd=common.ROOT,
            stdin=asyncio.subprocess.PIPE,
            stdout=asyncio.subprocess.PIPE,
        )
        for _ in range(count)
    ]
    owners: dict[str, asyncio.subprocess.Process] = {}
    for process in processes:  # each says it is ready (started up and connected), and who
        assert process.stdout is not None
        owners[(await process.stdout.readline()).decode().split()[-1]] = process
    begin = time.monotonic()
    for process in processes:
        assert process.stdin is not None
        process.stdin.write(b"go\n")
        await process.stdin.drain()
    if kill_after is not None:
        await asyncio.sleep(kill_after)
        # the one sending most: it holds workspaces' leases and has rows claimed
        held = Counter(await SenderLease.all().values_list("owner", flat=True))
        victim = owners[held.most_common(1)[0][0]] if held else processes[0]
        victim.kill()
        print(f"  killed the sender holding {max(held.values(), default=0)} workspace(s)")
    outputs = await asyncio.gather(*(process.communicate() for process in processes))
    passes = sum(int(out.decode().strip() or 0) for out, _ in outputs)
    left = await Outbox.filter(status__in=("pending", "sending")).count()
    return begin, (passes, left == 0)


async def replica(args: argparse.Namespace) -> None:
    """One replica's sender: outbox passes until nothing is left to send; prints its passes."""
    limits = SlackLimits(
        args.channel_rate, args.channel_burst, args.workspace_rate, args.workspace_burst
    )
    await db.connect(args.database, upgrade=False)
    clients = InstalledWorkspaces(_token, args.api)
    try:
        sender = Sender(clients, renderers={}, limits=our_limits(limits, paced=not args.compare))
        print(f"ready {sender.owner}", flush=True)
        await asyncio.get_running_loop().run_in_executor(None, sys.stdin.readline)
        began = time.monotonic()
        passes, _ = await deliver_everything(sender, args.interval)
        print(
            f"  a sender: {passes} passes, {sender.background.sent} sent by rings, "
            f"done after {time.monotonic() - began:.2f} s",
            file=sys.stderr,
        )
        await sender.stop()
    finally:
        await clients.close()
        await db.disconnect()
    print(passes, flush=True)


async def _token(team_id: str) -> str:
    return f"xoxb-fake-{team_id}"  # the fake knows each workspace by its token


async def check(result: Result, api: str, limits: SlackLimits) -> None:
    rows = await Outbox.all().values("id", "team_id", "channel_id", "status")
    result.unsent = sum(row["status"] in ("pending", "sending") for row in rows)
    result.failed = sum(row["status"] == "failed" for row in rows)
    report = await report_of(api)
    received = Counter(outbox_id for _, outbox_id in report["posted"] if outbox_id)
    queued = {row["id"] for row in rows}
    result.delivered = len(queued & received.keys())
    result.lost = len(queued - received.keys()) - result.unsent
    result.duplicated = sum(count - 1 for count in received.values() if count > 1)
    result.calls = report["calls"]
    result.posts = report["calls"].get("chat.postMessage", 0)
    result.ratelimited = report["ratelimited"]
    result.limited_at = report["limited_at"]
    result.posts_between = report["posts_between"]
    result.posts_per_half_second = report["posts_per_half_second"]
    result.floor_s = limits.floor(
        Counter(row["channel_id"] for row in rows), Counter(row["team_id"] for row in rows)
    )


# --- the table -----------------------------------------------------------------------------


def rows_of(result: Result) -> list[Any]:
    meets = (
        # killed: its workspaces wait for its sending lease to lapse (SENDING_LEASE), then
        # go on; the targets are nothing lost, nothing doubled, few 429s
        (result.killed or result.ratio <= TARGET_RATIO)
        and result.share_429 <= TARGET_429_SHARE
        and result.lost == 0
        and result.duplicated == 0
        and result.finished
    )
    senders = f"{result.replicas} senders" + (", one killed" if result.killed else "")
    return [
        f"{result.workspaces} x {result.channels}",
        ("paced" if result.paced else "unpaced") + f", {senders}",
        f"{result.delivered:,}/{result.queued:,}",
        round(result.total_s, 2),
        round(result.floor_s, 2),
        f"{result.ratio:.2f}x",
        result.ratelimited,
        f"{100 * result.share_429:.1f}%",
        result.lost,
        result.duplicated,
        result.passes,
        round(sum(result.cpu_s.values()), 1),
        "meets" if meets else "MISSES",
    ]


HEADERS = [
    "workspaces x channels",
    "outbox",
    "delivered",
    "total s",
    "floor s",
    "total/floor",
    "429s",
    "429s/posts",
    "lost",
    "duplicated",
    "passes",
    "CPU s",
    "targets",
]


async def main(args: argparse.Namespace) -> None:
    limits = SlackLimits(
        args.channel_rate, args.channel_burst, args.workspace_rate, args.workspace_burst
    )
    results = []
    scenarios = QUICK if args.quick else REPLICA_SCENARIOS if args.replicas > 1 else SCENARIOS
    for workspaces, channels in scenarios:
        for paced in (True, False) if args.compare else (True,):
            print(
                f"  {workspaces} x {channels}, {'paced' if paced else 'unpaced'}, "
                f"{args.replicas} sender(s)…",
                file=sys.stderr,
            )
            results.append(
                await scenario(
                    workspaces,
                    channels,
                    limits,
                    paced=paced,
                    interval=args.interval,
                    replicas=args.replicas,
                    kill_after=args.kill_one_after,
                )
            )
    print(
        f"\nOutbox delivery of one message per channel, PostgreSQL, fake Slack in its own process "
        f"enforcing {limits.channel_rate:g}/s burst {limits.channel_burst} per channel and "
        f"{limits.workspace_rate:g}/s burst {limits.workspace_burst} per workspace "
        f"(429 with Retry-After beyond)"
    )
    print(
        f"targets: total <= {TARGET_RATIO} x floor, 429s <= {100 * TARGET_429_SHARE:g} % of "
        "posts, 0 lost, 0 duplicated\n"
    )
    print(common.table(HEADERS, [rows_of(result) for result in results]))
    print(
        "\nCPU s: what this process (the outbox), the fake Slack and PostgreSQL used while "
        "delivering; near 2 x total s on a 2-core machine, the machine was the limit."
    )
    path = common.write_json(
        "pacing", {"limits": vars(limits), "results": [vars(result) for result in results]}
    )
    print(f"\n(JSON: {path.relative_to(common.ROOT)})")


def arguments() -> argparse.Namespace:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--quick", action="store_true", help="60 channels; 3 x 60 channels")
    parser.add_argument("--compare", action="store_true", help="also run with pacing off")
    parser.add_argument("--channel-rate", type=float, default=1.0)
    parser.add_argument("--channel-burst", type=int, default=3)
    parser.add_argument("--workspace-rate", type=float, default=20.0)
    parser.add_argument("--workspace-burst", type=int, default=40)
    parser.add_argument(
        "--interval",
        type=float,
        default=float(INTERVALS["outbox"]),
        help="seconds between outbox passes (hypobot serve's)",
    )
    parser.add_argument(
        "--replicas", type=int, default=1, help="senders at once, each in its own process"
    )
    parser.add_argument(
        "--kill-one-after",
        type=float,
        default=None,
        metavar="S",
        help="with --replicas: SIGKILL one of them S seconds in",
    )
    parser.add_argument("--serve-fake", action="store_true", help=argparse.SUPPRESS)
    parser.add_argument("--as-replica", action="store_true", help=argparse.SUPPRESS)
    parser.add_argument("--database", help=argparse.SUPPRESS)
    parser.add_argument("--api", help=argparse.SUPPRESS)
    parser.add_argument("--workspaces", type=int, default=1, help=argparse.SUPPRESS)
    parser.add_argument("--channels", type=int, default=200, help=argparse.SUPPRESS)
    return parser.parse_args()


if __name__ == "__main__":
    arguments_given = arguments()
    if arguments_given.serve_fake:
        limits_given = SlackLimits(
            arguments_given.channel_rate,
            arguments_given.channel_burst,
            arguments_given.workspace_rate,
            arguments_given.workspace_burst,
        )
        asyncio.run(serve_fake(limits_given, arguments_given.workspaces, arguments_given.channels))
    elif arguments_given.as_replica:
        asyncio.run(replica(arguments_given))
    else:
        asyncio.run(main(arguments_given))
