"""The digest and nudge sweep at scale: N channels x M bets in a fresh PostgreSQL database,
every channel with a digest due and a few nudges due at `--at`, passes run as `Jobs(...)`
in this process, then the outbox until everything is delivered to a fake Slack (its own
process, on loopback) that allows 1 chat.postMessage per second per channel with a burst.

    python -m bench.sweep [--quick] [--channels 1000] [--bets 100] [--at ISO] [--burst 3]

Prints queries per channel (Tortoise's SQL, counted on the tortoise.db_client logger),
compute time against delivery time, total time against the rate-limit floor, and messages
lost or duplicated (the outbox's rows against what the fake accepted).
"""

from __future__ import annotations

import argparse
import asyncio
import contextvars
import sys
import time
from collections import Counter
from collections.abc import Awaitable, Callable
from dataclasses import dataclass, field
from datetime import UTC, datetime, timedelta
from typing import Any

import aiohttp

from bench import common, prototypes, seed
from bot.renderers import ON_FAILED, RENDERERS
from jobs.scheduler import INTERVALS, Jobs
from ops.settings import Settings
from outbox.queue import DOORBELL
from outbox.sender import from_settings
from storage import db
from storage.models import Outbox

AT = datetime(2026, 11, 3, 9, 30, tzinfo=UTC)  # a Tuesday
TARGET = 1.1  # total <= 1.1 x the floor
WORKSPACE_UNLIMITED = 10_000.0  # posts a second: the workspace limit out of the way
DEADLINE_S = 300  # give up delivering after this long (and say so)
OUTBOX_INTERVAL = float(INTERVALS["outbox"])  # seconds between outbox passes in `serve`


@dataclass
class Phase:
    seconds: float = 0.0
    queries: int = 0


@dataclass
class Result:
    channels: int
    bets_per_channel: int
    seed_s: float
    compute: Phase = field(default_factory=Phase)
    delivery: Phase = field(default_factory=Phase)
    total_s: float = 0.0
    per_channel_messages: Counter[str] = field(default_factory=Counter)
    by_kind: Counter[str] = field(default_factory=Counter)
    floor_s: float = 0.0
    burst: int = 3
    rate: float = 1.0
    lost: int = 0
    duplicated: int = 0
    unsent: int = 0
    failed: int = 0
    ratelimited: int = 0
    passes: dict[str, Any] = field(default_factory=dict)
    cpu: dict[str, float] = field(default_factory=dict)  # CPU seconds during the sweep
    finished: bool = True

    @property
    def busiest(self) -> int:
        return max(self.per_channel_messages.values(), default=0)


class TimedCourier:
    """Splits the sweep into compute and delivery. The passes start delivering each
    channel's messages as soon as they are queued, so the two overlap: compute is the time
    until a pass has queued its last channel (it then waits on the sender's drain()), and
    a statement counts as delivery when the sender's own tasks send it."""

    def __init__(self, sender: Any, counter: common.QueryCounter, result: Result) -> None:
        self.sender = sender
        self.result = result
        self.pass_started = 0.0
        counter.delivering = DELIVERING
        for name in ("_send_rows",):
            setattr(sender, name, self._delivering(getattr(sender, name)))
        self.drain = sender.drain
        sender.drain = self._drain

    @staticmethod
    def _delivering(method: Callable[..., Awaitable[Any]]) -> Callable[..., Awaitable[Any]]:
        async def run(*args: Any, **kwargs: Any) -> Any:
            DELIVERING.set(True)  # this task's statements, and its children's
            return await method(*args, **kwargs)

        return run

    async def run(self, jobs: Jobs, name: str, now: datetime) -> dict[str, Any]:
        self.pass_started = time.perf_counter()
        return await jobs.run(name, now)

    async def _drain(self) -> None:
        self.result.compute.seconds += time.perf_counter() - self.pass_started
        await self.drain()


DELIVERING: contextvars.ContextVar[bool] = contextvars.ContextVar("delivering", default=False)


