"""A venue whose answers the test scripts: errors per submit, fills on demand.

Updates are delivered through the engine queue like a real adapter's, so the order
manager sees exactly the event order a venue would produce.
"""

from __future__ import annotations

from collections import deque
from decimal import Decimal
from itertools import count

from quantdesk.domain.fill import Fill
from quantdesk.domain.order import (
    Order,
    OrderAccepted,
    OrderCancelled,
    OrderCancelRejected,
    OrderFilled,
    OrderUpdated,
)
from quantdesk.venues.base import Capabilities, OrderSnapshot, OrderUpdate


class ScriptedVenue:
    name = "scripted"
    capabilities = Capabilities()

    def __init__(self, engine) -> None:
        self.engine = engine
        self.submit_script: deque[Exception | None] = deque()  # None = accept
        self.query_script: deque[Exception | OrderSnapshot | None] = deque()
        self.submitted: list[str] = []
        self.cancelled: list[str] = []
        self.modified: list[tuple[str, Decimal]] = []
        self.known: dict[str, Order] = {}
        self._fill_ids = count(1)
        self._venue_filled: dict[str, Decimal] = {}

    def _deliver(self, cid: str, event) -> None:
        self.engine.schedule(
            self.engine.now(), self.engine.on_venue_update, OrderUpdate(cid, event)
        )

    def submit(self, order: Order) -> None:
        self.submitted.append(order.client_order_id)
        outcome = self.submit_script.popleft() if self.submit_script else None
        if outcome is not None:
            raise outcome
        self.known[order.client_order_id] = order
        self._deliver(
            order.client_order_id, OrderAccepted(self.engine.now(), "V" + order.client_order_id)
        )

    def fill(self, cid: str, quantity: str, price: str, fee: str = "0") -> None:
        order = self.known[cid]
        self._venue_filled[cid] = self._venue_filled.get(cid, Decimal(0)) + Decimal(quantity)
        fill = Fill(
            f"F{next(self._fill_ids)}",
            cid,
            order.symbol,
            order.side,
            Decimal(quantity),
            Decimal(price),
            self.engine.now(),
            Decimal(fee),
        )
        self._deliver(cid, OrderFilled(self.engine.now(), fill))

    def cancel(self, client_order_id: str) -> None:
        self.cancelled.append(client_order_id)
        order = self.known.get(client_order_id)
        if order is not None and self._venue_filled.get(client_order_id) == order.quantity:
            self._deliver(client_order_id, OrderCancelRejected(self.engine.now(), "FILLED"))
        else:
            self._deliver(client_order_id, OrderCancelled(self.engine.now(), "cancelled"))

    def modify(self, client_order_id: str, *, limit_price=None, trigger_price=None) -> None:
        self.modified.append((client_order_id, trigger_price))
        self._deliver(client_order_id, OrderUpdated(self.engine.now(), limit_price, trigger_price))

    def query_order(self, client_order_id: str):
        outcome = self.query_script.popleft() if self.query_script else None
        if isinstance(outcome, Exception):
            raise outcome
        return outcome

    def open_orders(self):
        return []

    def positions(self):
        return {}

    def balances(self):
        return {}
