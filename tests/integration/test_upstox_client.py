"""UpstoxClient against the in-memory Upstox (tests/testkit/fake_upstox.py) over real HTTP
on 127.0.0.1: orders, exact payload parsing, candles, SAFE_MODE, every error mapping, the
request budget under a 429 storm, and the ambiguous place that must not become two orders."""

from __future__ import annotations

import asyncio
import logging
import socket
import threading
import time
from collections.abc import Awaitable, Callable, Iterator
from datetime import UTC, date, datetime
from decimal import Decimal
from pathlib import Path
from typing import Any, TypeVar

import pytest
from pydantic import SecretStr

from quantdesk.domain.enums import OrderType, Side
from quantdesk.domain.errors import Ambiguous, RateLimited, Rejected, TransientError
from quantdesk.domain.order import OrderStatus
from quantdesk.domain.time import NS_PER_DAY, NS_PER_MINUTE, NS_PER_S
from quantdesk.venues.upstox import (
    AuthFailed,
    DuplicateTag,
    EndpointClass,
    ModifyRequest,
    PlaceRequest,
    Rate,
    RequestBudget,
    UpstoxClient,
)
from quantdesk.venues.upstox.payloads import loads
from tests.testkit.fake_upstox import FakeUpstox, Listing

FIXTURES = Path(__file__).parents[1] / "fixtures" / "upstox"
TOKEN = "upstox-token-5b8e0c71d2"  # a stand-in secret: it must never leak
RELIANCE, LOTTED = "NSE_EQ|INE002A01018", "NSE_FO|52618"
LISTINGS = {
    RELIANCE: Listing(RELIANCE, "RELIANCE", last_price=Decimal("2305")),
    LOTTED: Listing(LOTTED, "BANKNIFTY25OCT57000PE", lot=Decimal(15)),
}
PLACE, MODIFY, CANCEL = "/v3/order/place", "/v3/order/modify", "/v3/order/cancel"
T = TypeVar("T")


def fixture(name: str) -> Any:
    return loads((FIXTURES / name).read_bytes())


def limit_buy(
    tag: str, qty: str = "10", price: str = "2305.35", token: str = RELIANCE
) -> PlaceRequest:
    return PlaceRequest(tag, token, Side.BUY, OrderType.LIMIT, Decimal(qty), Decimal(price))


@pytest.fixture(scope="module")
def server() -> Iterator[FakeUpstox]:
    with FakeUpstox(TOKEN, listings=LISTINGS) as fake:
        yield fake


@pytest.fixture
def fake(server: FakeUpstox) -> FakeUpstox:
    server.reset()
    return server


def with_client(
    fake_or_url: FakeUpstox | str,
    scenario: Callable[[UpstoxClient], Awaitable[T]],
    *,
    token: SecretStr | str = TOKEN,
    **options: Any,
) -> T:
    """Run `scenario` with a fresh client (and budget) in its own event loop."""
    url = fake_or_url if isinstance(fake_or_url, str) else fake_or_url.base_url
    options = {"safe_mode": False, "timeout_s": 2.0} | options

    async def main() -> T:
        async with UpstoxClient(url, token, **options) as client:
            return await scenario(client)

    return asyncio.run(main())


# -- orders -----------------------------------------------------------------------------
def test_place_modify_cancel_round_trip(fake: FakeUpstox) -> None:
    async def scenario(client: UpstoxClient) -> None:
        ack = await client.place_order(limit_buy("qroundtrip00000001"))
        assert ack.latency_ms == 12
        await client.modify_order(
            ModifyRequest(ack.order_id, OrderType.LIMIT, Decimal(10), Decimal("2305.40"))
        )
        assert fake.orders[ack.order_id]["price"] == Decimal("2305.40")
        await client.cancel_order(ack.order_id)
        details = await client.order_details(ack.order_id)
        assert (details.status, details.price, details.tag) == (
            OrderStatus.CANCELLED,
            Decimal("2305.40"),
            "qroundtrip00000001",
        )
        history = await client.order_history(order_id=ack.order_id)
        assert [h.venue_status for h in history] == ["open", "open", "cancelled"]
        stop = PlaceRequest(
            "qroundtrip00000002",
            RELIANCE,
            Side.SELL,
            OrderType.STOP,
            Decimal(10),
            None,
            Decimal("2290.05"),
        )
        stop_ack = await client.place_order(stop)
        assert (await client.order_details(stop_ack.order_id)).status is OrderStatus.ACCEPTED

    with_client(fake, scenario)
    place = fake.requests_to(PLACE)[0]
    assert place.body == {
        "quantity": 10,
        "product": "I",
        "validity": "DAY",
        "price": Decimal("2305.35"),
        "tag": "qroundtrip00000001",
        "instrument_token": RELIANCE,
        "order_type": "LIMIT",
        "transaction_type": "BUY",
        "disclosed_quantity": 0,
        "trigger_price": 0,
        "is_amo": False,
        "slice": False,
    }
    assert place.headers["authorization"] == f"Bearer {TOKEN}"
    assert (
        fake.requests_to(MODIFY)[0].body["order_id"]
        == fake.requests_to(CANCEL)[0].query["order_id"]
    )
    assert fake.requests_to("/v2/order/details")[0].headers["api-version"] == "2.0"
    stop_body = fake.requests_to(PLACE)[1].body
    assert (stop_body["order_type"], stop_body["price"], stop_body["trigger_price"]) == (
        "SL-M",
        0,
        Decimal("2290.05"),
    )