def fake_slack(rate: float, burst: int) -> Any:
    """The fake in its own process; yields its Web API base URL and its pid."""
    return common.fake_process("bench.fake_server", "--rate", str(rate), "--burst", str(burst))


async def fake_report(base_url: str) -> dict[str, Any]:
    async with aiohttp.ClientSession() as session:
        root = base_url.removesuffix("api/")
        async with session.get(f"{root}bench/report") as response:
            report: dict[str, Any] = await response.json()
            return report


def floor_seconds(per_channel: Counter[str], burst: int, rate: float) -> float:
    """A channel's bucket holds `burst` posts and refills at `rate` per second, so its
    k-th message can go no earlier than (k - burst) / rate after the first; the sweep can
    finish no sooner than its busiest channel: max(0, k_max - burst) / rate."""
    busiest = max(per_channel.values(), default=0)
    return max(0, busiest - burst) / rate


async def deliver_everything(
    jobs: Jobs, clock: Callable[[], datetime], deadline: float, interval: float
) -> tuple[int, int]:
    """Outbox passes until nothing is pending, as `hypobot serve` runs them: a pass starts
    `interval` seconds after the last one started (at once if that one took longer), and
    no sooner than the next row is due.
    Returns (passes, negative when the deadline came first; queries spent polling)."""
    passes = polls = 0
    while time.monotonic() < deadline:
        started = time.monotonic()
        await jobs.run("outbox", clock())
        passes += 1
        polls += 1
        pending = (
            await Outbox.filter(status__in=("pending", "sending"))
            .order_by("next_attempt_at")
            .first()
        )
        if pending is None:
            return passes, polls
        due_in = (pending.next_attempt_at - clock()).total_seconds()
        next_tick = started + interval - time.monotonic()
        await asyncio.sleep(max(due_in, next_tick, 0.02))
    return -passes, polls


async def sweep(
    channels: int,
    bets: int,
    *,
    at: datetime = AT,
    rate: float = 1.0,
    burst: int = 3,
    deadline_s: float = DEADLINE_S,
    interval: float = OUTBOX_INTERVAL,
    quiet: bool = False,
) -> Result:
    """Seed a fresh database, run the digest and nudge passes and the outbox; measure."""
    say = (lambda *_: None) if quiet else (lambda text: print(text, file=sys.stderr))
    async with (
        common.postgres_database("sweep") as url,
        fake_slack(rate, burst) as (api, fake_pid),
    ):
        await db.migrate(url)
        started = time.perf_counter()
        seeded = await seed.write(url, seed.plan(channels, bets, at))
        result = Result(channels, bets, time.perf_counter() - started, burst=burst, rate=rate)
        say(f"  seeded {seeded.bets:,} bets, {seeded.events:,} events in {result.seed_s:.1f}s")
        settings = Settings(
            slack_bot_token=common.BOT_TOKEN,
            slack_signing_secret=common.SIGNING_SECRET,
            slack_api_url=api,
            database_url=url,
            # This bench measures the sweep's work and per-channel pacing at scale, all its
            # channels in one workspace; Slack's workspace-wide limit would make the floor
            # messages / 20 s. `python -m bench.pacing` measures the workspace pacing.
            slack_workspace_posts_per_second=WORKSPACE_UNLIMITED,
            slack_workspace_post_burst=int(WORKSPACE_UNLIMITED),
        )
        await db.connect(url, upgrade=False)
        counter = common.QueryCounter().install()
        try:
            origin = time.monotonic()

            def clock() -> datetime:  # --at, moving on in real time
                return at + timedelta(seconds=time.monotonic() - origin)

            sender = from_settings(settings, renderers=RENDERERS, on_failed=ON_FAILED, clock=clock)
            sender.hear(DOORBELL)
            jobs = Jobs(sender, clock=clock, owner="bench")
            timed = TimedCourier(sender, counter, result)
            begin = time.perf_counter()
            cpu_before = {"fake Slack": common.cpu_seconds(fake_pid), "jobs": time.process_time()}
            result.passes["digests"] = await timed.run(jobs, "digests", clock())
            say(f"  digests pass done at {time.perf_counter() - begin:.1f}s")
            result.passes["nudges"] = await timed.run(jobs, "nudges", clock())
            say(f"  nudges pass done at {time.perf_counter() - begin:.1f}s")
            passes, polls = await deliver_everything(
                jobs, clock, time.monotonic() + deadline_s, interval
            )
            result.finished = passes > 0
            result.passes["outbox_passes"] = abs(passes)
            result.total_s = time.perf_counter() - begin
            # Delivery: the rest, waits for Retry-After included; not our polling.
            result.delivery.seconds = result.total_s - result.compute.seconds
            result.delivery.queries = counter.delivery
            result.compute.queries = counter.count - counter.delivery - polls
            result.cpu = {
                "jobs (this process)": time.process_time() - cpu_before["jobs"],
                "fake Slack": common.cpu_seconds(fake_pid) - cpu_before["fake Slack"],
                "PostgreSQL backends": await postgres_cpu(),
            }
            await check(result, api)
            await sender.stop()
            await sender.clients.close()
        finally:
            counter.remove()
            await db.disconnect()
    result.floor_s = floor_seconds(result.per_channel_messages, burst, rate)
    return result


