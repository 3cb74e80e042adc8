"""Evidence through the HTTP API under concurrency: N concurrent `POST /api/v1/bets/H-n/
evidence` calls, some of them retries of the same Idempotency-Key sent at the same time,
against `hypobot serve` on SQLite and on PostgreSQL. Printed: p50/p99 latency, rows
created, and evidence lost or duplicated (in the database and in the bets' threads).

    python -m bench.api_evidence [--quick] [--rounds N] [--concurrency N] [--retries N]
                                 [--db sqlite|postgres]

Processes: the fake Slack Web API runs in this process, `hypobot serve` in its own; the
calls go from this process, one connection each, all started at once.
"""

from __future__ import annotations

import argparse
import asyncio
import contextlib
import json
import random
import re
import sys
import tempfile
import time
from collections import Counter
from collections.abc import AsyncIterator
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import aiohttp

from bench import common
from console.fakeslack import FakeSlack, serve_fake_slack
from console.signing import SlackClient
from storage import db
from storage.models import ApiRequest, Evidence

TEAM = "T1"
BETS = 10
# High enough that no call meets the per-token limit: this measures the path, not the limit.
RATE = "100000"
WARM_UP, WARM_UP_RETRIES = 20, 5


@dataclass
class Round:
    latencies_ms: list[float] = field(default_factory=list)
    statuses: Counter[int] = field(default_factory=Counter)
    ids_by_key: dict[str, set[int]] = field(default_factory=dict)
    keys: list[str] = field(default_factory=list)  # unique keys sent


@contextlib.asynccontextmanager
async def database(kind: str) -> AsyncIterator[str]:
    if kind == "postgres":
        async with common.postgres_database("api") as url:
            yield url
        return
    with tempfile.TemporaryDirectory(prefix="hypobot-bench-") as tmp:
        yield f"sqlite://{Path(tmp) / 'hypobot.sqlite3'}"


async def make_token(env: dict[str, str]) -> str:
    """`hypobot tokens create`, as a person would run it; the token is its stdout."""
    process = await asyncio.create_subprocess_exec(
        sys.executable,
        "-m",
        "console.cli",
        "tokens",
        "create",
        "--team",
        TEAM,
        "--name",
        "bench",
        cwd=common.ROOT,
        env=env,
        stdout=asyncio.subprocess.PIPE,
        stderr=asyncio.subprocess.DEVNULL,
    )
    out, _ = await process.communicate()
    if process.returncode != 0:
        raise RuntimeError("hypobot tokens create failed")
    return out.decode().strip()


async def shipped_bets(url: str, fake: FakeSlack) -> None:
    """H-1 … H-BETS, shipped, each in its own channel (the outbox posts about one message a
    second per channel, as Slack allows), their cards posted: each has a thread."""
    async with aiohttp.ClientSession() as session:
        slack = SlackClient(url, session, secret=common.SIGNING_SECRET)
        for number in range(1, BETS + 1):
            for text in (
                f"new We believe change {number} for admins will cut tickets. "
                "We'll know when tickets drop 30%",
                f"ship H-{number}",
            ):
                status, _ = await slack.command(
                    text,
                    team_id=TEAM,
                    channel_id=f"C{number:03d}",
                    response_url=fake.response_url("command"),
                )
                if status != 200:
                    raise RuntimeError(f"{text!r} answered {status}")


async def one_call(
    session: aiohttp.ClientSession, url: str, token: str, key: str, number: int, result: Round
) -> None:
    body = {
        "verdict": "supports" if number % 2 else "inconclusive",
        "text": f"bench evidence {key}",
        "source": "bench",
    }
    headers = {"Authorization": f"Bearer {token}", "Idempotency-Key": key}
    started = time.perf_counter()
    async with session.post(
        f"{url}/api/v1/bets/H-{number}/evidence", json=body, headers=headers
    ) as response:
        answer = await response.json(content_type=None)
    result.latencies_ms.append((time.perf_counter() - started) * 1000)
    result.statuses[response.status] += 1
    if response.status in (200, 201):
        result.ids_by_key.setdefault(key, set()).add(int(answer["evidence_id"]))


async def one_round(url: str, token: str, index: int, concurrency: int, retries: int) -> Round:
    """`concurrency` calls at once: `concurrency - retries` keys, and `retries` of them sent
    twice (a client that timed out and retried while the first call was still running)."""
    result = Round()
    unique = concurrency - retries
    result.keys = [f"r{index}-k{n}" for n in range(unique)]
    numbers = {key: n % BETS + 1 for n, key in enumerate(result.keys)}
    sent = result.keys + random.Random(index).sample(result.keys, retries)
    random.Random(index + 1).shuffle(sent)
    connector = aiohttp.TCPConnector(limit=0, force_close=True)  # one connection per call
    async with aiohttp.ClientSession(connector=connector) as session:
        await asyncio.gather(
            *(one_call(session, url, token, key, numbers[key], result) for key in sent)
        )
    return result


KEY_IN_TEXT = re.compile(r"bench evidence (r-?\d+-k\d+)\b")


async def thread_posts(fake: FakeSlack, expected: int, timeout: float = 120.0) -> Counter[str]:
    """How many times the fake Slack received each key's evidence message in a thread,
    once `expected` messages have arrived (or the time is up)."""
    deadline = time.monotonic() + timeout
    while True:
        posts: Counter[str] = Counter(
            key
            for call in fake.calls_to("chat.postMessage")
            if call.thread_ts and "📎 from" in (call.text or "")
            for key in KEY_IN_TEXT.findall(json.dumps(call.blocks))
        )
        if sum(posts.values()) >= expected or time.monotonic() > deadline:
            return posts
        await asyncio.sleep(0.2)


