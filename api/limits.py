"""The HTTP API's per-token rate limit: a token bucket per token, in this process's memory
(each replica limits on its own; a limit that must hold across replicas belongs in front of
them, at the proxy)."""

from __future__ import annotations

import math
import time
from collections.abc import Callable


class Buckets:
    """`rate` calls a second per key, up to `burst` at once."""

    def __init__(
        self, *, rate: float, burst: int, clock: Callable[[], float] = time.monotonic
    ) -> None:
        self.rate = rate
        self.burst = float(burst)
        self.clock = clock
        self._buckets: dict[int, tuple[float, float]] = {}  # key → (tokens, as of)

    def take(self, key: int) -> int:
        """0 when a call may go ahead now (and count it), else the whole seconds to wait."""
        now = self.clock()
        tokens, since = self._buckets.get(key, (self.burst, now))
        tokens = min(self.burst, tokens + (now - since) * self.rate)
        if tokens >= 1.0:
            self._buckets[key] = (tokens - 1.0, now)
            return 0
        self._buckets[key] = (tokens, now)
        return max(1, math.ceil((1.0 - tokens) / self.rate))
