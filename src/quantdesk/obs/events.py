"""One JSON form for bus events, shared by the Redis fan-out and the API's WebSocket.

Every message is a flat dict with a `type` (signal, decision, order, fill, trade, risk,
action, heartbeat), `ts` (UTC epoch nanoseconds, int) and `time` (the same instant as
ISO-8601 UTC with nanoseconds, `2026-11-25T03:45:00.000000001Z`). Prices, quantities and
money are exact decimal strings in plain notation (`"0.00000001"`, never `1E-8` and never a
float), so `Decimal(message["price"]) == fill.price`; enums are their value; floats
appear only for statistics (signal strength and features, trade latency).

`ts`/`time` are null only for an order that has not yet had any event applied. Action
payloads and risk details are redacted like the audit log: a secret-looking key never
leaves the process.

Serialization happens when the event is published, not later: an `Order` is mutable, so
the message is a snapshot of the order at that status change.
"""

from __future__ import annotations

from collections.abc import Callable, Mapping
from decimal import Decimal
from enum import Enum
from typing import Any, Protocol, runtime_checkable

import msgspec

from quantdesk.domain.actions import Action
from quantdesk.domain.fill import Fill
from quantdesk.domain.order import Order
from quantdesk.domain.redact import redact
from quantdesk.domain.risk_event import RiskEvent
from quantdesk.domain.signal import Decision, Signal
from quantdesk.domain.time import NS_PER_S, to_datetime
from quantdesk.domain.trade import Trade

Message = dict[str, Any]


@runtime_checkable
class ClosedTradeLike(Protocol):
    """What the "trade" topic carries (`execution.book.ClosedTrade`), named by shape so
    that obs does not import the execution layer."""

    trade: Trade
    plan_id: str | None
    slippage_bps: Decimal | None
    latency_ms: float | None


_encoder = msgspec.json.Encoder()


def encode(message: Mapping[str, Any]) -> bytes:
    """Compact UTF-8 JSON of a message (msgspec: exact decimals, no floats invented)."""
    return _encoder.encode(message)


def iso_time(ts: int) -> str:
    """`YYYY-MM-DDTHH:MM:SS.fffffffffZ`: fixed width, so the strings sort like the ints."""
    moment = to_datetime(ts).strftime("%Y-%m-%dT%H:%M:%S")
    return f"{moment}.{ts % NS_PER_S:09d}Z"


def to_message(topic: str, event: object) -> Message:
    """The JSON-ready message of one bus event; TypeError for a topic or payload type
    that has no message form (callers on the engine thread must catch and skip)."""
    entry = _FORMS.get(topic)
    if entry is None:
        raise TypeError(f"no message form for bus topic {topic!r} ({type(event).__name__})")
    expected, build = entry
    if not isinstance(event, expected):
        raise TypeError(
            f"bus topic {topic!r} carries {_names(expected)}, got {type(event).__name__}"
        )
    return build(event)


def heartbeat(ts: int, **fields: Any) -> Message:
    """A health message: liveness plus whatever the caller reports (queue depth, lag,
    trading state...). Decimals become strings and enums their values."""
    clash = {"type", "time"} & fields.keys()
    if clash:
        raise ValueError(f"heartbeat fields {sorted(clash)} are reserved")
    return {**_stamp("heartbeat", ts), **{k: _plain(v) for k, v in fields.items()}}


def _signal(s: Signal) -> Message:
    return {
        **_stamp("signal", s.ts),
        "strategy": s.strategy,
        "symbol": s.symbol,
        "side": s.side.value,
        "entry": _num(s.entry),
        "stop_loss": _num(s.stop_loss),
        "targets": [_exact(t) for t in s.targets],
        "quantity": _num(s.quantity),
        "trail_distance": _num(s.trail_distance),
        "time_stop_ns": s.time_stop_ns,
        "strength": float(s.strength),
        "rationale": s.rationale,
        "features": {str(k): float(v) for k, v in s.features.items()},
        "correlation_id": s.correlation_id,
        "plan_id": s.plan_id,
    }


def _decision(d: Decision) -> Message:
    return {
        **_stamp("decision", d.ts),
        "plan_id": d.plan_id,
        "correlation_id": d.correlation_id,
        "symbol": d.symbol,
        "side": d.side.value,
        "status": d.status.value,
        "order_type": d.order_type.value,
        "quantity": _exact(d.quantity),
        "entry_price": _num(d.entry_price),
        "limit_price": _num(d.limit_price),
        "stop_loss": _num(d.stop_loss),
        "targets": [_exact(t) for t in d.targets],
        "risk_amount": _exact(d.risk_amount),
        "trail_distance": _num(d.trail_distance),
        "time_stop_ns": d.time_stop_ns,
        "reasons": list(d.reasons),
    }