def test_order_book_details_and_trades_are_exact_decimals(fake: FakeUpstox) -> None:
    fake.seed_orders(fixture("order_book.json")["data"])

    async def scenario(client: UpstoxClient) -> None:
        book = {order.order_id: order for order in await client.order_book()}
        done, stop = book["251020000000101"], book["251020000000102"]
        assert (done.status, done.average_price, done.filled_quantity) == (
            OrderStatus.FILLED,
            Decimal("2305.1"),
            Decimal(10),
        )
        assert (
            done.order_ts
            == int(datetime(2025, 10, 20, 3, 46, 2, tzinfo=UTC).timestamp()) * NS_PER_S
        )
        assert (stop.price, stop.trigger_price, stop.order_type, stop.tag) == (
            Decimal("0.8"),
            Decimal("0.85"),
            OrderType.STOP_LIMIT,
            None,
        )
        assert stop.status is OrderStatus.ACCEPTED and stop.exchange_ts is None
        snapshot = done.snapshot()
        assert (snapshot.client_order_id, snapshot.avg_fill_price) == (
            "qseedcomplete000001",
            Decimal("2305.1"),
        )

        ack = await client.place_order(limit_buy("qpartial0000000001"))
        fake.fill(ack.order_id, "3", "2305.35")
        fake.fill(ack.order_id, "2", "2305.40")
        partial = await client.order_details(ack.order_id)
        assert partial.status is OrderStatus.PARTIALLY_FILLED
        assert (partial.filled_quantity, partial.pending_quantity) == (Decimal(5), Decimal(5))
        assert partial.average_price == Decimal("2305.37")
        trades = await client.order_trades(ack.order_id)
        assert [(t.quantity, t.price) for t in trades] == [
            (Decimal(3), Decimal("2305.35")),
            (Decimal(2), Decimal("2305.40")),
        ]
        fill = trades[0].fill("qpartial0000000001", "RELIANCE")
        assert (fill.fill_id, fill.side, fill.ts > 0) == (trades[0].trade_id, Side.BUY, True)
        assert len(await client.trades_for_day()) == 2

    with_client(fake, scenario)


def test_positions_and_funds_are_exact(fake: FakeUpstox) -> None:
    fake.positions, fake.funds = fixture("positions.json"), fixture("funds.json")

    async def scenario(client: UpstoxClient) -> None:
        (position,) = await client.positions()
        assert (position.quantity, position.average_price, position.last_price) == (
            Decimal(-10),
            Decimal("2305.65"),
            Decimal("2304.4"),
        )
        assert position.realised == 0 and position.unrealised == Decimal("12.5")
        funds = await client.funds_and_margin(segment="SEC")
        assert funds["equity"]["available_margin"] == Decimal("95388.93")
        assert funds["equity"]["used_margin"] == Decimal("4611.07")

    with_client(fake, scenario)
    assert fake.requests_to("/v2/user/get-funds-and-margin")[0].query == {"segment": "SEC"}


