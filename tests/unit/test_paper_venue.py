"""The paper venue against bars and quotes: prices, quantities, timing, races."""

from __future__ import annotations

from decimal import Decimal

import pytest

from quantdesk.config import RiskLimits
from quantdesk.domain import Bar, Order, OrderType, Quote, Side
from quantdesk.domain.enums import Mode
from quantdesk.domain.order import (
    OrderAccepted,
    OrderCancelled,
    OrderCancelRejected,
    OrderFilled,
    OrderRejected,
)
from quantdesk.engine.clock import SimulatedClock
from quantdesk.engine.engine import Engine
from quantdesk.venues.paper import PaperVenue, PaperVenueConfig

D = Decimal
M = 60_000_000_000  # one minute
T0 = 1_764_000_000_000_000_000


class Env:
    """A paper venue on an engine clock, recording every update it delivers."""

    def __init__(self, **config) -> None:
        self.engine = Engine(SimulatedClock(T0 - M), mode=Mode.BACKTEST, limits=RiskLimits())
        self.updates = []
        self.venue = PaperVenue(self.engine, self.updates.append, PaperVenueConfig(**config))
        self._ids = 0

    def order(
        self, side="BUY", kind="MARKET", qty="10", limit=None, trigger=None, reduce_only=False
    ) -> Order:
        self._ids += 1
        return Order(
            f"q{self._ids}",
            "X",
            Side(side),
            OrderType(kind),
            D(qty),
            limit_price=D(limit) if limit else None,
            trigger_price=D(trigger) if trigger else None,
            reduce_only=reduce_only,
        )

    def submit(self, *orders: Order) -> None:
        for o in orders:
            self.venue.submit(o)
        self.engine.drain(self.engine.now())

    def bar(self, n: int, o: str, h: str, low: str, c: str, v: str = "1000") -> None:
        """Bar n opens at T0 + n minutes; the engine sees it at its end."""
        bar = Bar("X", T0 + n * M, D(o), D(h), D(low), D(c), D(v), M)
        self.engine.drain(bar.ts)
        self.engine.clock.advance_to(bar.end)
        self.venue.on_bar(bar)
        self.engine.drain(bar.end)

    def at(self, ts: int) -> None:
        self.engine.drain(ts)
        self.engine.clock.advance_to(ts)

    def fills(self, cid: str | None = None) -> list[tuple[Decimal, Decimal]]:
        return [
            (u.event.fill.quantity, u.event.fill.price)
            for u in self.updates
            if isinstance(u.event, OrderFilled) and (cid is None or u.client_order_id == cid)
        ]

    def events(self, cid: str) -> list[type]:
        return [type(u.event) for u in self.updates if u.client_order_id == cid]


def test_market_order_fills_at_the_next_bar_open() -> None:
    env = Env()
    o = env.order()
    env.submit(o)  # live at T0, the open of bar 0
    env.bar(0, "100", "101", "99", "100.5")
    assert env.fills() == [(D(10), D(100))]
    assert env.events(o.client_order_id) == [OrderAccepted, OrderFilled]


def test_an_order_that_arrives_during_a_bar_waits_for_the_next() -> None:
    env = Env(latency_ms=50)
    env.at(T0)
    o = env.order()
    env.submit(o)  # live at T0 + 50 ms: after bar 0 opened
    env.bar(0, "100", "101", "99", "100.5")
    assert env.fills() == []
    env.bar(1, "102", "103", "101", "102")
    assert env.fills() == [(D(10), D(102))]


@pytest.mark.parametrize(
    ("side", "limit", "bar", "expected"),
    [
        ("BUY", "100", ("99.5", "101", "99", "100"), D("99.5")),  # gap through: the open
        ("BUY", "100", ("101", "102", "99.95", "101"), D("100")),  # touched: the limit
        ("BUY", "100", ("101", "102", "100.05", "101"), None),  # never reached
        ("SELL", "100", ("100.5", "101", "99", "100"), D("100.5")),
        ("SELL", "100", ("99", "100.2", "98", "99"), D("100")),
        ("SELL", "100", ("99", "99.95", "98", "99"), None),
    ],
)
def test_limit_orders(side, limit, bar, expected) -> None:
    env = Env()
    env.submit(env.order(side, "LIMIT", limit=limit))
    env.bar(0, *bar)
    assert env.fills() == ([] if expected is None else [(D(10), expected)])


