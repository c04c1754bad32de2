"""Trade lifecycle messages: placed, filled, rejected, stop hit, target hit, closed.

Keys are per plan (`trade:<plan_id>:<event>`), so each trade's messages go out once and a
cooldown only swallows repeats of the same event (an order resubmitted after an UNKNOWN
answer is "placed" once). They are INFO, except rejections (WARNING): with the default
`min_level` of WARNING an operator opts in to the rest.

A stop or a last target closes the trade: that message comes from the `trade` topic and
carries the P&L. A first target that leaves part of the position open (a TP1 scale-out)
is told from the order topic; telling the two apart needs the plan's entry quantity and
its exits so far, the only state kept here (dropped when the trade closes).
"""

from __future__ import annotations

from decimal import Decimal

from quantdesk.domain.enums import Severity, Side
from quantdesk.domain.order import Order, OrderRejected, OrderStatus
from quantdesk.domain.trade import Trade
from quantdesk.obs.alert_model import Alert, average, money, num
from quantdesk.obs.events import ClosedTradeLike

_CLOSED = {"stop": ("stop", "Stop hit"), "target": ("target", "Target hit")}


class TradeAlerts:
    def __init__(self) -> None:
        self._entered: dict[str, Decimal] = {}  # plan -> entry quantity filled
        self._exited: dict[str, Decimal] = {}  # plan -> quantity its targets took off

    def on_order(self, order: Order, now: int) -> Alert | None:
        """Called for every status change of every order: cheap unless it is news."""
        role = order.leg.partition(".")[0]
        status = order.status
        if role == "entry":
            return self._entry(order, status, now)
        if status is OrderStatus.REJECTED:
            return self._alert(order, f"rejected:{order.leg}", "Exit order rejected", now)
        if status is OrderStatus.FILLED and role.startswith("tp"):
            return self._partial_target(order, role, now)
        return None

    def on_trade(self, closed: ClosedTradeLike | Trade) -> Alert:
        trade, plan = (
            (closed, None) if isinstance(closed, Trade) else (closed.trade, closed.plan_id)
        )
        if plan is not None:
            self._entered.pop(plan, None)
            self._exited.pop(plan, None)
        reason = trade.exit_reason or "exit"
        event, title = _CLOSED.get(reason, ("closed", f"Trade closed ({reason})"))
        direction = "long" if trade.side is Side.BUY else "short"
        detail = (
            f"{direction} {num(trade.quantity)}: entry {average(trade.entry_price)}, "
            f"exit {average(trade.exit_price)}; net P&L {money(trade.net_pnl)} "
            f"(fees {money(trade.fees)})"
        )
        key = f"trade:{plan or trade.trade_id}:{event}"
        return Alert(key, Severity.INFO, f"{title}: {trade.symbol}", detail, trade.exit_ts)

    def _entry(self, order: Order, status: OrderStatus, now: int) -> Alert | None:
        plan = _plan(order)
        if order.filled_quantity:
            self._entered[plan] = order.filled_quantity
        if status is OrderStatus.SUBMITTED:
            return self._alert(order, "placed", "Order placed", now)
        if status is OrderStatus.FILLED:
            return self._alert(order, "filled", "Entry filled", now)
        if status is OrderStatus.REJECTED:
            self._entered.pop(plan, None)
            return self._alert(order, "rejected", "Order rejected", now)
        return None

    def _partial_target(self, order: Order, role: str, now: int) -> Alert | None:
        plan = _plan(order)
        entered = self._entered.get(plan)
        exited = self._exited.get(plan, Decimal(0)) + order.filled_quantity
        self._exited[plan] = exited
        if entered is None or exited >= entered:
            return None  # it closed the trade: the trade topic says so, with the P&L
        title = f"Target {role.removeprefix('tp')} hit"
        alert = self._alert(order, role, title, now)
        open_note = f"; {num(entered - exited)} of {num(entered)} still open"
        return Alert(alert.key, alert.level, alert.title, alert.detail + open_note, alert.ts)

    def _alert(self, order: Order, event: str, title: str, now: int) -> Alert:
        level = Severity.WARNING if event.startswith("rejected") else Severity.INFO
        ts = order.events[-1].ts if order.events else now
        return Alert(
            f"trade:{_plan(order)}:{event}", level, f"{title}: {order.symbol}", _order(order), ts
        )


def _plan(order: Order) -> str:
    return order.plan_id or order.client_order_id


def _order(order: Order) -> str:
    """`BUY 10 LIMIT 1500.05`, then what happened to it."""
    text = f"{order.side.value} {num(order.quantity)} {order.order_type.value}"
    if order.limit_price is not None:
        text += f" {num(order.limit_price)}"
    if order.trigger_price is not None:
        text += f" trigger {num(order.trigger_price)}"
    if order.leg != "entry":
        text += f" ({order.leg})"
    price = order.avg_fill_price
    if price is not None:
        text += f"; filled {num(order.filled_quantity)} @ {average(price)}"
    if order.status is OrderStatus.REJECTED:
        last = order.events[-1] if order.events else None
        message = last.message if isinstance(last, OrderRejected) else ""
        text += f"; {order.last_reason or 'no reason given'}" + (f": {message}" if message else "")
    return text