# -- candles and holidays -----------------------------------------------------------------
def test_intraday_candles_become_bars_oldest_first_in_epoch_ns(fake: FakeUpstox) -> None:
    fake.candles[("intraday", RELIANCE, "minutes", "1")] = fixture("candles_intraday_1minute.json")
    bars = with_client(
        fake, lambda c: c.intraday_candles(RELIANCE, symbol="RELIANCE", unit="minutes", interval=1)
    )
    open_0915_ist = int(datetime(2025, 10, 20, 3, 45, tzinfo=UTC).timestamp()) * NS_PER_S
    assert [bar.ts for bar in bars] == [open_0915_ist + i * NS_PER_MINUTE for i in range(3)]
    first = bars[0]
    assert (first.symbol, first.open, first.high, first.low, first.close, first.volume) == (
        "RELIANCE",
        Decimal(2301),
        Decimal("2305.3"),
        Decimal("2300.05"),
        Decimal("2304.65"),
        Decimal(559982),
    )
    assert {bar.duration for bar in bars} == {NS_PER_MINUTE}
    assert fake.requests[0].path == "/v3/historical-candle/intraday/NSE_EQ|INE002A01018/minutes/1"


def test_historical_month_candles_last_their_calendar_month(fake: FakeUpstox) -> None:
    fake.candles[("historical", RELIANCE, "months", "1")] = fixture("candles_historical_month.json")
    bars = with_client(
        fake,
        lambda c: c.historical_candles(
            RELIANCE,
            symbol="RELIANCE",
            unit="months",
            interval=1,
            to_date=date(2025, 10, 31),
            from_date=date(2025, 9, 1),
        ),
    )
    assert [b.ts for b in bars] == [
        int(datetime(2025, 8, 31, 18, 30, tzinfo=UTC).timestamp()) * NS_PER_S,
        int(datetime(2025, 9, 30, 18, 30, tzinfo=UTC).timestamp()) * NS_PER_S,
    ]
    assert [b.duration for b in bars] == [30 * NS_PER_DAY, 31 * NS_PER_DAY]
    assert bars[1].volume == Decimal(235519861)
    assert fake.requests[0].path.endswith("/months/1/2025-10-31/2025-09-01")


# -- SAFE_MODE and local validation --------------------------------------------------------
def test_safe_mode_refuses_place_and_modify_before_any_request(fake: FakeUpstox) -> None:
    async def scenario(client: UpstoxClient) -> list[str]:
        reasons = []
        for call in (
            client.place_order(limit_buy("qsafemode000000001")),
            client.modify_order(ModifyRequest("251020000000001", OrderType.MARKET, Decimal(1))),
        ):
            with pytest.raises(Rejected) as refused:
                await call
            reasons.append(refused.value.reason)
        return reasons

    assert with_client(fake, scenario, safe_mode=True) == ["SAFE_MODE", "SAFE_MODE"]
    assert fake.requests == [] and fake.orders == {}


def test_safe_mode_still_lets_a_cancel_through(fake: FakeUpstox) -> None:
    with pytest.raises(Rejected) as unknown:
        with_client(fake, lambda c: c.cancel_order("251020999999999"), safe_mode=True)
    assert unknown.value.reason == "UNKNOWN_ORDER"
    assert len(fake.requests_to(CANCEL)) == 1


@pytest.mark.parametrize(
    ("request_", "reason"),
    [
        (limit_buy("qfraction000000001", qty="1.5"), "INVALID_QUANTITY"),
        (
            PlaceRequest("qnoprice0000000001", RELIANCE, Side.BUY, OrderType.LIMIT, Decimal(1)),
            "INVALID_PRICE",
        ),
        (limit_buy("qnegative000000001", price="-1"), "INVALID_PRICE"),
        (limit_buy(""), "INVALID_ORDER"),
    ],
    ids=["fractional-quantity", "limit-without-price", "negative-price", "no-tag"],
)
def test_malformed_orders_are_refused_locally(
    fake: FakeUpstox, request_: PlaceRequest, reason: str
) -> None:
    with pytest.raises(Rejected) as refused:
        with_client(fake, lambda c: c.place_order(request_))
    assert refused.value.reason == reason
    assert fake.requests == []


# -- error mapping ----------------------------------------------------------------------------
REJECTIONS = {  # id: (HTTP status, errorCode, message, our reason)
    "zero-quantity": (400, "UDAPI1052", "Order quantity cannot be zero", "INVALID_QUANTITY"),
    "mcx-disabled": (400, "UDAPI1161", "MCX orders are disabled", "INSTRUMENT_NOT_ALLOWED"),
    "api-hours": (400, "UDAPI100074", "API accessible 05:30-24:00", "MARKET_CLOSED"),
    "no-trigger": (400, "UDAPI1036", "Trigger price is required", "INVALID_PRICE"),
    "uplink-only": (403, "UDAPI100049", "Use Uplink Business", "NOT_PERMITTED"),
    "funds-text": (400, "UDAPI9999", "Insufficient funds in account", "INSUFFICIENT_FUNDS"),
    "tick-text": (400, None, "Price is not a multiple of tick size", "INVALID_PRICE"),
    "lot-text": (400, None, "Quantity should be a multiple of lot size", "INVALID_QUANTITY"),
    "unclassified": (400, None, "Something new", "VENUE_REJECTED"),
}


