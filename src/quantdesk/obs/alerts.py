"""Alerts to people (Slack, Telegram) from bus events and from the runner's equity.

A bus handler runs inside the engine's single thread, so it only maps the event to an
`Alert` (`obs.alert_rules`, `obs.alert_trades`), applies `min_level` and the per-key
cooldown (`obs.alert_cooldown`: in memory, so a storm of one key costs a dict lookup)
and hands it to `obs.alert_delivery`, whose worker saves the cooldowns and calls the
senders (`obs.alert_senders`). Nothing here raises into the engine: a failing sender, a
refusing database or an event of an unexpected shape is logged (never with a webhook
URL or a bot token) and counted. An alert held back, filtered or dropped has still been
judged: a dropped alert has started its cooldown.

Wiring (the runner): `router = AlertRouter.from_settings(settings, db_engine)`,
`router.attach(engine.bus)`, `router.on_equity(ts, engine.equity())` as often as the
runner marks equity, `router.close(timeout)` at shutdown.
"""

from __future__ import annotations

import logging
import threading
import time
from collections.abc import Callable, Sequence
from decimal import Decimal
from typing import TYPE_CHECKING, Any, Protocol

from quantdesk.domain.actions import Action
from quantdesk.domain.enums import Severity
from quantdesk.domain.order import Order
from quantdesk.domain.risk_event import RiskEvent
from quantdesk.obs.alert_cooldown import Cooldowns
from quantdesk.obs.alert_delivery import AlertDelivery
from quantdesk.obs.alert_model import Alert, Level, rank
from quantdesk.obs.alert_rules import EquityWatch, action_alert, risk_alert
from quantdesk.obs.alert_senders import Sender, senders_from_settings
from quantdesk.obs.alert_trades import TradeAlerts

if TYPE_CHECKING:
    import sqlalchemy

    from quantdesk.config import Settings

__all__ = ["Alert", "AlertRouter", "Level"]
log = logging.getLogger(__name__)


class EventSource(Protocol):
    """What `attach` needs of the engine's bus (`engine.bus.Bus`)."""

    def subscribe(self, topic: str, handler: Callable[[Any], None]) -> None: ...


class AlertRouter:
    """Counters, readable from any thread: `filtered` below `min_level`, `suppressed` by
    a cooldown, `errors` (events that could not be mapped); `sent`, `failed`, `dropped`
    and `queued` from the delivery (see `obs.alert_delivery`)."""

    def __init__(
        self,
        senders: Sequence[Sender],
        cooldowns: Cooldowns,
        *,
        min_level: Severity = Severity.WARNING,
        equity: EquityWatch | None = None,
        origin: str = "quantdesk",
        max_queue: int = 100,
        now: Callable[[], int] = time.time_ns,
    ) -> None:
        self.cooldowns = cooldowns
        self.min_level = min_level
        self.equity = equity
        self.now = now
        self.trades = TradeAlerts()
        self.delivery = AlertDelivery(
            senders, cooldowns, origin=origin, max_queue=max_queue, now=now
        )
        self.filtered = self.suppressed = self.errors = 0
        self._lock = threading.Lock()
        self._unmapped: set[str] = set()

    @classmethod
    def from_settings(
        cls,
        settings: Settings,
        db_engine: sqlalchemy.Engine | None,
        *,
        now: Callable[[], int] = time.time_ns,
        origin: str | None = None,
        max_queue: int = 100,
    ) -> AlertRouter:
        """Senders from `settings.alerts` (none configured: a router that does nothing),
        cooldowns restored from `db_engine` (migrated), or in memory only when None.

        `now` times the cooldowns: keep the wall clock (the default) where the engine
        clock runs faster than real time, or an hour of cooldown passes in seconds."""
        alerts = settings.alerts
        senders = senders_from_settings(alerts)
        cooldowns = Cooldowns(alerts.cooldown_s, db_engine if senders else None)
        cooldowns.load(now())
        return cls(
            senders,
            cooldowns,
            min_level=alerts.min_level,
            equity=EquityWatch(settings.risk.capital, alerts.drawdown_pct, alerts.low_balance),
            origin=origin or f"quantdesk {settings.mode.value} {settings.label}",
            max_queue=max_queue,
            now=now,
        )

    @property
    def enabled(self) -> bool:
        return bool(self.delivery.senders)

    @property
    def sent(self) -> int:
        return self.delivery.sent

    @property
    def failed(self) -> int:
        return self.delivery.failed

    @property
    def dropped(self) -> int:
        return self.delivery.dropped

    @property
    def queued(self) -> int:
        return self.delivery.queued

    def attach(self, bus: EventSource) -> None:
        """Subscribe to the topics alerts come from (nothing when no sender is set)."""
        if not self.enabled:
            return
        bus.subscribe("risk", self._guard("risk", self._on_risk))
        bus.subscribe("action", self._guard("action", self._on_action))
        bus.subscribe("order", self._guard("order", self._on_order))
        bus.subscribe("trade", self._guard("trade", self._on_trade))

    def on_equity(self, ts: int, equity: Decimal) -> None:
        """The runner's equity mark, at any cadence: drawdown and low-balance alerts."""
        if self.equity is None or not self.enabled:
            return
        try:
            if not isinstance(equity, Decimal):
                raise TypeError(f"equity must be a Decimal, got {type(equity).__name__}")
            for alert in self.equity.check(ts, equity):
                self.raise_alert(alert)
        except Exception:
            self._unexpected("equity", type(equity).__name__)

    def raise_alert(self, alert: Alert) -> bool:
        """Queue an alert unless it is below `min_level`, cooling down, or the queue is
        full of worse ones; True when queued. Never blocks, never raises."""
        if not self.enabled:
            return False
        if rank(alert.level) < rank(self.min_level):
            self.filtered += 1
            return False
        held_back = self.cooldowns.admit(alert.key, alert.level, self.now())
        if held_back is None:
            self.suppressed += 1
            return False
        return self.delivery.put(alert, held_back)

    def close(self, timeout: float = 5.0) -> None:
        """Deliver what is queued for up to `timeout` seconds, save the cooldowns and
        stop; alerts raised afterwards count as dropped."""
        self.delivery.close(timeout)

    def _guard(self, topic: str, handle: Callable[[Any], None]) -> Callable[[Any], None]:
        def guarded(event: Any) -> None:
            try:
                handle(event)
            except Exception:
                self._unexpected(topic, type(event).__name__)

        return guarded

    def _on_risk(self, event: RiskEvent) -> None:
        alert = risk_alert(event)
        if alert is not None:
            self.raise_alert(alert)

    def _on_action(self, event: Action) -> None:
        alert = action_alert(event.name, event.payload, self.now())
        if alert is not None:
            self.raise_alert(alert)

    def _on_order(self, order: Order) -> None:
        alert = self.trades.on_order(order, self.now())
        if alert is not None:
            self.raise_alert(alert)

    def _on_trade(self, closed: Any) -> None:
        self.raise_alert(self.trades.on_trade(closed))

    def _unexpected(self, topic: str, kind: str) -> None:
        key = f"{topic}:{kind}"
        with self._lock:
            self.errors += 1
            first = key not in self._unmapped
            self._unmapped.add(key)
        if first:  # once per kind: a hot path must not flood the log
            log.warning("alerts skip a %s event (%s)", topic, kind, exc_info=True)