@pytest.mark.parametrize(
    ("side", "trigger", "bar", "expected"),
    [
        ("BUY", "101", ("102", "103", "101.5", "102"), D("102")),  # gap: the open
        ("BUY", "101", ("100", "101.5", "99.5", "101"), D("101")),  # reached: the trigger
        ("BUY", "101", ("100", "100.95", "99", "100"), None),
        ("SELL", "99", ("98", "98.5", "97", "98"), D("98")),
        ("SELL", "99", ("100", "100.5", "98.9", "99"), D("99")),
    ],
)
def test_stop_orders(side, trigger, bar, expected) -> None:
    env = Env()
    env.submit(env.order(side, "STOP", trigger=trigger))
    env.bar(0, *bar)
    assert env.fills() == ([] if expected is None else [(D(10), expected)])


def test_stop_slippage_moves_against_us_onto_the_tick_grid() -> None:
    env = Env(half_spread_bps=D(10))
    env.submit(env.order("BUY", "STOP", trigger="101"), env.order("SELL", "MARKET"))
    env.bar(0, "100", "101.5", "99.5", "101")
    # buy stop at 101 + 10 bps = 101.101 -> up to 101.15; market sell 100 - 0.1 = 99.9
    assert sorted(env.fills()) == [(D(10), D("99.90")), (D(10), D("101.15"))]


def test_stop_limit_marketable_at_trigger_fills_else_rests() -> None:
    env = Env()
    marketable = env.order("BUY", "STOP_LIMIT", limit="101.5", trigger="101")
    resting = env.order("BUY", "STOP_LIMIT", limit="100.5", trigger="101")
    env.submit(marketable, resting)
    env.bar(0, "100", "101.5", "100.8", "101.2")
    assert env.fills(marketable.client_order_id) == [(D(10), D(101))]
    assert env.fills(resting.client_order_id) == []  # triggered, limit below the trigger
    env.bar(1, "101", "101.2", "100.4", "100.6")  # a later bar trades down to its limit
    assert env.fills(resting.client_order_id) == [(D(10), D("100.5"))]


def test_quotes_fill_at_the_touch_within_its_size() -> None:
    env = Env()
    buy, sell = env.order("BUY", qty="10"), env.order("SELL", "LIMIT", qty="5", limit="99")
    env.submit(buy, sell)
    env.venue.on_quote(Quote("X", T0, D("99.95"), D("100.05"), D(2), D(4)))
    env.engine.drain(T0)
    assert env.fills(buy.client_order_id) == [(D(4), D("100.05"))]  # only 4 offered
    assert env.fills(sell.client_order_id) == [(D(2), D("99.95"))]
    env.venue.on_quote(Quote("X", T0 + 1, None, D("100.10"), D(0), D(0)))  # no bid: no sell
    env.engine.drain(T0 + 1)
    assert env.fills(buy.client_order_id)[-1] == (D(6), D("100.10"))
    assert len(env.fills(sell.client_order_id)) == 1


def test_participation_cap_splits_a_fill_over_bars() -> None:
    env = Env(participation_cap=D("0.1"))
    o = env.order(qty="50")
    env.submit(o)
    for n in range(3):
        env.bar(n, "100", "101", "99", "100", v="200")  # 10% of 200 = 20 per bar
    assert [q for q, _ in env.fills()] == [D(20), D(20), D(10)]
    assert env.venue.query_order(o.client_order_id).status.value == "FILLED"


def test_queue_position_needs_a_trade_through() -> None:
    env = Env(queue_position=True)
    o = env.order("BUY", "LIMIT", limit="100")
    env.submit(o)
    env.bar(0, "101", "102", "100", "101")  # only touched
    assert env.fills() == []
    env.bar(1, "101", "101", "99.95", "100")
    assert env.fills() == [(D(10), D(100))]