@pytest.mark.parametrize("case", REJECTIONS.values(), ids=REJECTIONS.keys())
def test_business_rejections_map_to_our_reasons(
    fake: FakeUpstox, case: tuple[int, str | None, str, str]
) -> None:
    status, code, message, reason = case
    fake.script("place", status=status, code=code, message=message)
    with pytest.raises(Rejected) as refused:
        with_client(fake, lambda c: c.place_order(limit_buy("qrejected000000001")))
    assert refused.value.reason == reason
    assert message in refused.value.venue_message
    assert fake.orders == {}


@pytest.mark.parametrize(
    ("route", "answer", "error"),
    [
        ("place", dict(status=503, code=None, message="offline for maintenance"), TransientError),
        ("place", dict(status=500, code="UDAPI100500", message="Something went wrong"), Ambiguous),
        ("place", dict(status=502, code=None, message="bad gateway"), Ambiguous),
        ("cancel", dict(status=504, code=None, message="gateway timeout"), Ambiguous),
        (
            "order_book",
            dict(status=500, code="UDAPI100500", message="Something went wrong"),
            TransientError,
        ),
    ],
    ids=["503-place-not-processed", "500-place", "502-place", "504-cancel", "500-read"],
)
def test_server_errors_are_transient_or_ambiguous(
    fake: FakeUpstox, route: str, answer: dict[str, Any], error: type[Exception]
) -> None:
    fake.script(route, **answer)
    calls = {
        "place": lambda c: c.place_order(limit_buy("qservererr00000001")),
        "cancel": lambda c: c.cancel_order("251020000000001"),
        "order_book": lambda c: c.order_book(),
    }
    with pytest.raises(error) as raised:
        with_client(fake, calls[route])
    assert type(raised.value) is error  # an Ambiguous is never mistaken for a TransientError
    assert fake.orders == {}


def test_the_brokers_own_refusals(fake: FakeUpstox) -> None:
    async def scenario(client: UpstoxClient) -> dict[str, str | None]:
        reasons: dict[str, str | None] = {}
        with pytest.raises(Rejected) as unknown_instrument:
            await client.place_order(limit_buy("qbadinstrument0001", token="NSE_EQ|NOPE"))
        reasons["instrument"] = unknown_instrument.value.reason
        done = await client.place_order(limit_buy("qfilled00000000001", qty="1"))
        fake.fill(done.order_id, "1", "2305.35")
        for name, call in (
            ("cancel-filled", client.cancel_order(done.order_id)),
            (
                "modify-filled",
                client.modify_order(ModifyRequest(done.order_id, OrderType.MARKET, Decimal(1))),
            ),
            ("cancel-unknown", client.cancel_order("251020999999999")),
            ("details-unknown", client.order_details("251020999999999")),
        ):
            with pytest.raises(Rejected) as refused:
                await call
            reasons[name] = refused.value.reason
        fake.available_margin = Decimal(1000)
        for name, request in (
            ("rms-tick", limit_buy("qofftick0000000001", qty="1", price="2305.33")),
            ("rms-lot", limit_buy("qofflot00000000001", qty="10", price="100", token=LOTTED)),
            ("rms-funds", limit_buy("qnofunds0000000001", qty="1")),
        ):
            ack = await client.place_order(request)  # accepted, then rejected by RMS
            order = await client.order_details(ack.order_id)
            assert (
                order.status is OrderStatus.REJECTED
                and order.snapshot().status is OrderStatus.REJECTED
            )
            reasons[name] = order.rejection_reason
        return reasons

    assert with_client(fake, scenario) == {
        "instrument": "INSTRUMENT_NOT_ALLOWED",
        "cancel-filled": "ORDER_FINALIZED",
        "modify-filled": "ORDER_FINALIZED",
        "cancel-unknown": "UNKNOWN_ORDER",
        "details-unknown": "UNKNOWN_ORDER",
        "rms-tick": "INVALID_PRICE",
        "rms-lot": "INVALID_QUANTITY",
        "rms-funds": "INSUFFICIENT_FUNDS",
    }


