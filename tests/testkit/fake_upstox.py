"""An in-memory Upstox on 127.0.0.1: FastAPI served by uvicorn in a background thread.

It speaks the documented v2/v3 shapes (orders, trades, positions, funds, candles,
holidays), checks `Authorization: Bearer <token>` (401 UDAPI100050 otherwise) and records
every request. Like the real broker it takes an order first and lets RMS reject it after
(tick, lot, funds), so those refusals show in the order book's `status_message`.

Per test: `script(route, ...)` makes the next N calls of a route (`place`, `modify`,
`cancel`, `order_book`, `order_details`, `order_history`, `trades`, `positions`, `funds`,
`holidays`, `candles`) answer an error, hang past the client's timeout (before or after
the order is stored) or both; `rate_limit` answers 429 with Retry-After; `fill` executes
(part of) an order. `candles[(kind, instrument_key, unit, interval)]` (kind `intraday` or
`historical`), `positions`, `funds` and `holidays` are whole fixture payloads, served as
they are (an empty list when unset). Numbers go out digit for digit.
"""

from __future__ import annotations

import asyncio
import json
import socket
import threading
import time
from collections.abc import Callable
from dataclasses import dataclass, field
from datetime import datetime
from decimal import Decimal
from itertools import count
from typing import Any

import uvicorn
from fastapi import FastAPI, Request, Response

from quantdesk.domain.time import IST

Payload = dict[str, Any]
Handler = Callable[[Request, Any], tuple[int, Payload]]


@dataclass(frozen=True)
class Received:
    method: str
    path: str
    query: dict[str, str]
    headers: dict[str, str]  # lower-case names
    body: Any  # parsed JSON (Decimals exact) or None


@dataclass(frozen=True)
class Listing:
    token: str
    symbol: str
    tick: Decimal = Decimal("0.05")
    lot: Decimal = Decimal(1)
    last_price: Decimal = Decimal(100)


@dataclass
class Behaviour:
    route: str
    status: int | None = None  # None: answer normally (after any hang)
    code: str | None = None
    message: str = ""
    retry_after: str | None = None
    hang_s: float = 0.0
    after_store: bool = False  # place/modify/cancel take effect before the misbehaviour