def test_rejection_injection_is_deterministic() -> None:
    def rejected(seed: int) -> list[bool]:
        env = Env(reject_rate=D("0.5"), seed=seed, reject_reasons=("RMS", "MARGIN"))
        orders = [env.order() for _ in range(20)]
        env.submit(*orders)
        return [OrderRejected in env.events(o.client_order_id) for o in orders]

    first = rejected(3)
    assert first == rejected(3) and 0 < sum(first) < 20
    assert first != rejected(4)


def test_cancel_race_a_fill_before_the_cancel_lands_is_delivered_first() -> None:
    env = Env(latency_ms=100, participation_cap=D("0.5"))
    o = env.order(qty="30")
    env.at(T0 - 1000 * 1_000_000)
    env.submit(o)
    env.at(T0 - 1)  # ack arrives, order live before bar 0
    env.venue.cancel(o.client_order_id)  # lands 100 ms later, after bar 0 matched
    env.bar(0, "100", "101", "99", "100", v="40")
    env.at(T0 + M + 200_000_000)
    assert env.fills() == [(D(20), D(100))]
    assert env.events(o.client_order_id)[-2:] == [OrderFilled, OrderCancelled]


def test_cancel_after_a_complete_fill_is_rejected() -> None:
    env = Env(latency_ms=100)
    o = env.order()
    env.at(T0 - 1000 * 1_000_000)
    env.submit(o)
    env.at(T0 - 1)
    env.venue.cancel(o.client_order_id)
    env.bar(0, "100", "101", "99", "100")
    env.at(T0 + 2 * M)
    assert env.events(o.client_order_id)[-1] is OrderCancelRejected


def test_duplicate_submit_is_one_order() -> None:
    env = Env()
    o = env.order()
    env.submit(o, o)
    env.bar(0, "100", "101", "99", "100")
    assert env.events(o.client_order_id) == [OrderAccepted, OrderFilled]
    assert env.venue.positions() == {"X": D(10)}


def test_fees_and_cash_are_exact() -> None:
    env = Env(fee_bps=D(3), starting_cash=D(100_000))
    env.submit(env.order(qty="7"))
    env.bar(0, "1234.55", "1240", "1230", "1235")
    fill = next(u.event.fill for u in env.updates if isinstance(u.event, OrderFilled))
    assert fill.fee == D("2.59")  # 7 x 1234.55 x 0.0003 = 2.592555
    assert env.venue.balances() == {"cash": D(100_000) - D("8641.85") - D("2.59")}


def test_reduce_only_never_flips_and_stop_beats_target_in_one_bar() -> None:
    env = Env()
    env.submit(env.order("BUY", qty="10"))
    env.bar(0, "100", "100", "100", "100")
    stop = env.order("SELL", "STOP", trigger="98", reduce_only=True)
    target = env.order("SELL", "LIMIT", limit="103", reduce_only=True)
    env.submit(target, stop)
    env.bar(1, "100", "104", "97", "101")  # both reachable inside this bar
    assert env.fills(stop.client_order_id) == [(D(10), D(98))]
    assert env.fills(target.client_order_id) == []
    assert OrderCancelled in env.events(target.client_order_id)
    assert env.venue.positions() == {}


def test_off_tick_prices_are_rejected() -> None:
    env = Env(tick_size=D("0.05"))
    o = env.order("BUY", "LIMIT", limit="100.03")
    env.submit(o)
    [update] = [u for u in env.updates if u.client_order_id == o.client_order_id]
    assert isinstance(update.event, OrderRejected) and update.event.reason == "INVALID_PRICE"


def test_query_and_open_orders() -> None:
    env = Env()
    resting = env.order("BUY", "LIMIT", limit="90")
    env.submit(resting)
    snapshot = env.venue.query_order(resting.client_order_id)
    assert snapshot.status.value == "ACCEPTED" and snapshot.filled_quantity == 0
    assert [s.client_order_id for s in env.venue.open_orders()] == [resting.client_order_id]
    assert env.venue.query_order("never-sent") is None
