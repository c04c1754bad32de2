"""Upstox answers -> our error hierarchy (`TransientError`, `RateLimited`, `Rejected`,
`Ambiguous`) and our rejection reason codes.

The mapping is data, read top to bottom:
1. transport failures: nothing was sent (refused, connect timeout) -> TransientError;
   something was sent and no answer came back (read timeout, reset) -> Ambiguous for an
   order write, TransientError for a read (reads are always safe to repeat);
2. `STATUS_RULES`: 429 -> RateLimited, 401 -> AuthFailed, 503 (Upstox: "temporarily
   offline for maintenance", the request was not processed) -> TransientError, any other
   5xx -> Ambiguous for an order write, TransientError for a read;
3. `ERROR_CODES`: Upstox's documented `errors[].errorCode` values;
4. `MESSAGE_RULES`: for codes we do not know and for the RMS/exchange texts Upstox puts in
   a rejected order's `status_message` (insufficient funds, tick, lot...), whose wording is
   not documented: matched loosely, and anything unmatched is `VENUE_REJECTED`.

Every message that leaves here went through the caller's `redact`, so an answer that
echoes the access token cannot carry it into a log line or an audit row.
"""

from __future__ import annotations

import math
import re
import time
from collections.abc import Callable, Mapping
from dataclasses import dataclass
from email.utils import parsedate_to_datetime
from enum import StrEnum
from types import MappingProxyType
from typing import Any

import httpx

from quantdesk.domain.errors import Ambiguous, RateLimited, Rejected, TransientError, VenueError

# -- our reason codes (the paper venue uses the same words where they overlap) --------------
SAFE_MODE = "SAFE_MODE"
INSUFFICIENT_FUNDS = "INSUFFICIENT_FUNDS"
INVALID_PRICE = "INVALID_PRICE"  # missing, not allowed for the type, or off the tick grid
INVALID_QUANTITY = "INVALID_QUANTITY"  # zero, fractional or not a lot multiple
INSTRUMENT_NOT_ALLOWED = "INSTRUMENT_NOT_ALLOWED"  # unknown key, segment disabled, banned
PRICE_OUT_OF_RANGE = "PRICE_OUT_OF_RANGE"  # circuit / price band
MARKET_CLOSED = "MARKET_CLOSED"
MARKET_ORDER_BLOCKED = "MARKET_ORDER_BLOCKED"  # market orders need market protection
UNKNOWN_ORDER = "UNKNOWN_ORDER"  # the venue has no such order id
ORDER_FINALIZED = "ORDER_FINALIZED"  # cancel/modify of a complete, cancelled, rejected order
INVALID_ORDER = "INVALID_ORDER"  # malformed request: type, validity, id, input
AUTH_FAILED = "AUTH_FAILED"
NOT_PERMITTED = "NOT_PERMITTED"  # account/app/IP not allowed to use this API
VENUE_REJECTED = "VENUE_REJECTED"  # a refusal we could not classify

DEFAULT_RATE_LIMIT_PAUSE_S = 1.0  # Upstox documents no Retry-After header


class Kind(StrEnum):
    REJECTED = "rejected"
    AUTH = "auth"
    RATE_LIMITED = "rate_limited"
    TRANSIENT = "transient"
    AMBIGUOUS_IF_WRITE = "ambiguous_if_write"  # unknown outcome for an order write


@dataclass(frozen=True, slots=True)
class Rule:
    kind: Kind
    reason: str


def _rejected(reason: str) -> Rule:
    return Rule(Kind.REJECTED, reason)


class AuthFailed(Rejected):
    """The token is missing, invalid or expired: no request will work until it is replaced."""


class DuplicateTag(VenueError):
    """More than one venue order carries one client order id: reconcile, never guess."""


class MalformedResponse(TransientError):
    """A read answered with something that is not the documented payload."""


STATUS_RULES: Mapping[int, Rule] = MappingProxyType(
    {
        401: Rule(Kind.AUTH, AUTH_FAILED),
        403: _rejected(NOT_PERMITTED),
        429: Rule(Kind.RATE_LIMITED, "RATE_LIMITED"),
        503: Rule(Kind.TRANSIENT, "SERVICE_UNAVAILABLE"),
    }
)

