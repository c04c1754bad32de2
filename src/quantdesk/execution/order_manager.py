"""OrderManager: the only component that talks to a venue about orders.

- Idempotent: an order is keyed by its deterministic client_order_id; submitting an id
  already known is a no-op, so retries and restarts never create a second live order.
- Transient errors are retried on the engine clock; an ambiguous answer (timeout, 5xx,
  reset after send) makes the order UNKNOWN and the venue is *queried* by client order
  id before anything is re-sent — never a blind resubmit.
- Every rejection is recorded with reason, venue message, market state and attempt.
- Fills go to the book (positions, exact P&L, round trips) and to the plan's bracket.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from decimal import Decimal

from quantdesk.domain.enums import OrderType, Severity, Side
from quantdesk.domain.errors import Ambiguous, IllegalTransition, Rejected, TransientError
from quantdesk.domain.fill import Fill
from quantdesk.domain.ids import client_order_id, stable_id
from quantdesk.domain.order import (
    Order,
    OrderAccepted,
    OrderAmbiguous,
    OrderCancelled,
    OrderCancelRejected,
    OrderCancelRequested,
    OrderEvent,
    OrderExpired,
    OrderFilled,
    OrderRejected,
    OrderStatus,
    OrderSubmitted,
)
from quantdesk.domain.position import Position
from quantdesk.domain.risk_event import RiskEvent
from quantdesk.domain.signal import Decision
from quantdesk.execution.book import Book, ClosedTrade
from quantdesk.execution.bracket import Bracket, BracketSpec
from quantdesk.execution.commands import Cancel, Command, MoveStop, Place
from quantdesk.execution.ports import ChainRecorder, ExecutionContext, Log
from quantdesk.execution.retry import RetryPolicy
from quantdesk.execution.watcher import check_bracket
from quantdesk.venues.base import OrderSnapshot, OrderUpdate, Venue

RESOLVE_ATTEMPTS = 8


@dataclass(slots=True)
class Plan:
    decision: Decision | None
    correlation_id: str | None
    reference_price: Decimal | None
    bracket: Bracket | None = None


class OrderManager:
    def __init__(
        self,
        venue: Venue,
        ctx: ExecutionContext,
        log: Log,
        journal: ChainRecorder | None = None,
        retry: RetryPolicy | None = None,
    ) -> None:
        self.venue = venue
        self.ctx = ctx
        self.log = log
        self.journal = journal
        self.retry = retry or RetryPolicy()
        self.orders: dict[str, Order] = {}
        self.book = Book()
        self.plans: dict[str, Plan] = {}
        self.done_plans: set[str] = set()

        self.fill_listeners: list[Callable[[Order, Fill], None]] = []
        self._attempts: dict[str, int] = {}
        self._exit_reasons: dict[str, str] = {}
        self._cancel_after_resolve: set[str] = set()
        self.trailing: dict[str, list[Bracket]] = {}

    # -- entry points ----------------------------------------------------------------
    def execute(
        self, decision: Decision, reference_price: Decimal | None, lot: Decimal = Decimal(1)
    ) -> Order:
        """Open a position for an approved decision; a stop in the plan makes it a bracket."""
        plan = Plan(decision, decision.correlation_id, reference_price)
        self.plans[decision.plan_id] = plan
        entry = Order(
            client_order_id(decision.plan_id, "entry"),
            decision.symbol,
            decision.side,
            decision.order_type,
            decision.quantity,
            plan_id=decision.plan_id,
            limit_price=(decision.limit_price or decision.entry_price)
            if decision.order_type is OrderType.LIMIT
            else None,
        )
        if decision.stop_loss is not None:
            spec = BracketSpec(
                stop=decision.stop_loss,
                targets=decision.targets,
                lot=lot,
                trail_distance=decision.trail_distance,
            )
            plan.bracket = Bracket(
                decision.plan_id,
                decision.symbol,
                decision.side,
                spec,
                entry_cid=entry.client_order_id,
            )
            if spec.trail_distance is not None:
                self.trailing.setdefault(decision.symbol, []).append(plan.bracket)
        return self.submit(entry)

    def flatten(self, symbol: str, reason: str, plan_id: str | None = None) -> Order | None:
        """Cancel the symbol's working orders and close its position at market. Never gated.

        The exit belongs to `plan_id` when given (a repair), else to the open trade's plan.
        """
        self.cancel_all(symbol, reason)
        quantity = self.book.quantity(symbol)
        if quantity == 0:
            return None
        plan_id = (
            plan_id
            or self.book.plan_of_open_trade(symbol)
            or "x" + stable_id(symbol, self.ctx.now())
        )
        leg = f"exit.{stable_id(plan_id, self.ctx.now(), quantity, length=6)}"
        side = Side.SELL if quantity > 0 else Side.BUY
        order = Order(
            client_order_id(plan_id, leg),
            symbol,
            side,
            OrderType.MARKET,
            abs(quantity),
            plan_id=plan_id if plan_id in self.plans else "",
            leg=leg,
            reduce_only=True,
        )
        self._exit_reasons[order.client_order_id] = reason
        return self.submit(order)

    # -- restart -----------------------------------------------------------------------
    def restore(
        self,
        orders: list[Order],
        decisions: dict[str, Decision],
        positions: dict[str, Position],
        trade_plans: dict[str, str | None],
    ) -> None:
        """Rebuild from the journal, then ask the venue about every order in flight.

        Fails safe: a working order the venue does not know is cancelled here and its
        bracket's stop placed again by the watcher, rather than assumed alive.
        """
        self.orders.update({o.client_order_id: o for o in orders})
        for symbol, position in positions.items():
            self.book.restore(position, trade_plans.get(symbol), decisions)
        for plan_id, decision in decisions.items():
            self._restore_plan(plan_id, decision)
        for order in orders:
            if order.status.is_open:
                self.ctx.schedule(self.ctx.now(), self._reconcile, order.client_order_id)

    def _restore_plan(self, plan_id: str, decision: Decision) -> None:
        plan = Plan(decision, decision.correlation_id, decision.entry_price)
        self.plans[plan_id] = plan
        mine = [o for o in self.orders.values() if o.plan_id == plan_id]
        entry = next((o for o in mine if o.leg == "entry"), None)
        if entry is None or decision.stop_loss is None:
            return
        spec = BracketSpec(
            stop=decision.stop_loss,
            targets=decision.targets,
            trail_distance=decision.trail_distance,
        )
        plan.bracket = Bracket.rebuild(spec, entry, [o for o in mine if o.leg != "entry"])
        if spec.trail_distance is not None:
            self.trailing.setdefault(decision.symbol, []).append(plan.bracket)

    def _reconcile(self, cid: object) -> None:
        order = self.orders[str(cid)]
        if order.status.is_terminal:
            return
        if order.status is OrderStatus.NEW:
            self._send(order)  # never confirmed sent: the same id is safe to send
            return
        try:
            snapshot = self.venue.query_order(order.client_order_id)
        except (TransientError, Ambiguous):
            self.ctx.schedule(self.ctx.now() + 1_000_000_000, self._reconcile, cid)
            return
        if snapshot is not None:
            if order.status in (OrderStatus.SUBMITTED, OrderStatus.UNKNOWN):
                self._apply_snapshot(order, snapshot)
            return
        if order.status in (OrderStatus.SUBMITTED, OrderStatus.UNKNOWN):
            self._apply(order, OrderAmbiguous(self.ctx.now(), "restart: venue has no record"))
            self._apply_snapshot(order, None)  # never reached the venue: resend, same id
            return
        self._risk(
            "ORDER_MISSING_AT_VENUE",
            Severity.CRITICAL,
            f"{order.client_order_id} ({order.leg}) is {order.status.value} here but "
            "unknown to the venue",
            order.symbol,
        )
        self._apply(order, OrderCancelled(self.ctx.now(), "missing at venue after restart"))
        self._on_closed(order)
        self._watch(order.plan_id)

    def on_price(self, symbol: str, high: Decimal, low: Decimal) -> None:
        """Market moved: trail the stops of this symbol's trailing brackets."""
        brackets = self.trailing.get(symbol)
        if not brackets:
            return
        for bracket in list(brackets):
            if not bracket.legs and not bracket.entry_working:
                brackets.remove(bracket)  # finished
                continue
            self._run(bracket.on_price(high, low))
        if not brackets:
            del self.trailing[symbol]

    def cancel_all(self, symbol: str | None, reason: str) -> None:
        for order in list(self.orders.values()):
            if order.status.is_open and (symbol is None or order.symbol == symbol):
                self.cancel(order.client_order_id, reason)

    def open_orders(self, symbol: str | None = None) -> list[Order]:
        return [
            o
            for o in self.orders.values()
            if o.status.is_open and (symbol is None or o.symbol == symbol)
        ]

    # -- submission ------------------------------------------------------------------
    def submit(self, order: Order) -> Order:
        """Send an order once. A known client_order_id returns the existing order."""
        existing = self.orders.get(order.client_order_id)
        if existing is not None:
            return existing
        self.orders[order.client_order_id] = order
        self.log.add(
            "submit",
            self.ctx.now(),
            order.client_order_id,
            order.side.value,
            order.order_type.value,
            order.quantity,
            order.limit_price,
            order.trigger_price,
        )
        self._record(order)
        self._send(order)
        return order

    def _send(self, order: Order) -> None:
        cid = order.client_order_id
        attempt = self._attempts[cid] = self._attempts.get(cid, 0) + 1
        try:
            self.venue.submit(order)
        except Rejected as exc:
            self._apply(order, OrderRejected(self.ctx.now(), exc.reason, exc.venue_message))
            self._record_rejection(order, exc.reason, exc.venue_message, attempt)
        except Ambiguous as exc:
            self._apply(order, OrderSubmitted(self.ctx.now()))
            self._apply(order, OrderAmbiguous(self.ctx.now(), str(exc)))
            self.ctx.schedule(self.ctx.now(), self._resolve, (cid, 1))
        except TransientError as exc:
            delay = self.retry.delay_ns(attempt, exc)
            if delay is None:
                self._apply(order, OrderRejected(self.ctx.now(), "RETRIES_EXHAUSTED", str(exc)))
                self._record_rejection(order, "RETRIES_EXHAUSTED", str(exc), attempt)
            else:
                self.ctx.schedule(self.ctx.now() + delay, self._retry_send, cid)
        else:
            if order.status is OrderStatus.NEW or order.status is OrderStatus.UNKNOWN:
                self._apply(order, OrderSubmitted(self.ctx.now()))

    def _retry_send(self, cid: object) -> None:
        order = self.orders[str(cid)]
        if order.status is OrderStatus.NEW:  # not cancelled meanwhile
            self._send(order)

    def _resolve(self, payload: object) -> None:
        """Ask the venue what became of an UNKNOWN order; act only on its answer."""
        cid, attempt = payload  # type: ignore[misc]
        order = self.orders[cid]
        if order.status is not OrderStatus.UNKNOWN:
            return
        try:
            snapshot = self.venue.query_order(cid)
        except (TransientError, Ambiguous) as exc:
            if attempt >= RESOLVE_ATTEMPTS:
                self._risk(
                    "UNRESOLVED_ORDER",
                    Severity.CRITICAL,
                    f"{cid} still UNKNOWN after {attempt} queries: {exc}",
                    order.symbol,
                )
                return
            delay = self.retry.delay_ns(
                min(attempt, self.retry.max_attempts - 1), TransientError(str(exc))
            )
            self.ctx.schedule(self.ctx.now() + (delay or 0), self._resolve, (cid, attempt + 1))
            return
        self._apply_snapshot(order, snapshot)

    def _apply_snapshot(self, order: Order, snapshot: OrderSnapshot | None) -> None:
        now = self.ctx.now()
        if snapshot is None:  # the venue never saw it: sending the same id again is safe
            self._send(order)
            return
        status = snapshot.status
        if status is OrderStatus.REJECTED:
            self._apply(order, OrderRejected(now, "VENUE_REJECTED"))
        elif status is OrderStatus.CANCELLED:
            self._apply(order, OrderCancelled(now, "venue reports cancelled"))
        elif status is OrderStatus.EXPIRED:
            self._apply(order, OrderExpired(now))
        else:  # working or (partly) filled: fills arrive as updates
            self._apply(order, OrderAccepted(now, snapshot.venue_order_id))
            if order.client_order_id in self._cancel_after_resolve:
                self.cancel(order.client_order_id, "cancel requested while UNKNOWN")

    # -- cancel / modify ---------------------------------------------------------------
    def cancel(self, cid: str, reason: str) -> None:
        order = self.orders.get(cid)
        if order is None or order.status.is_terminal:
            return
        if order.status is OrderStatus.UNKNOWN:
            self._cancel_after_resolve.add(cid)
            return
        if order.status is OrderStatus.NEW:  # never reached the venue
            self._apply(order, OrderCancelled(self.ctx.now(), reason))
            return
        if order.status is OrderStatus.PENDING_CANCEL:
            return
        self.log.add("cancel", self.ctx.now(), cid, reason)
        self._apply(order, OrderCancelRequested(self.ctx.now()))
        self._send_cancel(cid, 1)

    def _send_cancel(self, cid: str, attempt: int) -> None:
        try:
            self.venue.cancel(cid)
        except Ambiguous as exc:
            self._apply(self.orders[cid], OrderAmbiguous(self.ctx.now(), str(exc)))
            self.ctx.schedule(self.ctx.now(), self._resolve, (cid, 1))
        except TransientError as exc:
            delay = self.retry.delay_ns(attempt, exc)
            if delay is not None:
                self.ctx.schedule(self.ctx.now() + delay, self._retry_cancel, (cid, attempt + 1))
            else:
                self._risk(
                    "CANCEL_FAILED", Severity.CRITICAL, f"{cid}: {exc}", self.orders[cid].symbol
                )

    def _retry_cancel(self, payload: object) -> None:
        cid, attempt = payload  # type: ignore[misc]
        if self.orders[cid].status is OrderStatus.PENDING_CANCEL:
            self._send_cancel(cid, attempt)

    def modify_stop(self, cid: str, trigger: Decimal) -> None:
        order = self.orders.get(cid)
        if order is None or order.status not in (
            OrderStatus.ACCEPTED,
            OrderStatus.PARTIALLY_FILLED,
        ):
            return
        self.log.add("modify", self.ctx.now(), cid, trigger)
        try:
            self.venue.modify(cid, trigger_price=trigger)
        except (TransientError, Ambiguous, Rejected) as exc:
            self._risk("MODIFY_FAILED", Severity.WARNING, f"{cid}: {exc}", order.symbol)

    # -- venue reports ---------------------------------------------------------------
    def on_update(self, update: object) -> None:
        assert isinstance(update, OrderUpdate)
        order = self.orders.get(update.client_order_id)
        if order is None:
            self._risk(
                "UNKNOWN_ORDER_UPDATE",
                Severity.WARNING,
                f"update for unknown order {update.client_order_id}",
                None,
            )
            return
        event = update.event
        if not self._apply(order, event):
            return
        if isinstance(event, OrderFilled):
            self._on_fill(order, event.fill)
        elif isinstance(event, OrderRejected):
            self._record_rejection(
                order, event.reason, event.message, self._attempts.get(order.client_order_id, 1)
            )
        if order.status.is_terminal:
            self._on_closed(order)
        if isinstance(event, OrderFilled) or order.status.is_terminal:
            self._watch(order.plan_id)
        if order.status.is_terminal:
            self._retire(order.plan_id)

    def _apply(self, order: Order, event: OrderEvent) -> bool:
        before = order.status
        if before.is_terminal and isinstance(event, OrderCancelRejected):
            return False  # "cannot cancel: already filled/cancelled" after the fact

        try:
            applied = order.apply(event)
        except IllegalTransition as exc:
            self._risk("ILLEGAL_TRANSITION", Severity.CRITICAL, str(exc), order.symbol)
            return False
        if applied and order.status is not before:
            self.log.add(
                "order",
                self.ctx.now(),
                order.client_order_id,
                order.status.value,
                order.filled_quantity,
            )
            self._record(order)
            self.ctx.publish("order", order)
        return applied

    def _on_fill(self, order: Order, fill: Fill) -> None:
        plan = self.plans.get(order.plan_id)
        is_entry = order.leg == "entry"
        decision = plan.decision if plan and is_entry else None
        reference = plan.reference_price if plan and is_entry else None
        reason = self._exit_reason(order)
        trade_uid, closed = self.book.apply(fill, decision, reference, reason)
        self.log.add("fill", fill.ts, fill.client_order_id, fill.quantity, fill.price, fill.fee)
        self._journal_fill(order, fill, trade_uid, closed, plan)
        self.ctx.publish("fill", fill)
        for trade in closed:
            self.ctx.publish("trade", trade)
        if plan and plan.bracket:
            bracket = plan.bracket
            if is_entry:
                if bracket.entry_filled == 0 and plan.decision and plan.decision.time_stop_ns:
                    deadline = fill.ts + plan.decision.time_stop_ns
                    self.ctx.schedule(deadline, self._time_stop, order.plan_id)
                commands = bracket.on_entry_fill(order.filled_quantity, order.avg_fill_price)
            elif bracket.role_of(order.client_order_id) is not None:
                complete = order.status is OrderStatus.FILLED
                commands = bracket.on_child_fill(order.client_order_id, fill.quantity, complete)
            else:  # an exit (flatten, time stop, EOD) closing the bracket's position
                commands = bracket.on_external_exit(fill.quantity)

            self._run(commands)
        for listener in self.fill_listeners:
            listener(order, fill)

    def _watch(self, plan_id: str) -> None:
        """Enforce the bracket invariants (see execution.watcher) after every change."""
        plan = self.plans.get(plan_id)
        if plan is None or plan.bracket is None:
            return
        bracket = plan.bracket
        children = [o for o in self.orders.values() if o.plan_id == plan_id and o.leg != "entry"]
        breach = check_bracket(bracket, children)
        if breach is None:
            return
        if breach.code == "DOUBLE_EXIT" and any(
            o.status.is_open and o.leg.startswith("exit") for o in children
        ):
            return  # the repair is already in flight

        self._risk(
            breach.code,
            Severity.CRITICAL,
            breach.message,
            breach.symbol,
            {"plan_id": plan_id, "quantity": str(breach.shortfall)},
        )
        if breach.code == "DOUBLE_EXIT":
            self.flatten(breach.symbol, "double_exit_repair", plan_id)
        else:
            self._run(bracket.restore_stop())

    def _retire(self, plan_id: str) -> None:
        """Drop a finished plan's orders from memory (they are persisted); keep its id so
        the same plan can never be executed twice. Memory stays flat over long runs."""
        plan = self.plans.get(plan_id)
        if plan is None or plan.decision is None:
            return
        mine = [o for o in self.orders.values() if o.plan_id == plan_id]
        if any(o.status.is_open for o in mine):
            return
        if self.book.plan_of_open_trade(plan.decision.symbol) == plan_id:
            return
        for order in mine:
            del self.orders[order.client_order_id]
            self._attempts.pop(order.client_order_id, None)
            self._exit_reasons.pop(order.client_order_id, None)
        del self.plans[plan_id]
        self.done_plans.add(plan_id)

    def bracket_heat(self) -> dict[str, tuple[Decimal, Decimal]]:
        """Per symbol and entry side: (quantity the brackets protect, rupees from each plan's
        own entry to its own stop). Plans adding to one symbol each keep their own stop, so
        the position's blended price would mis-state the risk."""
        out: dict[str, tuple[Decimal, Decimal]] = {}
        for plan in self.plans.values():
            bracket = plan.bracket
            if bracket is None or bracket.entry_price is None:
                continue
            held = bracket.open_quantity
            if held <= 0:
                continue
            distance = (bracket.entry_price - bracket.stop_price) * bracket.side.sign
            key = f"{bracket.symbol}:{bracket.side.value}"
            covered, heat = out.get(key, (Decimal(0), Decimal(0)))
            out[key] = (covered + held, heat + held * max(Decimal(0), distance))
        return out

    def working_entries(self) -> list[tuple[Order, Decimal | None]]:
        """Entry orders not yet (fully) filled, with their plan's stop."""
        out = []
        for order in self.orders.values():
            if order.leg == "entry" and order.status.is_open and order.remaining > 0:
                plan = self.plans.get(order.plan_id)
                decision = plan.decision if plan else None
                out.append((order, decision.stop_loss if decision else None))
        return out

    def knows_plan(self, plan_id: str) -> bool:
        return plan_id in self.plans or plan_id in self.done_plans

    def _time_stop(self, plan_id: object) -> None:
        plan = self.plans.get(str(plan_id))
        if plan is None or plan.decision is None:
            return
        if self.book.plan_of_open_trade(plan.decision.symbol) != plan_id:
            return  # that trade is already closed
        self.flatten(plan.decision.symbol, "time_stop")

    def _on_closed(self, order: Order) -> None:
        plan = self.plans.get(order.plan_id)
        if plan is None or plan.bracket is None:
            return
        if order.leg == "entry":
            self._run(plan.bracket.on_entry_closed())
        elif order.status is not OrderStatus.FILLED:
            plan.bracket.on_child_closed(order.client_order_id)

    def _exit_reason(self, order: Order) -> str:
        if order.client_order_id in self._exit_reasons:
            return self._exit_reasons[order.client_order_id]
        role = order.leg.split(".")[0]
        return {"stop": "stop", "tp1": "target", "tp2": "target"}.get(role, role)

    def _run(self, commands: list[Command]) -> None:
        for command in commands:
            if isinstance(command, Place):
                self.submit(command.order)
            elif isinstance(command, Cancel):
                self.cancel(command.client_order_id, command.reason)
            elif isinstance(command, MoveStop):
                self.modify_stop(command.client_order_id, command.trigger_price)

    # -- records -----------------------------------------------------------------------
    def _correlation(self, order: Order) -> str | None:
        plan = self.plans.get(order.plan_id)
        return plan.correlation_id if plan else None

    def _record(self, order: Order) -> None:
        if self.journal is not None:
            self.journal.record_order(order, self.ctx.now(), self._correlation(order))

    def _journal_fill(
        self,
        order: Order,
        fill: Fill,
        trade_uid: str | None,
        closed: list[ClosedTrade],
        plan: Plan | None,
    ) -> None:
        if self.journal is None:
            return
        correlation = self._correlation(order)
        position = self.book.position(fill.symbol)
        open_trade = position.open_trade
        if open_trade is not None:
            opener = self.book.plan_of_open_trade(fill.symbol)
            self.journal.record_open_trade(open_trade, opener, fill.ts, correlation)
        self.journal.record_fill(fill, trade_uid, correlation)
        for item in closed:
            self.journal.record_trade(
                item.trade,
                item.plan_id,
                slippage_bps=item.slippage_bps,
                latency_ms=item.latency_ms,
                correlation_id=correlation,
            )
        self.journal.save_position(self.venue.name, position, fill.ts)

    def _record_rejection(self, order: Order, reason: str, message: str, attempt: int) -> None:
        details = {
            "client_order_id": order.client_order_id,
            "reason": reason,
            "venue_message": message,
            "attempt": str(attempt),
            **self.ctx.market_state(order.symbol),
        }
        self._risk(
            "ORDER_REJECTED",
            Severity.WARNING,
            f"{order.client_order_id}: {reason}",
            order.symbol,
            details,
        )

    def _risk(
        self,
        code: str,
        severity: Severity,
        message: str,
        symbol: str | None,
        details: dict[str, str] | None = None,
    ) -> None:
        event = RiskEvent(self.ctx.now(), code, severity, message, symbol, details or {})
        if self.journal is not None:
            self.journal.record_risk_event(event)
        self.ctx.publish("risk", event)
