"""Per-key rate limits: a token bucket per key in each server process, refused with 429 and Retry-After.

Each process keeps its own buckets (no shared state, no database round trip): a key's limit holds per
process, so a key spread over N processes may reach N times its role's rate. A bucket is two floats
updated in place; a request costs one dict lookup and a little arithmetic.
"""

from __future__ import annotations

import math
import time
from collections.abc import Mapping

from starlette.requests import Request
from starlette.responses import Response

from service.errors import TailorwiseError, problem


class RateLimited(TailorwiseError):
    """The key sent more requests than its role allows; retry after `retry_after` seconds."""

    status = 429
    title = "Too many requests"

    def __init__(self, detail: str, retry_after: int) -> None:
        super().__init__(detail)
        self.retry_after = retry_after


class RateLimiter:
    """Token buckets per key id: `rates[role]` tokens a second, up to `burst_seconds` of them banked."""

    def __init__(self, rates: Mapping[str, float], burst_seconds: float) -> None:
        self._rates = {role: rate for role, rate in rates.items() if rate > 0}
        self._burst = burst_seconds
        self._buckets: dict[int, list[float]] = {}

    def take(self, key_id: int, role: str) -> None:
        """Take one token from the key's bucket, or raise RateLimited saying when one will be there."""
        rate = self._rates.get(role)
        if rate is None:
            return
        now = time.monotonic()
        bucket = self._buckets.get(key_id)
        if bucket is None:
            if len(self._buckets) > 100_000:
                self._buckets.clear()
            bucket = self._buckets[key_id] = [rate * self._burst, now]
        tokens = min(rate * self._burst, bucket[0] + (now - bucket[1]) * rate)
        bucket[1] = now
        if tokens < 1:
            bucket[0] = tokens
            wait = max(1, math.ceil((1 - tokens) / rate))
            raise RateLimited(f"This key may send {rate:g} requests a second here; slow down.", wait)
        bucket[0] = tokens - 1


async def rate_limited_response(_request: Request, exc: Exception) -> Response:
    """A 429 problem+json with Retry-After in whole seconds."""
    assert isinstance(exc, RateLimited)
    response = problem(exc.status, exc.title, exc.detail)
    response.headers["Retry-After"] = str(exc.retry_after)
    return response
