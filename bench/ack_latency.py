"""Ack latency: how long Slack waits for `/hypothesis new …` and `/hypothesis show H-n`
under 200 concurrent requests, against `hypobot serve` and against a bare Bolt app that
only acks (same aiohttp stack), on SQLite and on PostgreSQL.

    python -m bench.ack_latency [--quick] [--rounds N] [--concurrency N] [--db sqlite|postgres]

Processes: the fake Slack Web API runs in this process; `hypobot serve`, the bare app and
the load generator (bench/loadgen.py, one process per round) each run in their own.
Before every round the servers are left to go quiet, so work one round started after its
acks (cards posted in the background) does not land on the next round's clock.
"""

from __future__ import annotations

import argparse
import asyncio
import contextlib
import os
import sys
import tempfile
from collections.abc import AsyncIterator
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from bench import common, prototypes
from console.fakeslack import FakeSlack, serve_fake_slack
from testkit.scratch import admin, drop_database

TARGET_RATIO = 1.25
CHANNELS = [f"C{n:03d}" for n in range(1, 21)]


@dataclass
class Server:
    name: str
    url: str
    process: asyncio.subprocess.Process
    response_url: str = ""
    latencies: dict[str, list[float]] = field(default_factory=dict)
    errors: dict[str, list[str]] = field(default_factory=dict)


@contextlib.asynccontextmanager
async def database(kind: str, prototype: list[str]) -> AsyncIterator[str]:
    """The run's database (and, with prototypes, a second one named after it)."""
    if kind == "postgres":
        async with common.postgres_database("ack") as url:
            if not prototype:
                yield url
                return
            name = url.rsplit("/", 1)[1] + "_proto"
            await admin(f'CREATE DATABASE "{name}"')
            try:
                yield url
            finally:
                await drop_database(url + "_proto")
        return
    with tempfile.TemporaryDirectory(prefix="hypobot-bench-") as tmp:
        yield f"sqlite://{Path(tmp) / 'hypobot.sqlite3'}"


async def load(server: Server, kind: str, texts: list[str]) -> dict[str, Any]:
    """One round through the load generator process."""
    spec = {
        "url": f"{server.url}/slack/events",
        "texts": texts,
        "channels": CHANNELS,
        "response_url": server.response_url,
    }
    result = await common.load_round(spec, against=server.name)
    server.latencies.setdefault(kind, []).extend(result["latencies_ms"])
    server.errors.setdefault(kind, []).extend(result["errors"])
    return result


async def start_servers(
    db_kind: str, url: str, fake: FakeSlack, prototype: list[str]
) -> list[Server]:
    """hypobot serve, optionally a second one with prototypes (its own database), and the
    bare app last."""
    servers = []
    runs = [("hypobot", common.hypobot_command(), url)]
    if prototype:
        command = [sys.executable, "-m", "bench.serve_prototype", ",".join(prototype)]
        runs.append(("hypobot+" + "+".join(prototype), command, await second_database(url)))
    for name, command, database_url in runs:
        port = common.free_port()
        env = common.serve_env(
            port=port, database_url=database_url, api_url=fake.base_url, scheduler="off"
        )
        log_name = f"ack-{db_kind}-{name.replace('+', '-')}"
        process = await common.start(command, env=env, log_name=log_name)
        servers.append(
            Server(name, f"http://127.0.0.1:{port}", process, fake.response_url("command"))
        )
    port = common.free_port()
    bare = await common.start(
        [sys.executable, "-m", "bench.bare_app", str(port), fake.base_url],
        env=dict(os.environ),
        log_name=f"ack-{db_kind}-bare",
    )
    servers.append(Server("bare Bolt", f"http://127.0.0.1:{port}", bare))
    for server in servers:
        await common.wait_healthy(f"{server.url}/healthz", server.process)
    return servers


async def second_database(url: str) -> str:
    """Beside a SQLite file another file; beside a PostgreSQL database another database
    (dropped with the run's first one by `database()`)."""
    if url.startswith("sqlite://"):
        return url.replace("hypobot.sqlite3", "prototype.sqlite3")
    return url + "_proto"