# Documented on upstox.com/developer/api-documentation (error-codes and the order pages).
ERROR_CODES: Mapping[str, Rule] = MappingProxyType(
    {
        "UDAPI10005": Rule(Kind.RATE_LIMITED, "RATE_LIMITED"),  # too many requests
        "UDAPI100050": Rule(Kind.AUTH, AUTH_FAILED),  # invalid token
        "UDAPI100016": Rule(Kind.AUTH, AUTH_FAILED),  # invalid credentials
        "UDAPI100067": _rejected(NOT_PERMITTED),  # not allowed with an extended token
        "UDAPI100073": _rejected(NOT_PERMITTED),  # client_id inactive
        "UDAPI100049": _rejected(NOT_PERMITTED),  # order APIs restricted for the account
        "UDAPI1154": _rejected(NOT_PERMITTED),  # static IP not whitelisted
        "UDAPI1156": _rejected(NOT_PERMITTED),  # invalid X-Algo-Name
        "UDAPI100074": _rejected(MARKET_CLOSED),  # API only open 05:30-24:00 IST
        "UDAPI100010": _rejected(UNKNOWN_ORDER),  # order not found
        "UDAPI100040": _rejected(ORDER_FINALIZED),  # cancel of a finished order
        "UDAPI100041": _rejected(ORDER_FINALIZED),  # modify of a finished order
        "UDAPI1026": _rejected(INSTRUMENT_NOT_ALLOWED),  # instrument key required
        "UDAPI1087": _rejected(INSTRUMENT_NOT_ALLOWED),  # invalid symbol / instrument key
        "UDAPI100011": _rejected(INSTRUMENT_NOT_ALLOWED),  # invalid instrument key
        "UDAPI1161": _rejected(INSTRUMENT_NOT_ALLOWED),  # MCX orders disabled for the API
        "UDAPI1052": _rejected(INVALID_QUANTITY),  # quantity cannot be zero
        "UDAPI1008": _rejected(INVALID_PRICE),  # price is required
        "UDAPI1029": _rejected(INVALID_PRICE),  # price is required
        "UDAPI1030": _rejected(INVALID_PRICE),  # price is not required
        "UDAPI1031": _rejected(INVALID_PRICE),  # price and trigger price are required
        "UDAPI1032": _rejected(INVALID_PRICE),  # only the trigger price is required
        "UDAPI1036": _rejected(INVALID_PRICE),  # trigger price is required
        "UDAPI1158": _rejected(MARKET_ORDER_BLOCKED),  # market orders not allowed
        "UDAPI1159": _rejected(MARKET_ORDER_BLOCKED),  # market protection above 25%
        "UDAPI1160": _rejected(MARKET_ORDER_BLOCKED),  # invalid market protection
        "UDAPI1004": _rejected(INVALID_ORDER),  # valid order type is required
        "UDAPI1056": _rejected(INVALID_ORDER),  # order type is invalid
        "UDAPI1007": _rejected(INVALID_ORDER),  # validity is required
        "UDAPI1055": _rejected(INVALID_ORDER),  # validity is invalid
        "UDAPI1003": _rejected(INVALID_ORDER),  # order id is required (modify)
        "UDAPI1023": _rejected(INVALID_ORDER),  # order id is required (cancel)
        "UDAPI1010": _rejected(INVALID_ORDER),  # order id format
        "UDAPI100036": _rejected(INVALID_ORDER),  # invalid input
        "UDAPI100038": _rejected(INVALID_ORDER),  # invalid input
        "UDAPI10000": _rejected(INVALID_ORDER),  # request not supported (bad URL)
        "UDAPI100500": Rule(Kind.AMBIGUOUS_IF_WRITE, "VENUE_ERROR"),  # "something went wrong"
    }
)

