"""Kill switch: pause entries, cancel every open order, flatten every position, verify.

Engaging is idempotent and never blocked by entry gates. "Flat" is not assumed from
having sent the exits: it is verified from fills (no position, no working order), and
the time from engage to verified flat is recorded, in engine time, in the audit log.
"""

from __future__ import annotations

from collections.abc import Callable
from typing import TYPE_CHECKING

from quantdesk.domain.enums import Severity
from quantdesk.domain.time import NS_PER_MS

if TYPE_CHECKING:
    from quantdesk.domain.fill import Fill
    from quantdesk.domain.order import Order
    from quantdesk.execution.order_manager import OrderManager
    from quantdesk.risk.controls import RiskControls

Record = Callable[[str, dict[str, str]], None]  # (action, payload) -> audit log
Emit = Callable[[str, Severity, str], None]


class KillSwitch:
    def __init__(
        self,
        oms: OrderManager,
        controls: RiskControls,
        now: Callable[[], int],
        record: Record,
        emit: Emit,
    ) -> None:
        self.oms = oms
        self.controls = controls
        self.now = now
        self.record = record
        self.emit = emit
        self.engaged_at: int | None = None
        self.flat_after_ms: float | None = None
        oms.fill_listeners.append(self._on_fill)

    @property
    def engaged(self) -> bool:
        return self.controls.kill_switch

    def engage(self, reason: str, actor: str = "operator") -> None:
        if not self.controls.engage_kill_switch(reason):
            return  # already engaged: the flattening is in flight
        self.engaged_at, self.flat_after_ms = self.now(), None
        positions = {s: str(q) for s, q in self.open_positions().items()}
        self.record("kill_switch.engage", {"actor": actor, "reason": reason, **positions})
        self.emit("KILL_SWITCH", Severity.CRITICAL, f"engaged by {actor}: {reason}")
        self.oms.cancel_all(None, "kill_switch")
        for symbol in list(self.open_positions()):
            self.oms.flatten(symbol, "kill_switch")
        self._verify()

    def release(self, actor: str = "operator") -> None:
        if not self.controls.kill_switch:
            return
        self.controls.release_kill_switch()
        self.record("kill_switch.release", {"actor": actor})

    def open_positions(self) -> dict[str, object]:
        return {s: p.quantity for s, p in self.oms.book.positions.items() if p.quantity}

    def is_flat(self) -> bool:
        return not self.open_positions() and not self.oms.open_orders()

    def _on_fill(self, order: Order, fill: Fill) -> None:
        self.on_order(order)

    def on_order(self, order: object) -> None:
        """Any order change may be the last one: verify while flattening is pending."""
        if self.engaged_at is not None and self.flat_after_ms is None:
            self._verify()

    def _verify(self) -> None:
        if self.engaged_at is None or not self.is_flat():
            return
        self.flat_after_ms = (self.now() - self.engaged_at) / NS_PER_MS
        self.record("kill_switch.flat", {"after_ms": f"{self.flat_after_ms:.3f}"})