async def postgres_cpu() -> float:
    """CPU seconds of the server processes serving this database (the pool's connections,
    open since the start of the sweep; their seeding and start-up time is small)."""
    from tortoise import connections

    rows = await connections.get(next(iter(connections.db_config))).execute_query_dict(
        "SELECT pid FROM pg_stat_activity WHERE datname = current_database()"
    )
    return sum(common.cpu_seconds(row["pid"]) for row in rows)


async def check(result: Result, api: str) -> None:
    """What the outbox queued against what the fake accepted."""
    rows = await Outbox.exclude(kind="card").values("id", "channel_id", "kind", "status")
    result.per_channel_messages = Counter(row["channel_id"] for row in rows)
    result.by_kind = Counter(row["kind"] for row in rows)
    result.unsent = sum(row["status"] in ("pending", "sending") for row in rows)
    result.failed = sum(row["status"] == "failed" for row in rows)
    report = await fake_report(api)
    received = Counter(outbox_id for _, outbox_id, _ in report["posted"] if outbox_id)
    queued = {row["id"] for row in rows}
    result.lost = len(queued - received.keys()) - result.unsent
    result.duplicated = sum(count - 1 for count in received.values() if count > 1)
    result.ratelimited = report["ratelimited"]
    if report["block_errors"]:
        print(f"  Block Kit errors: {report['block_errors'][:3]}", file=sys.stderr)


def rows_of(result: Result) -> list[list[Any]]:
    per_channel = result.channels or 1
    ratio = result.total_s / result.floor_s if result.floor_s else float("inf")
    verdict = "meets" if ratio <= TARGET else "MISSES"
    return [
        ["channels x bets", f"{result.channels:,} x {result.bets_per_channel}"],
        ["messages queued (digest/nudge/escalation)", _kinds(result)],
        ["busiest channel's messages (k_max)", result.busiest],
        ["queries per channel: compute", round(result.compute.queries / per_channel, 1)],
        ["queries per channel: delivery", round(result.delivery.queries / per_channel, 1)],
        [
            "compute s (until the passes queued their last message)",
            round(result.compute.seconds, 1),
        ],
        [
            "delivery s after that (sends, 429 waits, outbox passes)",
            round(result.delivery.seconds, 1),
        ],
        ["total s", round(result.total_s, 1)],
        [
            f"rate-limit floor s = max(0, k_max - burst) / rate = "
            f"({result.busiest} - {result.burst}) / {result.rate:g}",
            round(result.floor_s, 1),
        ],
        [f"total / floor (target <= {TARGET})", f"{ratio:.1f}x {verdict}"],
        *([f"CPU s: {name}", round(seconds, 1)] for name, seconds in result.cpu.items()),
        ["429s answered by the fake", result.ratelimited],
        ["outbox passes after the two jobs", result.passes.get("outbox_passes", 0)],
        ["lost (queued, never accepted)", result.lost],
        ["duplicated (accepted twice)", result.duplicated],
        ["still unsent at the deadline", result.unsent],
        ["failed", result.failed],
    ]