def test_a_bad_token_is_an_auth_failure(fake: FakeUpstox) -> None:
    with pytest.raises(AuthFailed) as denied:
        with_client(fake, lambda c: c.order_book(), token=SecretStr("not-the-token"))
    assert denied.value.reason == "AUTH_FAILED" and "UDAPI100050" in str(denied.value)
    assert fake.requests[0].headers["authorization"] == "Bearer not-the-token"


def free_port_url() -> str:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return f"http://127.0.0.1:{sock.getsockname()[1]}"  # closed again: refused


def test_connection_refused_is_transient_even_for_a_place() -> None:
    with pytest.raises(TransientError) as refused:
        with_client(free_port_url(), lambda c: c.place_order(limit_buy("qrefused0000000001")))
    assert type(refused.value) is TransientError


class DroppingServer:
    """Reads one HTTP request per connection and closes it unanswered: a reset after send."""

    def __init__(self) -> None:
        self.received = 0
        self._sock = socket.create_server(("127.0.0.1", 0))
        self._sock.settimeout(0.05)
        self.base_url = f"http://127.0.0.1:{self._sock.getsockname()[1]}"
        self._stop = threading.Event()
        self._thread = threading.Thread(target=self._serve, daemon=True)

    def __enter__(self) -> DroppingServer:
        self._thread.start()
        return self

    def __exit__(self, *exc: object) -> None:
        self._stop.set()
        self._thread.join(timeout=5)
        self._sock.close()

    def _serve(self) -> None:
        while not self._stop.is_set():
            try:
                conn, _ = self._sock.accept()
            except TimeoutError:
                continue
            with conn:
                conn.settimeout(2)
                data = b""
                while b"\r\n\r\n" not in data and (chunk := conn.recv(65536)):
                    data += chunk
                self.received += 1


def test_a_reset_after_sending_is_ambiguous_for_orders_and_transient_for_reads() -> None:
    with DroppingServer() as dropping:
        with pytest.raises(Ambiguous):
            with_client(dropping.base_url, lambda c: c.place_order(limit_buy("qreset000000000001")))
        with pytest.raises(TransientError) as read:
            with_client(dropping.base_url, lambda c: c.positions())
    assert type(read.value) is TransientError
    assert dropping.received == 2


# -- the budget under a 429 storm; idempotency after an ambiguous place -------------------------
def test_a_429_storm_waits_out_retry_after_and_places_exactly_once(fake: FakeUpstox) -> None:
    fake.rate_limit("place", times=3, retry_after="1")
    budget = RequestBudget()
    started = time.monotonic()
    ack = with_client(fake, lambda c: c.place_order(limit_buy("qstorm000000000001")), budget=budget)
    assert time.monotonic() - started >= 2.9
    assert len(fake.requests_to(PLACE)) == 4
    assert (
        list(fake.orders) == [ack.order_id] and len(fake.orders_tagged("qstorm000000000001")) == 1
    )
    assert [w.cause for w in budget.waits] == ["paused"] * 3
    assert all(0.9 <= w.seconds <= 1.0 for w in budget.waits)
    assert budget.waited_s[EndpointClass.ORDERS] >= 2.7


def test_a_long_retry_after_is_returned_to_the_caller_and_pauses_the_class(
    fake: FakeUpstox,
) -> None:
    fake.rate_limit("order_book", times=1, retry_after="30")
    budget = RequestBudget()
    with pytest.raises(RateLimited) as limited:
        with_client(fake, lambda c: c.order_book(), budget=budget)
    assert limited.value.retry_after_s == 30
    assert 29 < budget.paused_for(EndpointClass.ORDER_QUERIES) <= 30
    assert budget.paused_for(EndpointClass.ORDERS) == 0
    assert len(fake.requests) == 1


def test_a_hang_after_storing_is_ambiguous_and_the_tag_finds_the_order(fake: FakeUpstox) -> None:
    fake.script("place", hang_s=5.0, after_store=True)
    tag = "qhang0000000000001"

    async def scenario(client: UpstoxClient) -> None:
        with pytest.raises(Ambiguous) as unknown:
            await client.place_order(limit_buy(tag))
        assert "ReadTimeout" in str(unknown.value)
        found = await client.find_order_by_tag(tag)
        assert found is not None and found.snapshot().client_order_id == tag
        assert found.snapshot().status is OrderStatus.ACCEPTED

    with_client(fake, scenario, timeout_s=0.3)
    assert len(fake.requests_to(PLACE)) == 1 and len(fake.orders_tagged(tag)) == 1


