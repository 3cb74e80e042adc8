"""Memory: the resident set (VmRSS) of `hypobot serve` idle after start, and after it has
served commands, a report pass and a digest pass over 10,000 bets.

    python -m bench.memory [--quick] [--channels 100] [--bets 100] [--commands 300]

The bets (with their events) are bulk-inserted with COPY into a fresh PostgreSQL database
(bench/seed.py), then a few hundred signed commands go through the server: new, ship,
evidence, show, list, and `report` in several channels (which draws its chart with
matplotlib). Then every channel's digest is set, by signed `settings digest HH:MM UTC daily`
commands, to the current minute, so the server's own scheduler (HYPOBOT_SCHEDULER=on) posts
all the digests in its next pass. The fake Slack runs in this process.
"""

from __future__ import annotations

import argparse
import asyncio
import sys
import time
from datetime import UTC, datetime
from typing import Any

import aiohttp
import asyncpg

from bench import common, seed
from console.fakeslack import FakeSlack, serve_fake_slack
from console.signing import SlackClient
from storage import db

TARGET_MB = 120.0
CONCURRENCY = 10


def commands(channels: int, total: int, first_new: int) -> list[tuple[str, str]]:
    """(channel, text) pairs: a realistic mix, a tenth of them reports."""
    mix: list[tuple[str, str]] = []
    for index in range(total):
        channel = f"C{index % channels + 1:05d}"
        number = (index * 97) % (first_new - 1) + 1
        kind = index % 10
        if kind in (0, 1, 2):
            text = (
                f"new We believe bench bet {index} for admins will cut tickets. "
                "We'll know when tickets drop 30% within 10 days"
            )
        elif kind == 3:
            text = f"ship H-{number}"
        elif kind in (4, 5):
            text = f"evidence H-{number} + tickets fell 12% in the first week"
        elif kind == 6:
            text = f"show H-{number}"
        elif kind in (7, 8):
            text = "list all" if index % 20 < 10 else "list overdue"
        else:
            text = "report 30d"
        mix.append((channel, text))
    return mix


async def send_all(
    client: SlackClient, fake: FakeSlack, work: list[tuple[str, str]]
) -> dict[str, int]:
    """Send them, CONCURRENCY at a time; count answers: "ok", "failed", and per command
    word "<word> <status>" (404 is Bolt's answer when the listener did not ack in 3 s)."""
    gate = asyncio.Semaphore(CONCURRENCY)
    outcome = {"ok": 0, "failed": 0}

    async def one(index: int, channel: str, text: str) -> None:
        async with gate:
            status, _ = await client.command(
                text,
                channel_id=channel,
                user_id=f"U{index % 40 + 1:03d}",
                response_url=fake.response_url(f"r{index}"),
            )
            outcome["ok" if status == 200 else "failed"] += 1
            key = f"{text.split()[0]} {status}"
            outcome[key] = outcome.get(key, 0) + 1

    await asyncio.gather(*(one(i, channel, text) for i, (channel, text) in enumerate(work)))
    return outcome


async def digests_sent(url: str) -> int:
    connection = await asyncpg.connect(url.replace("postgres://", "postgresql://", 1))
    try:
        return int(
            await connection.fetchval(
                "SELECT count(*) FROM outbox WHERE kind = 'digest' AND status = 'sent'"
            )
        )
    finally:
        await connection.close()


