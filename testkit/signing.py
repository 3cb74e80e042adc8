"""Requests signed with the tests' own signing secret (the served app under test is given
the same one)."""

from __future__ import annotations

from typing import Any

import aiohttp

from console import signing

SIGNING_SECRET = "test-signing-secret"


def sign(
    body: str | bytes, *, secret: str = SIGNING_SECRET, timestamp: int | None = None
) -> dict[str, str]:
    return signing.sign(body, secret=secret, timestamp=timestamp)


class SlackClient(signing.SlackClient):
    def __init__(
        self, base_url: str, session: aiohttp.ClientSession, secret: str = SIGNING_SECRET, **kw: Any
    ) -> None:
        super().__init__(base_url, session, secret, **kw)
