"""The baseline for ack latency: a Bolt AsyncApp whose /hypothesis listener only acks, served
on the same aiohttp stack as `hypobot serve` (AppRunner, no access log, /healthz beside it).

    python -m bench.bare_app PORT API_URL
"""

from __future__ import annotations

import asyncio
import sys

from slack_bolt.async_app import AsyncAck

from bench import common


async def main(port: int, api_url: str) -> None:
    app = common.baseline_app(api_url)

    @app.command("/hypothesis")
    async def hypothesis(ack: AsyncAck) -> None:
        await ack()

    await common.serve_bolt(app, port)


if __name__ == "__main__":
    asyncio.run(main(int(sys.argv[1]), sys.argv[2]))
