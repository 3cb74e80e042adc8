"""The HTTP API's per-token rate limit, one for all replicas: a token bucket per token kept
as a row every replica updates atomically (storage/shared.py), so N replicas behind a
proxy still hold a token to its rate."""

from __future__ import annotations

import math
import time
from collections.abc import Callable

from storage import shared


class TokenRate:
    """`rate` calls a second per token, up to `burst` at once."""

    def __init__(self, *, rate: float, burst: int, clock: Callable[[], float] = time.time) -> None:
        self.rate = rate
        self.burst = burst
        self.clock = clock

    async def take(self, team_id: str, token_id: int) -> int:
        """0 when a call may go ahead now (and count it), else the whole seconds to wait."""
        wait = await shared.take(
            team_id, f"api:{token_id}", now=self.clock(), rate=self.rate, burst=self.burst
        )
        return 0 if wait <= 0 else max(1, math.ceil(wait))