# Undocumented wording (RMS and exchange texts): first match wins, so specific before vague.
MESSAGE_RULES: tuple[tuple[re.Pattern[str], str], ...] = tuple(
    (re.compile(pattern, re.IGNORECASE), reason)
    for pattern, reason in (
        (r"insufficient|shortfall|not enough (?:funds|margin)", INSUFFICIENT_FUNDS),
        (r"\btick", INVALID_PRICE),
        (r"\blot\b|multiple of", INVALID_QUANTITY),
        (r"circuit|price band|price range|\bdpr\b|lpp", PRICE_OUT_OF_RANGE),
        (r"market (?:is )?(?:closed|not open)|outside (?:market|trading) hours", MARKET_CLOSED),
        (r"not allowed|banned|\bban\b|blocked|not (?:enabled|permitted)", INSTRUMENT_NOT_ALLOWED),
        (r"order not found|no such order|invalid order id", UNKNOWN_ORDER),
    )
)


def reason_for_message(message: str | None) -> str:
    """Our reason code for a free-text refusal (an RMS `status_message`, say)."""
    for pattern, reason in MESSAGE_RULES:
        if message and pattern.search(message):
            return reason
    return VENUE_REJECTED


def first_error(payload: Any) -> tuple[str | None, str]:
    """(errorCode, message) of an Upstox error body; both spellings of the code are seen."""
    errors = payload.get("errors") if isinstance(payload, dict) else None
    if not isinstance(errors, list) or not errors or not isinstance(errors[0], dict):
        message = payload.get("message") if isinstance(payload, dict) else None
        return None, str(message or "")
    first = errors[0]
    code = first.get("errorCode") or first.get("error_code")
    return (str(code) if code else None), str(first.get("message") or "")


def error_for_response(
    status: int,
    payload: Any,
    *,
    write: bool,
    retry_after_s: float | None,
    redact: Callable[[str], str],
) -> VenueError:
    """The error an unsuccessful HTTP answer stands for."""
    code, message = first_error(payload)
    text = redact(f"HTTP {status} {code or ''}".rstrip() + (f": {message}" if message else ""))
    rule = STATUS_RULES.get(status)
    if rule is None and status >= 500:
        rule = Rule(Kind.AMBIGUOUS_IF_WRITE, "VENUE_ERROR")
    if rule is None and code is not None:
        rule = ERROR_CODES.get(code)
    if rule is None:
        rule = _rejected(reason_for_message(message))
    return _raise_rule(rule, text, write=write, retry_after_s=retry_after_s)


def _raise_rule(rule: Rule, text: str, *, write: bool, retry_after_s: float | None) -> VenueError:
    if rule.kind is Kind.RATE_LIMITED:
        return RateLimited(text, retry_after_s=retry_after_s or DEFAULT_RATE_LIMIT_PAUSE_S)
    if rule.kind is Kind.AUTH:
        return AuthFailed(rule.reason, text)
    if rule.kind is Kind.TRANSIENT:
        return TransientError(text)
    if rule.kind is Kind.AMBIGUOUS_IF_WRITE:
        if write:
            return Ambiguous(f"{text} (order state unknown: query by tag)")
        return TransientError(text)
    return Rejected(rule.reason, text)


# httpx raises these before a byte of the request left: certainly not processed.
NOT_SENT: tuple[type[httpx.TransportError], ...] = (
    httpx.ConnectError,
    httpx.ConnectTimeout,
    httpx.PoolTimeout,
    httpx.UnsupportedProtocol,
    httpx.ProxyError,
)


def error_for_transport(
    exc: httpx.RequestError, *, write: bool, redact: Callable[[str], str]
) -> VenueError:
    """Refused or never connected -> TransientError; sent without an answer -> Ambiguous
    for an order write (the venue may hold the order), TransientError for a read."""
    text = redact(f"{type(exc).__name__}: {exc}")
    if isinstance(exc, NOT_SENT) or not write:
        return TransientError(text)
    return Ambiguous(f"{text} (sent, no answer: order state unknown, query by tag)")


def retry_after_s(value: str | None) -> float | None:
    """Retry-After as seconds: delta-seconds or an HTTP date; None if absent or garbled."""
    if not value:
        return None
    try:
        seconds = float(value)
    except ValueError:
        pass
    else:
        return max(0.0, seconds) if math.isfinite(seconds) else None
    try:
        moment = parsedate_to_datetime(value)
    except (TypeError, ValueError):
        return None
    return max(0.0, moment.timestamp() - time.time())
