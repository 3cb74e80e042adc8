"""The load generator for ack latency, in its own process so that it does not share an
event loop with the servers it measures: one round of concurrent signed slash commands.

    python -m bench.loadgen '{"url": "...", "texts": ["show H-1", ...], "channels": ["C1"]}'

Prints {"latencies_ms": [...], "errors": [...], "wall_s": ...} as JSON on stdout.
"""

from __future__ import annotations

import asyncio
import json
import sys
import time
from typing import Any

import aiohttp

from bench.common import SIGNING_SECRET
from console.signing import FORM, sign, slash_command_body


async def one(session: aiohttp.ClientSession, url: str, body: str) -> tuple[float, str | None]:
    headers = {"Content-Type": FORM, **sign(body, secret=SIGNING_SECRET)}
    started = time.perf_counter()
    try:
        async with session.post(url, data=body, headers=headers) as response:
            text = await response.text()
            elapsed = (time.perf_counter() - started) * 1000
            if response.status != 200:
                return elapsed, f"HTTP {response.status}: {text[:120]}"
            return elapsed, None
    except (aiohttp.ClientError, OSError, TimeoutError) as error:
        return (time.perf_counter() - started) * 1000, f"{type(error).__name__}: {error}"


async def round_of(spec: dict[str, Any]) -> dict[str, Any]:
    channels = spec.get("channels") or ["C1"]
    bodies = [
        slash_command_body(
            text,
            team_id=spec.get("team_id", "T1"),
            user_id=f"U{index % 25 + 1}",
            channel_id=channels[index % len(channels)],
            response_url=spec.get("response_url", ""),
        )
        for index, text in enumerate(spec["texts"])
    ]
    connector = aiohttp.TCPConnector(limit=0)
    timeout = aiohttp.ClientTimeout(total=60)
    async with aiohttp.ClientSession(connector=connector, timeout=timeout) as session:
        started = time.perf_counter()
        results = await asyncio.gather(*(one(session, spec["url"], body) for body in bodies))
        wall = time.perf_counter() - started
    return {
        "latencies_ms": [latency for latency, _ in results],
        "errors": [error for _, error in results if error],
        "wall_s": wall,
    }


if __name__ == "__main__":
    print(json.dumps(asyncio.run(round_of(json.loads(sys.argv[1])))))
