"""Who may change the desk, and how often.

In `QD_ENV=prod` every mutating endpoint and `/audit` need the `X-API-Key` header: 401
without it, 403 with a wrong one (compared in constant time). In dev the key is checked
when sent and one is configured, so a wrong key is never silently accepted. Mutating
endpoints are rate limited per client with a token bucket: 429 with `Retry-After`.
"""

from __future__ import annotations

import hmac
import math
import time
from collections.abc import Callable
from dataclasses import dataclass, field

from fastapi import HTTPException, Request, status

from quantdesk.config import Env, Settings

HEADER = "X-API-Key"


def check_key(settings: Settings, given: str | None, *, required: bool) -> str:
    """The actor name for the audit log; raises 401/403 as the rules above say."""
    configured = settings.api_key.get_secret_value() if settings.api_key else ""
    must = required and settings.env is Env.PROD
    if given is None:
        if must:
            raise HTTPException(status.HTTP_401_UNAUTHORIZED, f"{HEADER} header required")
        return "operator:anonymous"
    if not configured or not hmac.compare_digest(given.encode(), configured.encode()):
        raise HTTPException(status.HTTP_403_FORBIDDEN, "API key not accepted")
    return "operator:key"


@dataclass
class _Bucket:
    tokens: float
    stamp: float


@dataclass
class RateLimiter:
    """`burst` requests at once, refilled at `per_second`; one bucket per client address."""

    burst: int = 10
    per_second: float = 2.0
    clock: Callable[[], float] = time.monotonic
    max_clients: int = 10_000
    _buckets: dict[str, _Bucket] = field(default_factory=dict)

    def take(self, client: str) -> float:
        """0 when allowed, else the seconds to wait."""
        now = self.clock()
        bucket = self._buckets.get(client)
        if bucket is None:
            if len(self._buckets) >= self.max_clients:
                self._buckets.clear()  # bounded memory beats perfect fairness under a flood
            bucket = self._buckets[client] = _Bucket(float(self.burst), now)
        bucket.tokens = min(self.burst, bucket.tokens + (now - bucket.stamp) * self.per_second)
        bucket.stamp = now
        if bucket.tokens >= 1:
            bucket.tokens -= 1
            return 0.0
        return (1 - bucket.tokens) / self.per_second


def client_of(request: Request) -> str:
    return request.client.host if request.client else "unknown"


def enforce_rate(limiter: RateLimiter, request: Request) -> None:
    wait = limiter.take(client_of(request))
    if wait:
        raise HTTPException(
            status.HTTP_429_TOO_MANY_REQUESTS,
            "too many requests",
            headers={"Retry-After": str(max(1, math.ceil(wait)))},
        )
