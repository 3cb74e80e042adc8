"""The load generator for ack and answer latency, in its own process so that it does not
share an event loop with the servers it measures: one round of concurrent signed slash
commands.

    python -m bench.loadgen '{"url": "...", "texts": ["show H-1", ...], "channels": ["C1"]}'

With "response_url_prefix" each request gets its own response_url, the prefix followed by
"-<index>", so that the fake Slack's receipt of a request's answer can be matched to it.

Prints {"latencies_ms": [...], "errors": [...], "wall_s": ..., "requests": [...]} as JSON
on stdout; each of "requests" is {"start": time.monotonic() when it was sent (the clock is
system-wide on Linux, so the fake Slack's process reads the same one), "ms": until the
whole ack was read, "status", "body": the ack's body (up to 300 characters), "error": None
or what went wrong}.
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


async def one(session: aiohttp.ClientSession, url: str, body: str) -> dict[str, Any]:
    headers = {"Content-Type": FORM, **sign(body, secret=SIGNING_SECRET)}
    started = time.monotonic()
    try:
        async with session.post(url, data=body, headers=headers) as response:
            text = await response.text()
            elapsed = (time.monotonic() - started) * 1000
            error = None if response.status == 200 else f"HTTP {response.status}: {text[:120]}"
            return {
                "start": started,
                "ms": elapsed,
                "status": response.status,
                "body": text[:300],
                "error": error,
            }
    except (aiohttp.ClientError, OSError, TimeoutError) as error:
        return {
            "start": started,
            "ms": (time.monotonic() - started) * 1000,
            "status": 0,
            "body": "",
            "error": f"{type(error).__name__}: {error}",
        }


async def round_of(spec: dict[str, Any]) -> dict[str, Any]:
    channels = spec.get("channels") or ["C1"]
    prefix = spec.get("response_url_prefix")
    bodies = [
        slash_command_body(
            text,
            team_id=spec.get("team_id", "T1"),
            user_id=f"U{index % 25 + 1}",
            channel_id=channels[index % len(channels)],
            response_url=f"{prefix}-{index}" if prefix else spec.get("response_url", ""),
        )
        for index, text in enumerate(spec["texts"])
    ]
    connector = aiohttp.TCPConnector(limit=0)
    timeout = aiohttp.ClientTimeout(total=60)
    async with aiohttp.ClientSession(connector=connector, timeout=timeout) as session:
        started = time.monotonic()
        results = await asyncio.gather(*(one(session, spec["url"], body) for body in bodies))
        wall = time.monotonic() - started
    return {
        "latencies_ms": [result["ms"] for result in results],
        "errors": [result["error"] for result in results if result.get("error")],
        "wall_s": wall,
        "started": started,
        "requests": results,
    }


if __name__ == "__main__":
    print(json.dumps(asyncio.run(round_of(json.loads(sys.argv[1])))))