def _kinds(result: Result) -> str:
    kinds = ("digest", "nudge", "escalation")
    return (
        f"{sum(result.by_kind.values()):,} ("
        + "/".join(f"{result.by_kind.get(kind, 0):,}" for kind in kinds)
        + ")"
    )


def record_of(result: Result) -> dict[str, Any]:
    return {
        "channels": result.channels,
        "bets_per_channel": result.bets_per_channel,
        "seed_s": result.seed_s,
        "compute_s": result.compute.seconds,
        "compute_queries": result.compute.queries,
        "delivery_s": result.delivery.seconds,
        "delivery_queries": result.delivery.queries,
        "total_s": result.total_s,
        "floor_s": result.floor_s,
        "burst": result.burst,
        "rate": result.rate,
        "messages": sum(result.by_kind.values()),
        "by_kind": dict(result.by_kind),
        "busiest_channel_messages": result.busiest,
        "ratelimited": result.ratelimited,
        "lost": result.lost,
        "duplicated": result.duplicated,
        "unsent": result.unsent,
        "failed": result.failed,
        "finished": result.finished,
        "passes": result.passes,
        "cpu_s": result.cpu,
    }


def arguments(description: str) -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(description=description)
    parser.add_argument("--quick", action="store_true", help="100 channels x 100 bets")
    parser.add_argument("--channels", type=int)
    parser.add_argument("--bets", type=int, default=100, help="bets per channel")
    parser.add_argument("--at", default=AT.isoformat(), help="the sweep's moment (ISO 8601)")
    parser.add_argument("--rate", type=float, default=1.0, help="posts per second per channel")
    parser.add_argument("--burst", type=int, default=3, help="posts a channel may burst")
    parser.add_argument("--deadline", type=float, default=DEADLINE_S, help="delivery cap, s")
    parser.add_argument(
        "--interval",
        type=float,
        default=OUTBOX_INTERVAL,
        help="seconds between outbox passes (hypobot serve's; 0: as soon as a row is due)",
    )
    parser.add_argument(
        "--prototype",
        action="append",
        default=[],
        choices=prototypes.PROTOTYPES,
        help="also run with this proposed change applied (bench/prototypes.py)",
    )
    return parser


async def main() -> None:
    args = arguments(__doc__.split("\n\n")[0]).parse_args()
    channels = args.channels or (100 if args.quick else 1000)
    at = datetime.fromisoformat(args.at)
    variants = [[], args.prototype] if args.prototype else [[]]
    results = []
    for names in variants:
        with prototypes.applied(names):
            results.append(
                await sweep(
                    channels,
                    args.bets,
                    at=at,
                    rate=args.rate,
                    burst=args.burst,
                    deadline_s=args.deadline,
                    interval=args.interval,
                )
            )
    print(f"\nDigest and nudge sweep at {at.isoformat()} on PostgreSQL (fresh database)")
    print(
        "passes: Jobs.digests, Jobs.nudges, then Jobs.outbox until nothing is pending "
        f"(a pass every {args.interval:g}s at most, as in hypobot serve); "
        "fake Slack in its own process"
    )
    print(f"seeding: {results[0].seed_s:.1f}s with COPY (not counted)\n")
    columns = [rows_of(result) for result in results]
    headers = [
        "measure",
        "as is",
        *(["with " + "+".join(args.prototype)] if args.prototype else []),
    ]
    rows = [[row[0], *(column[i][1] for column in columns)] for i, row in enumerate(columns[0])]
    print(common.table(headers, rows))
    path = common.write_json(
        "sweep",
        {
            "results": [
                {"prototypes": n, **record_of(r)} for n, r in zip(variants, results, strict=True)
            ]
        },
    )
    print(f"\n(written to {path.relative_to(common.ROOT)})")


if __name__ == "__main__":
    asyncio.run(main())