async def measure(kind: str, rounds: int, concurrency: int, retries: int) -> dict[str, Any]:
    async with serve_fake_slack(TEAM) as fake, database(kind) as url:
        port = common.free_port()
        env = common.serve_env(
            port=port, database_url=url, api_url=fake.base_url, scheduler="off"
        ) | {"HYPOBOT_API_RATE": RATE, "HYPOBOT_API_BURST": RATE}
        process = await common.start(
            common.hypobot_command(), env=env, log_name=f"api-evidence-{kind}"
        )
        server = f"http://127.0.0.1:{port}"
        results: list[Round] = []
        try:
            await common.wait_healthy(f"{server}/healthz", process)
            await shipped_bets(server, fake)
            token = await make_token(env)
            await one_round(server, token, -1, WARM_UP, WARM_UP_RETRIES)  # not counted
            for index in range(rounds):
                await common.quiet([process.pid])
                results.append(await one_round(server, token, index, concurrency, retries))
                print(f"  {kind}: round {index + 1}/{rounds} done", file=sys.stderr)
            keys = [key for result in results for key in result.keys]
            warm_up = WARM_UP - WARM_UP_RETRIES
            posts = await thread_posts(fake, expected=len(keys) + warm_up)
        finally:
            await common.stop(process)
        await db.connect(url, upgrade=False)
        try:
            texts = await Evidence.filter(team_id=TEAM, source="api").values_list("text", flat=True)
            rows = Counter(key for text in texts for key in KEY_IN_TEXT.findall(text))
            kept = set(
                await ApiRequest.filter(team_id=TEAM).values_list("idempotency_key", flat=True)
            )
        finally:
            await db.disconnect()
    return summary(kind, results, keys, rows, kept, posts)


def summary(
    kind: str,
    results: list[Round],
    keys: list[str],
    rows: Counter[str],
    kept: set[str],
    posts: Counter[str],
) -> dict[str, Any]:
    latencies = [ms for result in results for ms in result.latencies_ms]
    statuses: Counter[int] = sum((result.statuses for result in results), Counter())
    disagreeing = sum(
        1 for result in results for ids in result.ids_by_key.values() if len(ids) != 1
    )
    return {
        "db": kind,
        "calls": len(latencies),
        "unique_keys": len(keys),
        "p50_ms": common.percentile(latencies, 0.5),
        "p99_ms": common.percentile(latencies, 0.99),
        "max_ms": max(latencies),
        "status_201": statuses[201],
        "status_200": statuses[200],
        "other_statuses": {str(s): n for s, n in statuses.items() if s not in (200, 201)},
        "rows_created": sum(rows[key] for key in keys),
        "lost": sum(1 for key in keys if rows[key] == 0),
        "duplicated": sum(rows[key] - 1 for key in keys if rows[key] > 1),
        "keys_kept": sum(1 for key in keys if key in kept),
        "answers_disagreeing": disagreeing,
        "thread_posts": sum(posts[key] for key in keys),
        "thread_lost": sum(1 for key in keys if posts[key] == 0),
        "thread_duplicated": sum(posts[key] - 1 for key in keys if posts[key] > 1),
    }


async def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--quick", action="store_true", help="one round")
    parser.add_argument("--rounds", type=int, help="rounds of concurrent calls (default 3)")
    parser.add_argument("--concurrency", type=int, default=100, help="calls at once")
    parser.add_argument("--retries", type=int, default=30, help="of which, repeated keys")
    parser.add_argument("--db", choices=("sqlite", "postgres"), action="append")
    args = parser.parse_args()
    if not 0 <= args.retries <= args.concurrency // 2:
        parser.error("--retries must be between 0 and half of --concurrency")
    rounds = args.rounds or (1 if args.quick else 3)
    records = [
        await measure(kind, rounds, args.concurrency, args.retries)
        for kind in args.db or ["sqlite", "postgres"]
    ]
    print(
        f"\nAPI evidence: {rounds} round(s) x {args.concurrency} concurrent calls, "
        f"{args.retries} of them retries of a key sent in the same round, over {BETS} bets"
    )
    print("client: this process (with the fake Slack); server: hypobot serve\n")
    headers = [
        "db", "calls", "p50 ms", "p99 ms", "201", "200", "other",
        "rows", "lost", "duplicated", "thread posts", "thread lost", "thread dup",
    ]  # fmt: skip
    rows = [
        [
            r["db"],
            r["calls"],
            r["p50_ms"],
            r["p99_ms"],
            r["status_201"],
            r["status_200"],
            json.dumps(r["other_statuses"]) if r["other_statuses"] else "-",
            r["rows_created"],
            r["lost"],
            r["duplicated"],
            r["thread_posts"],
            r["thread_lost"],
            r["thread_duplicated"],
        ]
        for r in records
    ]
    print(common.table(headers, rows))
    for r in records:
        if r["answers_disagreeing"] or r["keys_kept"] < r["unique_keys"]:
            print(
                f"  {r['db']}: answers disagreeing {r['answers_disagreeing']}, "
                f"keys kept {r['keys_kept']} of {r['unique_keys']}"
            )
    path = common.write_json(
        "api_evidence",
        {
            "rounds": rounds,
            "concurrency": args.concurrency,
            "retries": args.retries,
            "results": records,
        },
    )
    print(f"\n(written to {path.relative_to(common.ROOT)})")


if __name__ == "__main__":
    asyncio.run(main())