@dataclass
class FakeUpstox:
    token: str
    listings: dict[str, Listing] = field(default_factory=dict)
    available_margin: Decimal = Decimal(1_000_000)
    requests: list[Received] = field(default_factory=list)
    orders: dict[str, Payload] = field(default_factory=dict)
    history: list[Payload] = field(default_factory=list)
    trades: list[Payload] = field(default_factory=list)
    candles: dict[tuple[str, str, str, str], Payload] = field(default_factory=dict)
    # (instrument key, unit, from_date, to_date) -> candle rows newest first; wins over
    # `candles` for historical requests (backfills ask many ranges)
    candle_maker: Callable[[str, str, str, str], list[list[Any]]] | None = None
    positions: Payload | None = None
    funds: Payload | None = None
    holidays: Payload | None = None
    base_url: str = ""
    _script: list[Behaviour] = field(default_factory=list)
    _ids: count[int] = field(default_factory=lambda: count(1))
    _lock: threading.Lock = field(default_factory=threading.Lock)
    _release: threading.Event = field(default_factory=threading.Event)

    # -- test controls -------------------------------------------------------------------
    def reset(self) -> None:
        with self._lock:
            for store in (self.requests, self.orders, self.history, self.trades, self._script):
                store.clear()
            self.positions = self.funds = self.holidays = None
            self.candles.clear()
            self.candle_maker = None
            self.available_margin = Decimal(1_000_000)

    def script(self, route: str, times: int = 1, **behaviour: Any) -> None:
        with self._lock:
            self._script.extend(Behaviour(route, **behaviour) for _ in range(times))

    def rate_limit(self, route: str, times: int, retry_after: str | None = "1") -> None:
        self.script(
            route,
            times,
            status=429,
            code="UDAPI10005",
            message="Too Many Request Sent",
            retry_after=retry_after,
        )

    def seed_orders(self, items: list[Payload]) -> None:
        with self._lock:
            self.orders.update({item["order_id"]: dict(item) for item in items})

    def fill(self, order_id: str, quantity: str, price: str) -> Payload:
        """Execute `quantity` of an order at `price`: a trade, a new average, a new status."""
        qty, px = Decimal(quantity), Decimal(price)
        with self._lock:
            order = self.orders[order_id]
            done = Decimal(order["filled_quantity"])
            order["average_price"] = (Decimal(order["average_price"]) * done + qty * px) / (
                done + qty
            )
            order["filled_quantity"] = int(done + qty)
            order["pending_quantity"] = order["quantity"] - order["filled_quantity"]
            order["status"] = "complete" if order["pending_quantity"] == 0 else "open"
            trade = {key: order[key] for key in _TRADE_KEYS} | {
                "quantity": int(qty),
                "average_price": px,
                "trade_id": f"T{next(self._ids)}",
                "exchange_timestamp": _now("%d-%b-%Y %H:%M:%S"),
            }
            self.trades.append(trade)
            self.history.append(dict(order))
            return trade

    def orders_tagged(self, tag: str) -> list[Payload]:
        return [order for order in self.orders.values() if order.get("tag") == tag]

    def requests_to(self, path: str, method: str | None = None) -> list[Received]:
        return [r for r in self.requests if r.path == path and method in (None, r.method)]

    # -- the broker ------------------------------------------------------------------------
    def _place(self, request: Request, body: Any) -> tuple[int, Payload]:
        listing = self.listings.get(body.get("instrument_token"))
        if listing is None:
            return _error(400, "UDAPI100011", "Invalid Instrument key")
        if not body.get("quantity"):
            return _error(400, "UDAPI1052", "Order quantity cannot be zero")
        order_id = f"2510200000{next(self._ids):05d}"
        order = {key: body.get(key) for key in _ORDER_KEYS} | {
            "exchange": "NSE",
            "order_id": order_id,
            "trading_symbol": listing.symbol,
            "tradingsymbol": listing.symbol,
            "average_price": 0,
            "filled_quantity": 0,
            "pending_quantity": body["quantity"],
            "status_message": None,
            "exchange_order_id": f"13{order_id}",
            "order_timestamp": _now(),
            "exchange_timestamp": None,
            "is_amo": False,
            "variety": "SIMPLE",
            "status": "trigger pending" if body["order_type"] in ("SL", "SL-M") else "open",
        }
        refusal = self._rms(listing, body)
        if refusal:
            order |= {"status": "rejected", "status_message": refusal, "pending_quantity": 0}
        self.orders[order_id] = order
        self.history.append(dict(order))
        return 200, {
            "status": "success",
            "data": {"order_ids": [order_id]},
            "metadata": {"latency": 12},
        }

    def _rms(self, listing: Listing, body: Payload) -> str | None:
        for name in ("price", "trigger_price"):
            if Decimal(body[name]) % listing.tick:
                return f"Price {body[name]} is not a multiple of tick size {listing.tick}"
        if Decimal(body["quantity"]) % listing.lot:
            return f"Quantity should be a multiple of lot size {listing.lot}"
        price = Decimal(body["price"]) or listing.last_price
        needed = price * body["quantity"]
        if body["transaction_type"] == "BUY" and needed > self.available_margin:
            return f"RMS:Margin Exceeds, Insufficient funds. Required:{needed} Available:{self.available_margin}"  # noqa: E501
        return None

    def _working(self, order_id: str | None, finished_code: str) -> Payload | tuple[int, Payload]:
        order = self.orders.get(order_id or "")
        if order is None:
            return _error(400, "UDAPI100010", "Order not found")
        if order["status"] in ("complete", "cancelled", "rejected"):
            return _error(400, finished_code, f"Order is already {order['status']}")
        return order

    def _modify(self, request: Request, body: Any) -> tuple[int, Payload]:
        order = self._working(body.get("order_id"), "UDAPI100041")
        if isinstance(order, tuple):
            return order
        order.update(
            {key: body[key] for key in ("quantity", "price", "trigger_price", "order_type")}
        )
        order["pending_quantity"] = order["quantity"] - order["filled_quantity"]
        self.history.append(dict(order))
        return _ack(order["order_id"])

    def _cancel(self, request: Request, body: Any) -> tuple[int, Payload]:
        order = self._working(request.query_params.get("order_id"), "UDAPI100040")
        if isinstance(order, tuple):
            return order
        order["status"] = "cancelled"
        self.history.append(dict(order))
        return _ack(order["order_id"])

    def _order_book(self, request: Request, body: Any) -> tuple[int, Payload]:
        return _ok(list(self.orders.values()))

    def _details(self, request: Request, body: Any) -> tuple[int, Payload]:
        order = self.orders.get(request.query_params.get("order_id", ""))
        return _ok(order) if order else _error(400, "UDAPI100010", "Order not found")

    def _history(self, request: Request, body: Any) -> tuple[int, Payload]:
        wanted = {k: v for k, v in request.query_params.items() if k in ("order_id", "tag")}
        return _ok([h for h in self.history if all(h.get(k) == v for k, v in wanted.items())])

    def _trades(self, request: Request, body: Any) -> tuple[int, Payload]:
        order_id = request.query_params.get("order_id")
        return _ok([t for t in self.trades if order_id in (None, t["order_id"])])

    def _candles(self, request: Request, body: Any) -> tuple[int, Payload]:
        p = request.path_params
        kind = "intraday" if "/intraday/" in request.url.path else "historical"
        if kind == "historical" and self.candle_maker is not None:
            rows = self.candle_maker(p["key"], p["unit"], p.get("from_date", ""), p["to_date"])
            return 200, {"status": "success", "data": {"candles": rows}}
        payload = self.candles.get((kind, p["key"], p["unit"], p["interval"]))
        return (200, payload) if payload else _error(400, "UDAPI1087", "Invalid symbol")

    def _served(self, attribute: str) -> Handler:
        def handler(request: Request, body: Any) -> tuple[int, Payload]:
            payload = getattr(self, attribute)
            return (200, payload) if payload is not None else _ok([])

        return handler

    # -- HTTP ------------------------------------------------------------------------------
    def app(self) -> FastAPI:
        app = FastAPI()
        candle = "/v3/historical-candle/{key}/{unit}/{interval}"
        routes: list[tuple[str, str, str, Handler]] = [
            ("POST", "/v3/order/place", "place", self._place),
            ("PUT", "/v3/order/modify", "modify", self._modify),
            ("DELETE", "/v3/order/cancel", "cancel", self._cancel),
            ("GET", "/v2/order/retrieve-all", "order_book", self._order_book),
            ("GET", "/v2/order/details", "order_details", self._details),
            ("GET", "/v2/order/history", "order_history", self._history),
            ("GET", "/v2/order/trades/get-trades-for-day", "trades", self._trades),
            ("GET", "/v2/order/trades", "trades", self._trades),
            ("GET", "/v2/portfolio/short-term-positions", "positions", self._served("positions")),
            ("GET", "/v2/user/get-funds-and-margin", "funds", self._served("funds")),
            ("GET", "/v2/market/holidays", "holidays", self._served("holidays")),
            ("GET", candle.replace("{key}", "intraday/{key}"), "candles", self._candles),
            ("GET", candle + "/{to_date}", "candles", self._candles),
            ("GET", candle + "/{to_date}/{from_date}", "candles", self._candles),
        ]
        for method, path, route, handler in routes:
            app.add_api_route(
                path, self._endpoint(route, handler), methods=[method], response_model=None
            )
        return app

    def _endpoint(self, route: str, handler: Handler) -> Callable[[Request], Any]:
        async def endpoint(request: Request) -> Response:
            raw = await request.body()
            body = json.loads(raw, parse_float=Decimal) if raw else None
            query, headers = dict(request.query_params), dict(request.headers)
            with self._lock:
                self.requests.append(
                    Received(request.method, request.url.path, query, headers, body)
                )
            if headers.get("authorization") != f"Bearer {self.token}":
                return _respond(*_error(401, "UDAPI100050", "Invalid token used to access API"))
            with self._lock:
                behaviour = next((b for b in self._script if b.route == route), None)
                if behaviour is not None:
                    self._script.remove(behaviour)
            if behaviour is None:
                return _respond(*self._handle(handler, request, body))
            answer = self._handle(handler, request, body) if behaviour.after_store else None
            await self._hang(behaviour.hang_s)
            if behaviour.status is None:  # a slow broker: it answers (or acts) late
                return _respond(*(answer or self._handle(handler, request, body)))
            error = _error(behaviour.status, behaviour.code, behaviour.message)
            retry = {"Retry-After": behaviour.retry_after} if behaviour.retry_after else {}
            return _respond(*error, retry)

        return endpoint

    def _handle(self, handler: Handler, request: Request, body: Any) -> tuple[int, Payload]:
        with self._lock:
            return handler(request, body)

    async def _hang(self, seconds: float) -> None:
        deadline = time.monotonic() + seconds
        while time.monotonic() < deadline and not self._release.is_set():
            await asyncio.sleep(0.01)

    # -- the server thread -------------------------------------------------------------------
    def __enter__(self) -> FakeUpstox:
        sock = socket.socket(socket.AF_INET, socket.SOCK_STREAM)
        sock.bind(("127.0.0.1", 0))
        self.base_url = f"http://127.0.0.1:{sock.getsockname()[1]}"
        config = uvicorn.Config(
            self.app(),
            log_level="warning",
            lifespan="off",
            log_config=None,
            access_log=False,
            timeout_graceful_shutdown=1,
        )
        self._server = uvicorn.Server(config)
        self._thread = threading.Thread(target=self._server.run, args=([sock],), daemon=True)
        self._thread.start()
        deadline = time.monotonic() + 10
        while not self._server.started:
            if time.monotonic() > deadline or not self._thread.is_alive():
                raise RuntimeError("the fake Upstox server did not start")
            time.sleep(0.01)
        return self

    def __exit__(self, *exc: object) -> None:
        self._release.set()  # let hanging handlers go, so shutdown does not wait on them
        self._server.should_exit = True
        self._thread.join(timeout=5)


