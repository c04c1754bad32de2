"""UpstoxClient: the Upstox REST API (v2 reads, v3 orders and candles) over httpx, async.

What every call goes through, in order: SAFE_MODE (place and modify refuse before any
byte leaves; cancel is always allowed, it only ever reduces risk), the request budget
(`budget.py`), one HTTP exchange, and the mapping of its answer onto our error hierarchy
(`errors.py`). A 429 pauses the endpoint class for Retry-After and the call is repeated
here while the pause is short, because a 429 means the venue did not process the request;
any other failure goes back to the caller, whose retry policy runs on the engine clock.

Idempotency: our client order id travels as the order's `tag`. After `Ambiguous` (the
request left and no answer came back) the order may exist: ask `find_order_by_tag`
before anything else; never place it again blindly.

The access token lives in a `SecretStr` and is added to each request by an httpx auth
hook, so it is not in the client's default headers, its repr, our log lines or the
messages of the errors we raise (they are redacted in case the venue echoes it).
"""

from __future__ import annotations

import logging
import time
from collections.abc import Callable, Generator, Mapping
from datetime import date
from decimal import Decimal
from types import TracebackType
from typing import Any, TypeVar
from urllib.parse import quote

import httpx
from pydantic import SecretStr

from quantdesk.domain.errors import Ambiguous, RateLimited, Rejected, VenueError
from quantdesk.domain.market import Bar
from quantdesk.venues.upstox import payloads
from quantdesk.venues.upstox.budget import EndpointClass, RequestBudget
from quantdesk.venues.upstox.errors import (
    SAFE_MODE,
    DuplicateTag,
    MalformedResponse,
    error_for_response,
    error_for_transport,
    retry_after_s,
)
from quantdesk.venues.upstox.orders import (
    ModifyRequest,
    OrderAck,
    PlaceRequest,
    UpstoxOrder,
    parse_ack,
    parse_order,
)
from quantdesk.venues.upstox.payloads import PayloadError, UpstoxPosition, UpstoxTrade

log = logging.getLogger(__name__)
T = TypeVar("T")

ORDERS, QUERIES = EndpointClass.ORDERS, EndpointClass.ORDER_QUERIES
PORTFOLIO, MARKET_DATA = EndpointClass.PORTFOLIO, EndpointClass.MARKET_DATA


class _BearerAuth(httpx.Auth):
    def __init__(self, token: SecretStr) -> None:
        self._token = token

    def auth_flow(self, request: httpx.Request) -> Generator[httpx.Request, httpx.Response, None]:
        request.headers["Authorization"] = f"Bearer {self._token.get_secret_value()}"
        yield request

    def __repr__(self) -> str:
        return "_BearerAuth(***)"


