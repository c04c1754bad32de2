"""The one error hierarchy every venue maps onto and the one retry policy acts on.

`TransientError` may be retried blindly. `Ambiguous` must never be: the request may
have reached the venue, so the order is UNKNOWN until the venue is asked about it.
"""

from __future__ import annotations


class QuantdeskError(Exception):
    """Root of every error quantdesk raises on purpose."""


class IllegalTransition(QuantdeskError):
    """An order event that its current state does not allow."""

    def __init__(self, client_order_id: str, status: str, event: str) -> None:
        super().__init__(f"order {client_order_id}: {event} is illegal in state {status}")
        self.client_order_id = client_order_id
        self.status = status
        self.event = event


class DuplicatePlan(QuantdeskError):
    """A decision with this client_plan_id exists: the plan was already acted on."""


class VenueError(QuantdeskError):
    """Anything a venue adapter reports about a request."""


class TransientError(VenueError):
    """The request certainly did not take effect; retrying is safe."""


class RateLimited(TransientError):
    def __init__(self, message: str, retry_after_s: float | None = None) -> None:
        super().__init__(message)
        self.retry_after_s = retry_after_s


class Rejected(VenueError):
    """The venue refused the request for a reason a retry will not change."""

    def __init__(self, reason: str, message: str = "") -> None:
        super().__init__(f"{reason}: {message}" if message else reason)
        self.reason = reason
        self.venue_message = message


class Ambiguous(VenueError):
    """Timeout, 5xx or reset after sending: the outcome is unknown, query before retrying."""