async def measure(
    db_kind: str, rounds: int, concurrency: int, prototype: list[str]
) -> list[Server]:
    async with serve_fake_slack() as fake, database(db_kind, prototype) as url:
        servers = await start_servers(db_kind, url, fake, prototype)
        pids = [server.process.pid for server in servers] + [os.getpid()]
        try:
            for server in servers:  # warm-up: discarded
                warm = range(common.WARM_UP)
                await load(server, "warm-up", [common.new_text(i) for i in warm])
                await load(server, "warm-up", [f"show H-{i % common.WARM_UP + 1}" for i in warm])
            created = common.WARM_UP
            for number in range(rounds):
                order = servers if number % 2 == 0 else servers[::-1]
                texts = [common.new_text(created + i) for i in range(concurrency)]
                for server in order:
                    await common.quiet(pids)
                    await load(server, "new", texts)
                created += concurrency
                shows = [f"show H-{(i * 7) % created + 1}" for i in range(concurrency)]
                for server in order:
                    await common.quiet(pids)
                    await load(server, "show", shows)
                print(f"  {db_kind}: round {number + 1}/{rounds} done", file=sys.stderr)
        finally:
            for server in servers:
                await common.stop(server.process)
    for server in servers:
        server.latencies.pop("warm-up", None)
        server.errors.pop("warm-up", None)
    return servers


def summarise(db_kind: str, servers: list[Server]) -> tuple[list[list[Any]], list[dict[str, Any]]]:
    bare = servers[-1]
    rows: list[list[Any]] = []
    records: list[dict[str, Any]] = []
    for kind in ("new", "show"):
        p99s = {}
        for server in servers:
            sample = server.latencies[kind]
            p50, p95, p99 = (common.percentile(sample, p) for p in (0.5, 0.95, 0.99))
            p99s[server.name] = p99
            errors = len(server.errors[kind])
            records.append(
                {
                    "db": db_kind,
                    "command": kind,
                    "server": server.name,
                    "n": len(sample),
                    "errors": errors,
                    "p50_ms": p50,
                    "p95_ms": p95,
                    "p99_ms": p99,
                    "max_ms": max(sample),
                }
            )
            rows.append([db_kind, kind, server.name, str(len(sample)), str(errors), p50, p95, p99])
        for server in servers[:-1]:
            ratio = p99s[server.name] / p99s[bare.name]
            verdict = "meets" if ratio <= TARGET_RATIO else "MISSES"
            label = f"p99 {server.name} / bare"
            rows.append([db_kind, kind, label, "", "", "", "", f"{ratio:.2f}x {verdict}"])
            records.append(
                {"db": db_kind, "command": kind, "server": server.name, "p99_ratio": ratio}
            )
    return rows, records


async def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--quick", action="store_true", help="one round per command")
    parser.add_argument("--rounds", type=int, help="rounds of concurrent requests (default 3)")
    parser.add_argument("--concurrency", type=int, default=200)
    parser.add_argument("--db", choices=("sqlite", "postgres"), action="append")
    parser.add_argument(
        "--prototype",
        action="append",
        default=[],
        choices=prototypes.PROTOTYPES,
        help="also measure a server with this proposed change (bench/prototypes.py)",
    )
    args = parser.parse_args()
    rounds = args.rounds or (1 if args.quick else 3)
    kinds = args.db or ["sqlite", "postgres"]
    rows: list[list[Any]] = []
    records: list[dict[str, Any]] = []
    for kind in kinds:
        servers = await measure(kind, rounds, args.concurrency, args.prototype)
        more_rows, more_records = summarise(kind, servers)
        rows += more_rows
        records += more_records
        for server in servers:
            for command, errors in server.errors.items():
                for error in errors[:3]:
                    print(f"  {server.name} {command}: {error}", file=sys.stderr)
    print(
        f"\nAck latency: {rounds} round(s) x {args.concurrency} concurrent signed requests "
        f"per command and server, after {common.WARM_UP}+{common.WARM_UP} warm-up requests"
    )
    print("client: bench/loadgen.py in its own process; servers and client share the CPUs")
    print(f"target: hypobot p99 <= {TARGET_RATIO}x bare Bolt p99\n")
    print("errors: HTTP 404 'unhandled request' is Bolt's answer when a listener has not")
    print("acked within 3 s (Slack would show the user an error)\n")
    headers = ["db", "command", "server", "n", "errors", "p50 ms", "p95 ms", "p99 ms"]
    print(common.table(headers, rows))
    path = common.write_json(
        "ack_latency",
        {"rounds": rounds, "concurrency": args.concurrency, "results": records},
    )
    print(f"\n(written to {path.relative_to(common.ROOT)})")


if __name__ == "__main__":
    asyncio.run(main())