_ORDER_KEYS = (  # noqa: SIM905 - field names read as a sentence
    "quantity product validity price tag instrument_token order_type transaction_type "
    "disclosed_quantity trigger_price"
).split()
_TRADE_KEYS = (  # noqa: SIM905
    "exchange product trading_symbol tradingsymbol instrument_token order_type "
    "transaction_type exchange_order_id order_id"
).split()


def _now(layout: str = "%Y-%m-%d %H:%M:%S") -> str:
    return datetime.now(IST).strftime(layout)


def _ok(data: Any) -> tuple[int, Payload]:
    return 200, {"status": "success", "data": data}


def _ack(order_id: str) -> tuple[int, Payload]:
    return 200, {"status": "success", "data": {"order_id": order_id}, "metadata": {"latency": 9}}


def _error(status: int, code: str | None, message: str) -> tuple[int, Payload]:
    problem = {"errorCode": code, "error_code": code, "message": message}
    problem |= dict.fromkeys(("propertyPath", "invalidValue", "property_path", "invalid_value"))
    return status, {"status": "error", "errors": [problem]}


def _respond(status: int, payload: Payload, headers: dict[str, str] | None = None) -> Response:
    return Response(_encode(payload), status, headers, media_type="application/json")


def _encode(value: Any) -> str:
    """JSON with Decimals written as the exact numbers they are."""
    if isinstance(value, Decimal):
        return format(value, "f")
    if isinstance(value, dict):
        return "{" + ",".join(f"{json.dumps(k)}:{_encode(v)}" for k, v in value.items()) + "}"
    if isinstance(value, list | tuple):
        return "[" + ",".join(_encode(v) for v in value) + "]"
    return json.dumps(value)
