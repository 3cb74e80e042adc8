"""A fake Slack that misbehaves on request: slow answers, Slack errors, 5xx and 429 for the
next calls of a method (or of any, "*"), for the tests of retries, storms and timeouts."""

from __future__ import annotations

import asyncio
from collections.abc import AsyncIterator, Callable
from contextlib import asynccontextmanager
from typing import Any

from aiohttp import web

from console.fakeslack import Call, FakeSlack, SlackError, serve_fake_slack

ANY_METHOD = "*"


def _lookup(table: dict[str, Any], method: str) -> Any:
    return table.get(method, table.get(ANY_METHOD))


def _consume(counters: dict[str, int], method: str) -> bool:
    """Use up one of the upcoming calls configured for `method` (or "*")."""
    for key in (method, ANY_METHOD):
        if counters.get(key, 0) > 0:
            counters[key] -= 1
            return True
    return False


class FaultySlack(FakeSlack):
    """FakeSlack, plus what a test tells it to do to the next calls."""

    def __init__(self, team_id: str = "T1") -> None:
        super().__init__(team_id)
        self.delay: dict[str, float] = {}  # method -> seconds before answering
        self.fail: dict[str, str] = {}  # method -> the Slack error every call gets
        self.rate_limit: dict[str, int] = {}  # method -> how many next calls get 429
        self.retry_after = 1
        self.server_errors: dict[str, int] = {}  # method -> how many next calls get a 5xx
        self.server_error_status = 500

    async def _misbehave_or_answer(
        self, call: Call, answer: Callable[[Call], web.Response]
    ) -> web.Response:
        seconds = _lookup(self.delay, call.method)
        if seconds:
            await asyncio.sleep(seconds)
        if _consume(self.server_errors, call.method):
            return web.json_response(
                {"ok": False, "error": "fatal_error"}, status=self.server_error_status
            )
        if _consume(self.rate_limit, call.method):
            return self._ratelimited(self.retry_after)
        error = _lookup(self.fail, call.method)
        if error:
            return SlackError(error).response()
        return await super()._misbehave_or_answer(call, answer)


@asynccontextmanager
async def serve_faulty_slack(team_id: str = "T1") -> AsyncIterator[FaultySlack]:
    """Run a FaultySlack on a free loopback port for the duration of the block."""
    async with serve_fake_slack(fake=FaultySlack(team_id)) as fake:
        assert isinstance(fake, FaultySlack)
        yield fake
