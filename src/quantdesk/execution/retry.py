"""One retry policy for every venue call, driven by the engine clock.

Waits come from tenacity's wait strategies (exponential, capped); the core never
sleeps: a retry is an event scheduled at now + wait, so backtests and replays stay
deterministic and a slow venue never blocks the loop. Only `TransientError` (and
`RateLimited`, honouring Retry-After) is retried; `Ambiguous` is resolved by a query.
"""

from __future__ import annotations

from dataclasses import dataclass, field

from tenacity import RetryCallState, wait_exponential
from tenacity.wait import wait_base

from quantdesk.domain.errors import RateLimited, TransientError
from quantdesk.domain.time import NS_PER_S


@dataclass(frozen=True)
class RetryPolicy:
    max_attempts: int = 4
    wait: wait_base = field(default_factory=lambda: wait_exponential(multiplier=0.25, max=8))

    def delay_ns(self, attempt: int, error: TransientError) -> int | None:
        """Nanoseconds before attempt `attempt + 1`, or None when attempts are used up."""
        if attempt >= self.max_attempts:
            return None
        state = RetryCallState(retry_object=None, fn=None, args=(), kwargs={})  # type: ignore[arg-type]
        state.attempt_number = attempt
        seconds = float(self.wait(state))
        if isinstance(error, RateLimited) and error.retry_after_s is not None:
            seconds = max(seconds, error.retry_after_s)
        return int(seconds * NS_PER_S)
