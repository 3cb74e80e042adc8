"""The baseline for ack latency: a Bolt AsyncApp whose /hypothesis listener only acks, served
on the same aiohttp stack as `hypobot serve` (AppRunner, no access log, /healthz beside it).

    python -m bench.bare_app PORT API_URL
"""

from __future__ import annotations

import asyncio
import sys

from slack_bolt.async_app import AsyncAck, AsyncApp
from slack_sdk.web.async_client import AsyncWebClient

from bench import common
from bench.common import BOT_TOKEN, SIGNING_SECRET


async def main(port: int, api_url: str) -> None:
    app = AsyncApp(
        token=BOT_TOKEN,
        signing_secret=SIGNING_SECRET,
        client=AsyncWebClient(token=BOT_TOKEN, base_url=api_url),
        process_before_response=False,
    )

    @app.command("/hypothesis")
    async def hypothesis(ack: AsyncAck) -> None:
        await ack()

    await common.serve_bolt(app, port)


if __name__ == "__main__":
    asyncio.run(main(int(sys.argv[1]), sys.argv[2]))
