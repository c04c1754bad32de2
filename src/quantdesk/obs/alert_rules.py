"""Which desk events deserve a person's attention, as pure functions of the event.

| trigger           | published as                            | alert key                | level   |
|-------------------|-----------------------------------------|--------------------------|---------|
| kill switch       | action `kill_switch.engage`             | `kill_switch`            | CRITICAL|
|                   | action `kill_switch.flat`               | `kill_switch:flat`       | WARNING |
|                   | action `kill_switch.release`            | `kill_switch:release`    | WARNING |
| breaker trip      | risk `BREAKER_<NAME>`                   | `breaker:<name>`         | CRITICAL|
| rejection storm   | risk `BREAKER_REJECTIONS`               | `breaker:rejections`     | CRITICAL|
| data staleness    | risk `BREAKER_DATA_HEALTH`              | `data_stale`             | CRITICAL|
| breaker recovery  | risk `BREAKER_RECOVERED` (feed healed)  | `data_stale:recovered`   | WARNING |
|                   | risk `TRADING_ACTIVE` (operator resume) | `trading_state`          | WARNING |
| LIVE gate granted | action `mode.live_granted`              | `live_gate`              | CRITICAL|
| LIVE gate refused | action `mode.live_refused`              | `live_gate:refused`      | WARNING |
| drawdown          | `EquityWatch` (the runner's equity)     | `drawdown`               | WARNING |
| low balance       | `EquityWatch`                           | `low_balance`            | WARNING |
| other risk events | codes not above, WARNING or CRITICAL    | `risk:<CODE>[:<symbol>]` | as sent |

Left out on purpose, because another row already tells the same news: `KILL_SWITCH` (the
engage action carries the positions), `TRADING_REDUCING`/`TRADING_HALTED` (the breaker or
kill-switch alert came first, or the operator paused), `ORDER_REJECTED` (the order's own
lifecycle message, and the rejection breaker for a storm). Trade lifecycle messages are in
`obs.alert_trades`.
"""

from __future__ import annotations

from collections.abc import Mapping
from decimal import Decimal

from quantdesk.domain.enums import Severity
from quantdesk.domain.redact import redact
from quantdesk.domain.risk_event import RiskEvent
from quantdesk.domain.time import ist_day_minute
from quantdesk.obs.alert_model import Alert, money, num

_COVERED_ELSEWHERE = frozenset(
    {"KILL_SWITCH", "TRADING_REDUCING", "TRADING_HALTED", "ORDER_REJECTED"}
)
_TRIPPED = {
    "rejections": "Rejection storm: entries paused",
    "execution_failures": "Execution failures: entries paused",
    "equity": "Equity breaker: entries paused",
    "data_health": "Market data stale: entries paused",
}
_PERCENT = Decimal("0.01")


def risk_alert(event: RiskEvent) -> Alert | None:
    code = event.code
    if code in _COVERED_ELSEWHERE:
        return None
    if code == "BREAKER_RECOVERED":
        return _recovered(event)
    if code.startswith("BREAKER_"):
        return _tripped(event)
    if code == "TRADING_ACTIVE":
        return Alert(
            "trading_state", Severity.WARNING, "Entries allowed again", event.message, event.ts
        )
    if event.severity is Severity.INFO:
        return None
    key = f"risk:{code}:{event.symbol}" if event.symbol else f"risk:{code}"
    title = code.replace("_", " ").capitalize() + (f": {event.symbol}" if event.symbol else "")
    return Alert(key, event.severity, title, event.message, event.ts)


def _breaker_key(name: str) -> str:
    return "data_stale" if name == "data_health" else f"breaker:{name}"


def _tripped(event: RiskEvent) -> Alert:
    name = event.code.removeprefix("BREAKER_").lower()
    title = _TRIPPED.get(name, f"Breaker {name} tripped: entries paused")
    return Alert(_breaker_key(name), Severity.CRITICAL, title, event.message, event.ts)


def _recovered(event: RiskEvent) -> Alert:
    """The controls name the breaker at the start of the message: `data_health: ...`."""
    name = event.message.partition(":")[0].strip() or "breaker"
    title = "Market data healthy again" if name == "data_health" else f"Breaker {name} recovered"
    key = _breaker_key(name) + ":recovered"
    return Alert(key, Severity.WARNING, title, event.message, event.ts)


def action_alert(name: str, payload: Mapping[str, str], ts: int) -> Alert | None:
    """Operator and safety actions (`engine.record_action`); `ts` is when it was seen."""
    fields = {str(k): str(v) for k, v in redact(payload).items()}
    actor = fields.pop("actor", "unknown")
    if name == "kill_switch.engage":
        reason = fields.pop("reason", "")
        held = ", ".join(f"{symbol} {qty}" for symbol, qty in sorted(fields.items()))
        todo = f"cancelling orders, flattening {held}" if held else "no open positions"
        detail = f"by {actor}: {reason}; {todo}"
        return Alert("kill_switch", Severity.CRITICAL, "Kill switch engaged", detail, ts)
    if name == "kill_switch.flat":
        detail = f"no position and no working order {fields.get('after_ms', '?')} ms after engaging"
        return Alert("kill_switch:flat", Severity.WARNING, "Kill switch: desk is flat", detail, ts)
    if name == "kill_switch.release":
        return Alert(
            "kill_switch:release", Severity.WARNING, "Kill switch released", f"by {actor}", ts
        )
    if name == "mode.live_granted":
        detail = f"by {actor} for {fields.get('day', '?')}: real orders from now on"
        return Alert("live_gate", Severity.CRITICAL, "LIVE trading granted", detail, ts)
    if name == "mode.live_refused":
        detail = f"by {actor}: {fields.get('reasons', '')}"
        return Alert("live_gate:refused", Severity.WARNING, "LIVE request refused", detail, ts)
    return None


class EquityWatch:
    """Drawdown from the IST day's equity peak, in % of capital, and a low-balance mark.

    The risk breakers act (pause entries) at their own limits; these only warn, earlier.
    """

    def __init__(self, capital: Decimal, drawdown_pct: Decimal, low_balance: Decimal) -> None:
        if capital <= 0:
            raise ValueError(f"capital must be positive, got {capital}")
        self.capital = capital
        self.drawdown_pct = drawdown_pct
        self.low_balance = low_balance
        self.day: int | None = None
        self.peak: Decimal | None = None

    def check(self, ts: int, equity: Decimal) -> list[Alert]:
        day = ist_day_minute(ts)[0]
        if day != self.day or self.peak is None or equity > self.peak:
            self.day, self.peak = day, equity
        alerts = []
        drawdown = (self.peak - equity) * 100 / self.capital
        if drawdown > self.drawdown_pct:
            pct = drawdown.quantize(_PERCENT)
            detail = (
                f"equity {money(equity)} is {money(self.peak - equity)} below today's peak "
                f"{money(self.peak)} (alert beyond {num(self.drawdown_pct)}% of capital "
                f"{money(self.capital)})"
            )
            title = f"Drawdown {num(pct)}% of capital today"
            alerts.append(Alert("drawdown", Severity.WARNING, title, detail, ts))
        if equity < self.low_balance:
            detail = f"below the low-balance mark {money(self.low_balance)}"
            title = f"Low balance: equity {money(equity)}"
            alerts.append(Alert("low_balance", Severity.WARNING, title, detail, ts))
        return alerts