def test_find_order_by_tag_answers_none_or_refuses_to_pick_between_duplicates(
    fake: FakeUpstox,
) -> None:
    seeded = fixture("order_book.json")["data"]
    twin = seeded[0] | {"order_id": "251020000000103"}
    fake.seed_orders([*seeded, twin])

    async def scenario(client: UpstoxClient) -> None:
        assert await client.find_order_by_tag("qneverplaced000001") is None
        with pytest.raises(DuplicateTag):
            await client.find_order_by_tag("qseedcomplete000001")

    with_client(fake, scenario)
    assert len(fake.requests_to("/v2/order/retrieve-all")) == 2  # one book call per lookup


# -- the token ------------------------------------------------------------------------------------
def test_the_token_is_never_logged_nor_in_errors_or_reprs(
    fake: FakeUpstox, caplog: pytest.LogCaptureFixture
) -> None:
    caplog.set_level(logging.DEBUG)
    for name in ("httpx", "httpcore", "quantdesk"):
        caplog.set_level(logging.DEBUG, logger=name)
    fake.script("place", status=400, code="UDAPI100036", message=f"bad header Bearer {TOKEN}")
    fake.script("order_book", hang_s=2.0)
    errors: list[Exception] = []

    async def scenario(client: UpstoxClient) -> str:
        for call in (
            client.place_order(limit_buy("qtokencheck0000001")),  # the venue echoes the token
            client.order_book(),  # times out
        ):
            try:
                await call
            except Exception as exc:
                errors.append(exc)
        await client.place_order(limit_buy("qtokencheck0000002"))
        return repr(client) + repr(client.budget)

    reprs = with_client(fake, scenario, timeout_s=0.3)
    try:
        with_client(free_port_url(), lambda c: c.positions())
    except TransientError as exc:
        errors.append(exc)
    assert [type(e) for e in errors] == [Rejected, TransientError, TransientError]
    assert any(r.name.startswith("httpcore") for r in caplog.records)  # the noisy loggers were on
    assert any(r.name.startswith("httpx") for r in caplog.records)
    for text in (caplog.text, reprs, *map(str, errors), *map(repr, errors)):
        assert TOKEN not in text
    assert "***" in str(errors[0])


# -- the budget's arithmetic, on a simulated clock -----------------------------------------
class SimClock:
    def __init__(self) -> None:
        self.now = 0.0

    def __call__(self) -> float:
        return self.now

    async def sleep(self, seconds: float) -> None:
        self.now += seconds


def spend(budget: RequestBudget, cls: EndpointClass, times: int, clock: SimClock) -> list[float]:
    async def main() -> list[float]:
        sent = []
        for _ in range(times):
            await budget.acquire(cls)
            sent.append(clock.now)
        return sent

    return asyncio.run(main())


def test_budget_never_lets_more_than_the_limit_into_any_window() -> None:
    clock = SimClock()
    budget = RequestBudget({EndpointClass.ORDERS: Rate(3, 10)}, clock=clock, sleep=clock.sleep)
    sent = spend(budget, EndpointClass.ORDERS, 25, clock)
    for i, start in enumerate(sent):
        assert sum(1 for t in sent[i:] if t < start + 1.0) <= 3
        assert sum(1 for t in sent[i:] if t < start + 60.0) <= 10
    assert sent[:4] == [0.0, 0.0, 0.0, 1.0]
    assert sent[10] == 60.0  # the 11th waits for the first of the minute to age out
    assert {w.cause for w in budget.waits} == {"rate"}


def test_budget_pause_holds_only_its_class_and_reports_the_wait() -> None:
    clock, seen = SimClock(), []
    budget = RequestBudget(clock=clock, sleep=clock.sleep, on_wait=seen.append)
    budget.pause(EndpointClass.PORTFOLIO, 2.5)
    budget.pause(EndpointClass.PORTFOLIO, 1.0)  # a shorter pause never shortens the current one
    assert spend(budget, EndpointClass.MARKET_DATA, 1, clock) == [0.0]
    assert spend(budget, EndpointClass.PORTFOLIO, 1, clock) == [2.5]
    assert [(w.endpoint_class, w.seconds, w.cause) for w in seen] == [
        (EndpointClass.PORTFOLIO, 2.5, "paused")
    ]
