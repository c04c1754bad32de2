"""PaperVenue: a simulated exchange behind the `Venue` protocol.

Deterministic: the same orders, market data and config (seed included) give the same
updates, ids and timestamps. Reports go through `ctx.schedule`, never straight to the
sink, so latency, acks, cancel races and fills interleave exactly as the queue orders
them. Reduce-only orders never fill beyond the position they reduce.
"""

from __future__ import annotations

import random
from collections.abc import Callable
from decimal import ROUND_FLOOR, Decimal

from quantdesk.domain.enums import Side
from quantdesk.domain.fill import Fill
from quantdesk.domain.market import Bar, Quote
from quantdesk.domain.money import BPS, PAISA, is_multiple
from quantdesk.domain.order import (
    Order,
    OrderAccepted,
    OrderCancelled,
    OrderCancelRejected,
    OrderEvent,
    OrderFilled,
    OrderRejected,
    OrderStatus,
    OrderUpdated,
)
from quantdesk.domain.time import NS_PER_MS
from quantdesk.venues.base import Capabilities, OrderSnapshot, OrderUpdate, VenueContext
from quantdesk.venues.paper.config import PaperVenueConfig
from quantdesk.venues.paper.matcher import PRIORITY, Working, match_bar, match_quote, slipped


class PaperVenue:
    capabilities = Capabilities(
        native_oco=False, native_stop=True, shorting=True, partial_fills=True, modify=True
    )

    def __init__(
        self,
        ctx: VenueContext,
        sink: Callable[[OrderUpdate], None],
        config: PaperVenueConfig | None = None,
        name: str = "paper",
    ) -> None:
        self.ctx = ctx
        self.sink = sink
        self.config = config or PaperVenueConfig()
        self.name = name
        self.slippage_model = dict(self.config.slippage_model)  # refreshed by the daily job
        self._rng = random.Random(self.config.seed)  # noqa: S311 - a simulation, not security
        self._latency = self.config.latency_ms * NS_PER_MS
        self._orders: dict[str, Working] = {}  # working orders
        self._done: dict[str, OrderSnapshot] = {}  # finished orders: compact, for queries
        self._live: dict[str, list[Working]] = {}  # symbol -> working orders
        self._notional: dict[str, Decimal] = {}  # cid -> filled notional (working orders)
        self._positions: dict[str, Decimal] = {}
        self._cash = self.config.starting_cash
        self._seq = 0
        self._fills = 0

    # -- requests ------------------------------------------------------------------
    def submit(self, order: Order) -> None:
        cid = order.client_order_id
        if cid in self._orders or cid in self._done:
            return  # idempotent: the same id is never a second order
        at = self.ctx.now() + self._latency
        reason = self._refusal(order)
        if reason is not None:
            self._done[cid] = OrderSnapshot(cid, "", OrderStatus.REJECTED, Decimal(0), None)
            self._report(at, cid, OrderRejected(at, reason, "paper venue"))
            return
        self._seq += 1
        working = Working(
            cid,
            f"{self.name}-{self._seq}",
            order.symbol,
            order.side,
            order.order_type,
            order.quantity,
            order.limit_price,
            order.trigger_price,
            order.reduce_only,
            at,
            self._seq,
            queue_required=self.config.queue_position,
        )
        self._orders[cid] = working
        self._live.setdefault(order.symbol, []).append(working)
        self._live[order.symbol].sort(key=lambda w: (PRIORITY[w.order_type], w.seq))
        self._report(at, cid, OrderAccepted(at, working.venue_id))

    def _refusal(self, order: Order) -> str | None:
        tick = self.config.tick_size
        for price in (order.limit_price, order.trigger_price):
            if price is not None and (price <= 0 or not is_multiple(price, tick)):
                return "INVALID_PRICE"
        if self.config.reject_rate and self._rng.random() < self.config.reject_rate:
            return self._rng.choice(self.config.reject_reasons)
        return None

    def cancel(self, client_order_id: str) -> None:
        at = self.ctx.now() + self._latency
        working = self._orders.get(client_order_id)
        if working is None:
            done = self._done.get(client_order_id)
            reason = done.status.value if done is not None else "UNKNOWN_ORDER"
            self._report(at, client_order_id, OrderCancelRejected(at, reason))
            return
        working.cancel_at = at
        self.ctx.schedule(at, self._cancel_now, client_order_id)

    def _cancel_now(self, cid: object) -> None:
        working = self._orders.get(str(cid))
        if working is None:  # finished while the cancel travelled: the race
            done = self._done[str(cid)]
            self.sink(
                OrderUpdate(
                    done.client_order_id, OrderCancelRejected(self.ctx.now(), done.status.value)
                )
            )
            return
        self._finish(working, OrderStatus.CANCELLED)
        self.sink(OrderUpdate(working.cid, OrderCancelled(self.ctx.now(), "cancelled")))

    def modify(
        self,
        client_order_id: str,
        *,
        limit_price: Decimal | None = None,
        trigger_price: Decimal | None = None,
    ) -> None:
        at = self.ctx.now() + self._latency
        self.ctx.schedule(at, self._modify_now, (client_order_id, limit_price, trigger_price))

    def _modify_now(self, payload: object) -> None:
        assert isinstance(payload, tuple)
        cid: str = payload[0]
        limit: Decimal | None = payload[1]
        trigger: Decimal | None = payload[2]
        working = self._orders.get(cid)
        if working is None:  # finished meanwhile
            return
        working.limit = limit if limit is not None else working.limit
        working.trigger = trigger if trigger is not None else working.trigger
        self.sink(OrderUpdate(cid, OrderUpdated(self.ctx.now(), limit, trigger)))

    # -- market data ----------------------------------------------------------------
    def on_bar(self, bar: Bar) -> None:
        live = self._live.get(bar.symbol)
        if not live:
            return
        for working in list(live):
            match = match_bar(working, bar)
            if match is None:
                continue
            quantity = self._capped(working, bar.volume)
            impact = self._impact(quantity, bar.volume)
            price = match.price
            if match.taker:
                price = slipped(
                    price,
                    working.side,
                    self._bps(working) + impact,
                    self.config.tick_size,
                    working.limit,
                )
            self._fill(working, quantity, price, bar.ts)

    def on_quote(self, quote: Quote) -> None:
        live = self._live.get(quote.symbol)
        if not live:
            return
        for working in list(live):
            found = match_quote(working, quote)
            if found is None:
                continue
            price, size = found
            quantity = min(working.remaining, size) if size > 0 else working.remaining
            price = slipped(
                price, working.side, self._bps(working), self.config.tick_size, working.limit
            )
            self._fill(working, quantity, price, quote.ts)

    def _bps(self, working: Working) -> Decimal:
        model = self.slippage_model.get(f"{working.symbol}:{working.side.value}")
        return self.config.half_spread_bps + (model or Decimal(0))

    def _capped(self, working: Working, volume: Decimal) -> Decimal:
        cap = self.config.participation_cap
        remaining = working.remaining
        if cap is None:
            return remaining
        step = Decimal(1).scaleb(min(working.quantity.as_tuple().exponent, 0))  # type: ignore[arg-type]
        allowed = (volume * cap).quantize(step, rounding=ROUND_FLOOR)
        return min(remaining, allowed)

    def _impact(self, quantity: Decimal, volume: Decimal) -> Decimal:
        rate = self.config.impact_bps_per_pct_volume
        if not rate or volume <= 0:
            return Decimal(0)
        return rate * quantity * 100 / volume

    def _fill(self, working: Working, quantity: Decimal, price: Decimal, ts: int) -> None:
        if working.reduce_only:
            quantity = min(quantity, self._reducible(working))
            if quantity <= 0:
                self._finish(working, OrderStatus.CANCELLED)
                self.sink(OrderUpdate(working.cid, OrderCancelled(self.ctx.now(), "REDUCE_ONLY")))
                return
        if quantity <= 0:
            return
        self._fills += 1
        fee = (quantity * price * self.config.fee_bps / BPS).quantize(PAISA)
        fill = Fill(
            f"{self.name}-f{self._fills}",
            working.cid,
            working.symbol,
            working.side,
            quantity,
            price,
            ts,
            fee,
        )
        working.filled += quantity
        signed = quantity if working.side is Side.BUY else -quantity
        self._positions[working.symbol] = self._positions.get(working.symbol, Decimal(0)) + signed
        self._cash -= signed * price + fee
        self._notional[working.cid] = self._notional.get(working.cid, Decimal(0)) + quantity * price
        if working.remaining == 0:
            self._finish(working, OrderStatus.FILLED)
        self.sink(OrderUpdate(working.cid, OrderFilled(self.ctx.now(), fill)))

    def _reducible(self, working: Working) -> Decimal:
        position = self._positions.get(working.symbol, Decimal(0))
        reducing = position > 0 if working.side is Side.SELL else position < 0
        return abs(position) if reducing else Decimal(0)

    def _finish(self, working: Working, status: OrderStatus) -> None:
        self._done[working.cid] = self._snapshot(working, status)
        del self._orders[working.cid]
        self._notional.pop(working.cid, None)
        live = self._live.get(working.symbol, [])
        if working in live:
            live.remove(working)

    def _report(self, at: int, cid: str, event: OrderEvent) -> None:
        self.ctx.schedule(at, self.sink, OrderUpdate(cid, event))  # type: ignore[arg-type]

    # -- queries --------------------------------------------------------------------
    def query_order(self, client_order_id: str) -> OrderSnapshot | None:
        working = self._orders.get(client_order_id)
        if working is None:
            return self._done.get(client_order_id)
        status = OrderStatus.PARTIALLY_FILLED if working.filled else OrderStatus.ACCEPTED
        return self._snapshot(working, status)

    def _snapshot(self, working: Working, status: OrderStatus) -> OrderSnapshot:
        notional = self._notional.get(working.cid)
        avg = notional / working.filled if notional is not None and working.filled else None
        return OrderSnapshot(working.cid, working.venue_id, status, working.filled, avg)

    def open_orders(self) -> list[OrderSnapshot]:
        snapshots = (self.query_order(w.cid) for ws in self._live.values() for w in ws)
        return [s for s in snapshots if s is not None]

    def positions(self) -> dict[str, Decimal]:
        return {s: q for s, q in self._positions.items() if q}

    def balances(self) -> dict[str, Decimal]:
        return {"cash": self._cash}