async def measure(channels: int, bets: int, total_commands: int) -> dict[str, Any]:
    figures: dict[str, Any] = {}
    async with serve_fake_slack() as fake, common.postgres_database("memory") as url:
        await db.migrate(url)
        seeded = await seed.write(url, seed.plan(channels, bets, datetime.now(UTC)))
        figures["bets"], figures["events"] = seeded.bets, seeded.events
        port = common.free_port()
        env = common.serve_env(port=port, database_url=url, api_url=fake.base_url, scheduler="on")
        server = await common.start(common.hypobot_command(), env=env, log_name="memory-serve")
        pid = server.pid
        try:
            base = f"http://127.0.0.1:{port}"
            await common.wait_healthy(f"{base}/healthz", server)
            await common.quiet([pid], window=1.0)
            figures["idle after start"] = common.rss_mb(pid)
            print(f"  idle: {figures['idle after start']:.1f} MB", file=sys.stderr)
            timeout = aiohttp.ClientTimeout(total=60)
            async with aiohttp.ClientSession(timeout=timeout) as session:
                client = SlackClient(base, session, common.SIGNING_SECRET)
                work = commands(channels, total_commands, seeded.bets + 1)
                started = time.monotonic()
                figures["commands"] = await send_all(client, fake, work)
                figures["commands_s"] = time.monotonic() - started
                await common.quiet([pid], window=1.0, timeout=120)
                figures["after commands and reports"] = common.rss_mb(pid)
                figures["its child processes then (chart process)"] = _children_mb(pid)
                after = figures["after commands and reports"]
                print(f"  after commands: {after:.1f} MB", file=sys.stderr)
                minute = datetime.now(UTC).strftime("%H:%M")
                settings = [
                    (f"C{i + 1:05d}", f"settings digest {minute} UTC daily")
                    for i in range(channels)
                ]
                figures["settings"] = await send_all(client, fake, settings)
            deadline = time.monotonic() + 180
            while await digests_sent(url) < channels and time.monotonic() < deadline:
                await asyncio.sleep(1)
            figures["digests posted"] = await digests_sent(url)
            await common.quiet([pid], window=1.0, timeout=120)
            figures["after the digest pass"] = common.rss_mb(pid)
            figures["peak (VmHWM)"] = _hwm_mb(pid)
        finally:
            await common.stop(server)
    return figures


def _children_mb(pid: int) -> float:
    return sum(common.rss_mb(child) for child in common.children(pid))


def _hwm_mb(pid: int) -> float:
    with open(f"/proc/{pid}/status") as status:
        for line in status:
            if line.startswith("VmHWM:"):
                return int(line.split()[1]) / 1024
    return float("nan")


async def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--quick", action="store_true", help="2,000 bets and 100 commands")
    parser.add_argument("--channels", type=int)
    parser.add_argument("--bets", type=int, default=100, help="bets per channel")
    parser.add_argument("--commands", type=int)
    args = parser.parse_args()
    channels = args.channels or (20 if args.quick else 100)
    total = args.commands or (100 if args.quick else 300)
    figures = await measure(channels, args.bets, total)
    print(
        f"\nMemory of `hypobot serve` (PostgreSQL, scheduler on): {figures['bets']:,} bets and "
        f"{figures['events']:,} events bulk-inserted (COPY) in {channels} channels, then "
        f"{total} signed commands ({figures['commands']['ok']} answered 200, "
        f"{figures['commands_s']:.0f}s, {CONCURRENCY} at a time; a tenth are `report 30d`), "
        f"then {channels} `settings digest` commands and the scheduler's digest pass "
        f"({figures['digests posted']} digests posted)"
    )
    answers = {k: v for k, v in figures["commands"].items() if k not in ("ok", "failed")}
    print("answers by command: " + ", ".join(f"{k}: {v}" for k, v in sorted(answers.items())))
    print("(404: Bolt's answer when the listener had not acked within 3 s)")
    print(f"target: <= {TARGET_MB:.0f} MB (1 MB = 2^20 bytes)\n")
    rows = []
    for moment in (
        "idle after start",
        "after commands and reports",
        "after the digest pass",
        "peak (VmHWM)",
    ):
        value = figures[moment]
        rows.append([moment, round(value, 1), "meets" if value <= TARGET_MB else "MISSES"])
    chart = figures["its child processes then (chart process)"]
    rows.append(
        ["the chart process then (a child; stops 2 min after the last report)", round(chart, 1), ""]
    )
    print(common.table(["moment", "RSS MB", f"<= {TARGET_MB:.0f} MB"], rows))
    path = common.write_json("memory", figures)
    print(f"\n(written to {path.relative_to(common.ROOT)})")


if __name__ == "__main__":
    asyncio.run(main())
