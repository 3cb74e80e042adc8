"""The baseline for ack latency: a Bolt AsyncApp whose /hypothesis listener only acks, served
on the same aiohttp stack as `hypobot serve` (AppRunner, no access log, /healthz beside it).

    python -m bench.bare_app PORT API_URL
"""

from __future__ import annotations

import asyncio
import signal
import sys

from aiohttp import web
from slack_bolt.async_app import AsyncAck, AsyncApp
from slack_sdk.web.async_client import AsyncWebClient

from bench.common import BOT_TOKEN, SIGNING_SECRET


async def healthz(_: web.Request) -> web.Response:
    return web.json_response({"ok": True})


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

    application = app.web_app(path="/slack/events")
    application.router.add_get("/healthz", healthz)
    runner = web.AppRunner(application, access_log=None)
    await runner.setup()
    await web.TCPSite(runner, "127.0.0.1", port).start()
    stop = asyncio.Event()
    for signum in (signal.SIGTERM, signal.SIGINT):
        asyncio.get_running_loop().add_signal_handler(signum, stop.set)
    await stop.wait()
    await runner.cleanup()


if __name__ == "__main__":
    asyncio.run(main(int(sys.argv[1]), sys.argv[2]))
