"""Bracket / OCO for one plan: entry, then a stop and two targets, kept in step.

App-side OCO, because most venues (Upstox among them) have no native bracket:
- the entry's fills place (or resize) the children to the quantity actually held;
- TP1 takes `tp1_fraction` of it, TP2 the rest; the stop always covers what is open;
- a target fill shrinks the stop (cancel/replace) and, after TP1, moves it to entry;
- a stop fill cancels both targets; the last exit cancels whatever is left.
Children are reduce-only. Every decision here is a pure function of the fills seen,
so it can be unit-tested and replayed; the order manager executes the commands.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from decimal import Decimal

from quantdesk.domain.enums import OrderType, Side, TimeInForce
from quantdesk.domain.ids import client_order_id
from quantdesk.domain.money import ZERO, floor_to_step
from quantdesk.domain.order import Order, OrderStatus
from quantdesk.execution.commands import Cancel, Command, MoveStop, Place


@dataclass(frozen=True, slots=True)
class BracketSpec:
    stop: Decimal
    targets: tuple[Decimal, ...] = ()
    tp1_fraction: Decimal = Decimal("0.5")
    stop_to_entry_after_tp1: bool = True
    lot: Decimal = Decimal(1)
    trail_distance: Decimal | None = None


@dataclass(slots=True)
class Bracket:
    plan_id: str
    symbol: str
    side: Side  # entry side
    spec: BracketSpec
    entry_filled: Decimal = ZERO
    entry_price: Decimal | None = None
    exited: Decimal = ZERO
    tp1_done: bool = False
    stop_price: Decimal = ZERO
    entry_cid: str = ""
    entry_working: bool = True
    legs: dict[str, str] = field(default_factory=dict)  # role -> working cid
    _working_qty: dict[str, Decimal] = field(default_factory=dict)
    _versions: dict[str, int] = field(default_factory=dict)

    def __post_init__(self) -> None:
        self.stop_price = self.spec.stop

    @property
    def open_quantity(self) -> Decimal:
        return self.entry_filled - self.exited

    def role_of(self, cid: str) -> str | None:
        return next((role for role, c in self.legs.items() if c == cid), None)

    def on_entry_fill(self, filled_total: Decimal, avg_price: Decimal | None) -> list[Command]:
        """The entry filled (more): size the children to what is held."""
        self.entry_filled = filled_total
        self.entry_price = avg_price
        return self._resize()

    def on_child_fill(self, cid: str, quantity: Decimal, child_complete: bool) -> list[Command]:
        role = self.role_of(cid)
        if role is None:
            return []
        self.exited += quantity
        if child_complete:
            self._forget(role)
        if self.open_quantity <= 0 and not self.entry_working:
            return self._cancel_all("bracket complete")
        if role == "stop":
            return self._cancel_all("stopped out") if child_complete else []
        if not child_complete:  # a target is working off: keep the stop equal to what is open
            return self._ensure("stop", self.open_quantity)
        if role == "tp1":
            self.tp1_done = True
            if self.spec.stop_to_entry_after_tp1 and self.entry_price is not None:
                self.stop_price = self.entry_price
        return self._resize()

    def on_external_exit(self, quantity: Decimal) -> list[Command]:
        """An exit outside the bracket (flatten, time stop) closed part of the position."""
        self.exited += quantity
        if self.open_quantity <= 0:
            return self._cancel_all("position closed")
        return self._resize()

    def on_entry_closed(self) -> list[Command]:
        """The entry order ended (filled, cancelled, expired): nothing more will arrive."""
        self.entry_working = False
        return self._cancel_all("nothing filled") if self.entry_filled == 0 else []

    @classmethod
    def rebuild(cls, spec: BracketSpec, entry: Order, children: list[Order]) -> Bracket:
        """The bracket as it stood, from its orders (restart recovery)."""
        bracket = cls(
            entry.plan_id, entry.symbol, entry.side, spec, entry_cid=entry.client_order_id
        )
        bracket.entry_filled = entry.filled_quantity
        bracket.entry_price = entry.avg_fill_price
        bracket.entry_working = entry.status.is_open
        for order in children:
            role, _, version = order.leg.partition(".")
            sign = 1 if order.side is not entry.side else -1
            bracket.exited += sign * order.filled_quantity
            if role not in ("stop", "tp1", "tp2"):
                continue
            bracket._versions[role] = max(bracket._versions.get(role, 0), int(version or 1))
            if role == "tp1" and order.status is OrderStatus.FILLED:
                bracket.tp1_done = True
            if order.status.is_open:
                bracket.legs[role] = order.client_order_id
                bracket._working_qty[order.client_order_id] = order.quantity
                if role == "stop" and order.trigger_price is not None:
                    bracket.stop_price = order.trigger_price
        return bracket

    def restore_stop(self) -> list[Command]:
        """Place the stop again for everything open (after a naked-position breach)."""
        self.legs.pop("stop", None)
        return self._ensure("stop", self.open_quantity)

    def on_child_closed(self, cid: str) -> None:
        """A child ended without filling (cancelled, rejected, expired)."""
        role = self.role_of(cid)
        if role is not None:
            self._forget(role)

    def _forget(self, role: str) -> None:
        cid = self.legs.pop(role)
        self._working_qty.pop(cid, None)

    def on_price(self, high: Decimal, low: Decimal) -> list[Command]:
        """Trailing stop: follow the best price by `trail_distance`, never loosen."""
        distance = self.spec.trail_distance
        if distance is None or "stop" not in self.legs:
            return []
        if self.side is Side.BUY:
            return self.trail_stop(high - distance)
        return self.trail_stop(low + distance)

    def trail_stop(self, new_stop: Decimal) -> list[Command]:
        """Move the stop only in the favourable direction (trailing)."""
        better = new_stop > self.stop_price if self.side is Side.BUY else new_stop < self.stop_price
        cid = self.legs.get("stop")
        if not better or cid is None:
            return []
        self.stop_price = new_stop
        return [MoveStop(cid, new_stop)]

    # -- internals -----------------------------------------------------------------
    def _targets_wanted(self) -> dict[str, Decimal]:
        open_qty = self.open_quantity
        targets = self.spec.targets
        if not targets or open_qty <= 0:
            return {}
        if len(targets) == 1 or self.tp1_done:
            return {"tp2" if len(targets) > 1 else "tp1": open_qty}
        tp1 = floor_to_step(self.entry_filled * self.spec.tp1_fraction, self.spec.lot)
        tp1 = min(tp1, open_qty)
        if tp1 <= 0:
            return {"tp2": open_qty}
        rest = open_qty - tp1
        return {"tp1": tp1, "tp2": rest} if rest > 0 else {"tp1": tp1}

    def _resize(self) -> list[Command]:
        wanted = self._targets_wanted()
        if self.open_quantity > 0:
            wanted["stop"] = self.open_quantity
        commands: list[Command] = []
        for role in ("stop", "tp1", "tp2"):
            commands += self._ensure(role, wanted.get(role, ZERO))
        return commands

    def _ensure(self, role: str, quantity: Decimal) -> list[Command]:
        """Make the working `role` child carry `quantity` (cancel/replace if it differs)."""
        commands: list[Command] = []
        working = self.legs.get(role)
        if working is not None:
            if self._working_qty.get(working) == quantity:
                return []
            commands.append(Cancel(working, f"resize {role}"))
            self._forget(role)
        if quantity > 0:
            order = self._child(role, quantity)
            self.legs[role] = order.client_order_id
            self._working_qty[order.client_order_id] = quantity
            commands.append(Place(order))
        return commands

    def _child(self, role: str, quantity: Decimal) -> Order:
        version = self._versions.get(role, 0) + 1
        self._versions[role] = version
        leg = role if version == 1 else f"{role}.{version}"
        exit_side = self.side.opposite
        cid = client_order_id(self.plan_id, leg)
        if role == "stop":
            return Order(
                cid,
                self.symbol,
                exit_side,
                OrderType.STOP,
                quantity,
                plan_id=self.plan_id,
                leg=leg,
                trigger_price=self.stop_price,
                time_in_force=TimeInForce.DAY,
                reduce_only=True,
            )
        price = self.spec.targets[0] if role == "tp1" else self.spec.targets[-1]
        return Order(
            cid,
            self.symbol,
            exit_side,
            OrderType.LIMIT,
            quantity,
            plan_id=self.plan_id,
            leg=leg,
            limit_price=price,
            time_in_force=TimeInForce.DAY,
            reduce_only=True,
        )

    def _cancel_all(self, reason: str) -> list[Command]:
        """Cancel every child, and the entry too if it is still working."""
        commands: list[Command] = [Cancel(cid, reason) for cid in self.legs.values()]
        if self.entry_working and self.entry_cid:
            commands.append(Cancel(self.entry_cid, reason))
        self.legs.clear()
        self._working_qty.clear()
        return commands