class UpstoxClient:
    """One Upstox account's REST API. Use as `async with UpstoxClient(...) as client:`."""

    def __init__(
        self,
        base_url: str,
        access_token: SecretStr | str,
        *,
        budget: RequestBudget | None = None,
        timeout_s: float = 5.0,
        safe_mode: bool = True,
        order_base_url: str | None = None,
        rate_limit_retries: int = 5,
        max_inline_wait_s: float = 5.0,
    ) -> None:
        token = access_token if isinstance(access_token, SecretStr) else SecretStr(access_token)
        if not token.get_secret_value():
            raise ValueError("an Upstox access token is required")
        self._token = token
        self._base_url = base_url.rstrip("/")
        self._order_base_url = (order_base_url or base_url).rstrip("/")  # api-hft host
        self._safe_mode = safe_mode
        self.budget = budget or RequestBudget()
        self._rate_limit_retries = rate_limit_retries
        self._max_inline_wait_s = max_inline_wait_s
        self._http = httpx.AsyncClient(
            auth=_BearerAuth(token),
            timeout=httpx.Timeout(timeout_s),
            headers={"Accept": "application/json"},
            follow_redirects=False,
        )

    def __repr__(self) -> str:
        return f"UpstoxClient(base_url={self._base_url!r}, safe_mode={self._safe_mode})"

    @property
    def safe_mode(self) -> bool:
        return self._safe_mode

    async def __aenter__(self) -> UpstoxClient:
        return self

    async def __aexit__(
        self, kind: type[BaseException] | None, exc: BaseException | None, tb: TracebackType | None
    ) -> None:
        await self.aclose()

    async def aclose(self) -> None:
        await self._http.aclose()

    # -- orders (v3) -------------------------------------------------------------------
    async def place_order(self, request: PlaceRequest) -> OrderAck:
        """Place one order tagged with our client order id. Raises Rejected (SAFE_MODE or a
        refusal), TransientError (certainly not placed), RateLimited or Ambiguous."""
        self._refuse_in_safe_mode("place", request.tag)
        body = request.body()
        log.info("upstox place %s: %s", request.tag, request)
        payload = await self._call("POST", "/v3/order/place", ORDERS, body=body, write=True)
        return self._ack(payload, None)

    async def modify_order(self, request: ModifyRequest) -> OrderAck:
        """Restate a working order with new prices; confirmed when the book shows them."""
        self._refuse_in_safe_mode("modify", request.order_id)
        body = request.body()
        payload = await self._call("PUT", "/v3/order/modify", ORDERS, body=body, write=True)
        return self._ack(payload, request.order_id)

    async def cancel_order(self, order_id: str) -> OrderAck:
        """Ask the venue to cancel; the outcome (or a fill that raced it) shows in the book."""
        params = {"order_id": order_id}
        payload = await self._call("DELETE", "/v3/order/cancel", ORDERS, params=params, write=True)
        return self._ack(payload, order_id)

    # -- order queries (v2) --------------------------------------------------------------
    async def order_book(self) -> list[UpstoxOrder]:
        return self._each(await self._data("/v2/order/retrieve-all", QUERIES), parse_order)

    async def order_details(self, order_id: str) -> UpstoxOrder:
        data = await self._data("/v2/order/details", QUERIES, {"order_id": order_id})
        return self._parse(parse_order, data)

    async def order_history(
        self, *, order_id: str | None = None, tag: str | None = None
    ) -> list[UpstoxOrder]:
        """Every state an order went through (by order id, by tag, or both)."""
        params = {k: v for k, v in (("order_id", order_id), ("tag", tag)) if v}
        if not params:
            raise ValueError("order_history needs an order_id or a tag")
        data = await self._data("/v2/order/history", QUERIES, params)
        return self._each(data, parse_order)

    async def trades_for_day(self) -> list[UpstoxTrade]:
        data = await self._data("/v2/order/trades/get-trades-for-day", QUERIES)
        return self._each(data, payloads.parse_trade)

    async def order_trades(self, order_id: str) -> list[UpstoxTrade]:
        data = await self._data("/v2/order/trades", QUERIES, {"order_id": order_id})
        return self._each(data, payloads.parse_trade)

    async def find_order_by_tag(self, tag: str) -> UpstoxOrder | None:
        """The order our client order id names, from one order-book call (one token of the
        budget, whatever the number of orders); None if the venue has none today.

        None right after an `Ambiguous` place is evidence, not proof: the request may still
        be in flight at the broker. Raises DuplicateTag if two orders carry the tag."""
        found = [order for order in await self.order_book() if order.tag == tag]
        if len(found) > 1:
            ids = ", ".join(order.order_id for order in found)
            raise DuplicateTag(f"tag {tag} names {len(found)} venue orders: {ids}")
        return found[0] if found else None

    # -- portfolio ---------------------------------------------------------------------
    async def positions(self) -> list[UpstoxPosition]:
        data = await self._data("/v2/portfolio/short-term-positions", PORTFOLIO)
        return self._each(data, payloads.parse_position)

    async def funds_and_margin(self, segment: str | None = None) -> dict[str, dict[str, Decimal]]:
        params = {"segment": segment} if segment else None
        data = await self._data("/v2/user/get-funds-and-margin", PORTFOLIO, params)
        return self._parse(payloads.parse_funds, data)

    # -- market data -------------------------------------------------------------------
    async def historical_candles(
        self,
        instrument_key: str,
        *,
        symbol: str,
        unit: str,
        interval: int,
        to_date: date,
        from_date: date | None = None,
    ) -> list[Bar]:
        """Closed candles up to `to_date` (v3), as Bars oldest first."""
        payloads.check_candle_request(unit, interval, from_date, to_date)
        path = f"/v3/historical-candle/{_key(instrument_key)}/{unit}/{interval}/{to_date}"
        path += f"/{from_date}" if from_date else ""
        data = await self._data(path, MARKET_DATA)
        return self._parse(lambda d: payloads.parse_candles(d, symbol, unit, interval), data)

    async def intraday_candles(
        self, instrument_key: str, *, symbol: str, unit: str, interval: int
    ) -> list[Bar]:
        """Today's candles so far (v3), as Bars oldest first."""
        payloads.check_candle_request(unit, interval)
        path = f"/v3/historical-candle/intraday/{_key(instrument_key)}/{unit}/{interval}"
        data = await self._data(path, MARKET_DATA)
        return self._parse(lambda d: payloads.parse_candles(d, symbol, unit, interval), data)

    # -- plumbing ----------------------------------------------------------------------
    def _refuse_in_safe_mode(self, action: str, what: str) -> None:
        if self._safe_mode:
            log.warning("upstox %s %s refused: SAFE_MODE is on", action, what)
            raise Rejected(SAFE_MODE, f"{action} refused before sending: SAFE_MODE is on")

    async def _data(
        self, path: str, cls: EndpointClass, params: Mapping[str, str] | None = None
    ) -> Any:
        return (await self._call("GET", path, cls, params=params)).get("data")

    async def _call(
        self,
        method: str,
        path: str,
        cls: EndpointClass,
        *,
        params: Mapping[str, str] | None = None,
        body: bytes | None = None,
        write: bool = False,
    ) -> dict[str, Any]:
        """One logical request: budget, send, map; 429s are repeated after their pause."""
        base = self._order_base_url if write else self._base_url
        headers = {"Content-Type": "application/json"} if body is not None else {}
        if path.startswith("/v2/"):
            headers["Api-Version"] = "2.0"
        attempt = 0
        while True:
            attempt += 1
            await self.budget.acquire(cls)
            started = time.monotonic()
            request = self._http.build_request(
                method, base + path, params=params, content=body, headers=headers
            )
            response = await self._send(request, write)
            ms = (time.monotonic() - started) * 1000
            log.debug("upstox %s %s -> %d in %.1f ms", method, path, response.status_code, ms)
            payload = self._decode(response, write)
            if response.is_success and payload.get("status") == "success":
                return payload
            error = error_for_response(
                response.status_code,
                payload,
                write=write,
                retry_after_s=retry_after_s(response.headers.get("Retry-After")),
                redact=self._redact,
            )
            if not isinstance(error, RateLimited):
                raise error
            pause = error.retry_after_s or 0.0
            self.budget.pause(cls, pause)
            if attempt > self._rate_limit_retries or pause > self._max_inline_wait_s:
                raise error

    async def _send(self, request: httpx.Request, write: bool) -> httpx.Response:
        failure: VenueError
        try:
            return await self._http.send(request)
        except httpx.RequestError as exc:  # raised below, outside: no chained httpx request
            failure = error_for_transport(exc, write=write, redact=self._redact)
        raise failure

    def _decode(self, response: httpx.Response, write: bool) -> dict[str, Any]:
        try:
            payload = payloads.loads(response.content)
        except ValueError:
            payload = None
        if isinstance(payload, dict):
            return payload
        if not response.is_success:
            return {}  # classified by its HTTP status alone
        what = f"HTTP {response.status_code} with a body that is not a JSON object"
        raise Ambiguous(f"{what}: order state unknown") if write else MalformedResponse(what)

    def _ack(self, payload: dict[str, Any], order_id: str | None) -> OrderAck:
        try:
            return parse_ack(payload, order_id)
        except PayloadError as exc:  # it did something we cannot read: treat as unknown
            message = f"success we cannot read ({exc}): order state unknown"
        raise Ambiguous(self._redact(message))

    def _each(self, data: Any, parse: Callable[[Any], T]) -> list[T]:
        if not isinstance(data, list):
            raise MalformedResponse(f"'data' should be a list, got {type(data).__name__}")
        return [self._parse(parse, item) for item in data]

    def _parse(self, parse: Callable[[Any], T], data: Any) -> T:
        try:
            return parse(data)
        except PayloadError as exc:
            raise MalformedResponse(self._redact(str(exc))) from None

    def _redact(self, text: str) -> str:
        secret = self._token.get_secret_value()
        return text.replace(secret, "***") if secret else text


def _key(instrument_key: str) -> str:
    """`NSE_EQ|INE002A01018` as one path segment (the pipe is percent-encoded)."""
    return quote(instrument_key, safe="")