def _order(o: Order) -> Message:
    last = o.events[-1] if o.events else None
    return {
        **_stamp("order", last.ts if last is not None else None),
        "client_order_id": o.client_order_id,
        "venue_order_id": o.venue_order_id,
        "plan_id": o.plan_id,
        "leg": o.leg,
        "symbol": o.symbol,
        "side": o.side.value,
        "order_type": o.order_type.value,
        "time_in_force": o.time_in_force.value,
        "reduce_only": o.reduce_only,
        "status": o.status.value,
        "last_event": type(last).__name__ if last is not None else None,
        "last_reason": o.last_reason,
        "quantity": _exact(o.quantity),
        "limit_price": _num(o.limit_price),
        "trigger_price": _num(o.trigger_price),
        "filled_quantity": _exact(o.filled_quantity),
        "filled_notional": _exact(o.filled_notional),
        "fees": _exact(o.fees),
    }


def _fill(f: Fill) -> Message:
    return {
        **_stamp("fill", f.ts),
        "fill_id": f.fill_id,
        "client_order_id": f.client_order_id,
        "symbol": f.symbol,
        "side": f.side.value,
        "quantity": _exact(f.quantity),
        "price": _exact(f.price),
        "fee": _exact(f.fee),
        "notional": _exact(f.notional),
    }


def _trade(closed: ClosedTradeLike | Trade) -> Message:
    """`ts` is the exit: a trade is news when it closes."""
    if isinstance(closed, Trade):
        t, extra = closed, None
    elif isinstance(closed.trade, Trade):
        t, extra = closed.trade, closed
    else:
        raise TypeError(f"bus topic 'trade' carries a Trade in .trade, got {closed.trade!r:.80}")
    latency = extra.latency_ms if extra is not None else None
    return {
        **_stamp("trade", t.exit_ts),
        "trade_id": t.trade_id,
        "plan_id": extra.plan_id if extra is not None else None,
        "symbol": t.symbol,
        "side": t.side.value,
        "quantity": _exact(t.quantity),
        "entry_price": _exact(t.entry_price),
        "exit_price": _exact(t.exit_price),
        "entry_ts": t.entry_ts,
        "entry_time": iso_time(t.entry_ts),
        "exit_ts": t.exit_ts,
        "exit_time": iso_time(t.exit_ts),
        "pnl": _exact(t.pnl),
        "fees": _exact(t.fees),
        "net_pnl": _exact(t.net_pnl),
        "exit_reason": t.exit_reason,
        "first_fill_id": t.first_fill_id,
        "slippage_bps": _num(extra.slippage_bps) if extra is not None else None,
        "latency_ms": float(latency) if latency is not None else None,
    }


def _risk(r: RiskEvent) -> Message:
    return {
        **_stamp("risk", r.ts),
        "code": r.code,
        "severity": r.severity.value,
        "message": r.message,
        "symbol": r.symbol,
        "details": {str(k): _plain(v) for k, v in redact(r.details).items()},
    }


def _action(event: Action) -> Message:
    return {
        **_stamp("action", event.ts),
        "action": event.name,
        "payload": {str(k): _plain(v) for k, v in redact(event.payload).items()},
    }


_FORMS: dict[str, tuple[type | tuple[type, ...], Callable[[Any], Message]]] = {
    "signal": (Signal, _signal),
    "decision": (Decision, _decision),
    "order": (Order, _order),
    "fill": (Fill, _fill),
    "trade": ((ClosedTradeLike, Trade), _trade),
    "risk": (RiskEvent, _risk),
    "action": (Action, _action),
}
TOPICS = tuple(_FORMS)
"""The bus topics that have a message form."""


def _stamp(kind: str, ts: int | None) -> Message:
    return {"type": kind, "ts": ts, "time": iso_time(ts) if ts is not None else None}


def _exact(value: Decimal) -> str:
    return format(value, "f")


def _num(value: Decimal | None) -> str | None:
    return None if value is None else format(value, "f")


def _plain(value: Any) -> Any:
    """Free-form fields (heartbeat, payloads): exact decimals, enum values, JSON shapes."""
    if isinstance(value, Decimal):
        return format(value, "f")
    if isinstance(value, Enum):
        return value.value
    if isinstance(value, Mapping):
        return {str(k): _plain(v) for k, v in value.items()}
    if isinstance(value, list | tuple | set | frozenset):
        return [_plain(v) for v in value]
    return value


def _names(expected: type | tuple[type, ...]) -> str:
    kinds = expected if isinstance(expected, tuple) else (expected,)
    return " or ".join(k.__name__ for k in kinds)
