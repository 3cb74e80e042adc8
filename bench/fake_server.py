"""The fake Slack Web API (tests/fakeslack.py) in a process of its own, so that answering
(and checking Block Kit) does not share an event loop with the jobs being measured.

    python -m bench.fake_server [--rate 1] [--burst 3]

Prints its base URL (http://127.0.0.1:PORT/) on the first line of stdout, then serves until
SIGTERM. GET /bench/report answers what it received: every message it accepted (channel,
outbox id from the message metadata, when), 429s per method, and Block Kit errors.
"""

from __future__ import annotations

import argparse
import asyncio
import sys
from typing import Any

from aiohttp import web

from bench import common
from console.fakeslack import FakeSlack


def report(fake: FakeSlack) -> dict[str, Any]:
    posted = []
    for channel, messages in fake.messages.items():
        for message in messages:
            payload = (message.get("metadata") or {}).get("event_payload") or {}
            posted.append([channel, payload.get("outbox_id"), message.get("ts")])
    calls: dict[str, int] = {}
    for call in fake.calls:
        calls[call.method] = calls.get(call.method, 0) + 1
    return {
        "posted": posted,
        "calls": calls,
        "ratelimited": fake.ratelimited,
        "block_errors": fake.block_errors[:20],
    }


class CountingFake(FakeSlack):
    """Counts the 429s it answers (the fake itself records calls, not their answers)."""

    def __init__(self) -> None:
        super().__init__()
        self.ratelimited = 0

    def _take_channel_token(self, channel: str | None) -> bool:
        taken = super()._take_channel_token(channel)
        if not taken:
            self.ratelimited += 1
        return taken


async def main(rate: float | None, burst: int) -> None:
    fake = CountingFake()
    fake.per_channel_rate = rate
    fake.burst = burst
    app = fake.web_app()

    async def bench_report(_: web.Request) -> web.Response:
        return web.json_response(report(fake))

    app.router.add_get("/bench/report", bench_report)
    await common.serve_until_stopped(fake, app)


if __name__ == "__main__":
    parser = argparse.ArgumentParser()
    parser.add_argument("--rate", type=float, default=None, help="chat.postMessage per second")
    parser.add_argument("--burst", type=int, default=3)
    args = parser.parse_args()
    asyncio.run(main(args.rate, args.burst))
    sys.exit(0)
