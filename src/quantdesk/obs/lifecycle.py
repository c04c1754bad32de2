"""Trade lifecycle records: one per round trip, everything needed to judge it afterwards.

Money stays exact (decimal strings); basis points are statistics, rounded to 0.01 bps.
Entry slippage is the fill against the decision's reference price; exit slippage is the
fill against the level that was asked for (a stop's trigger, a target's limit, or the mark
when a market exit was sent). The prediction error compares the realised move with the
move the plan's last target stood for; entry delay is signal to first fill.
"""

from __future__ import annotations

from dataclasses import dataclass
from decimal import Decimal
from typing import Any

from quantdesk.domain.enums import Side
from quantdesk.domain.signal import Decision, Signal
from quantdesk.domain.time import NS_PER_S, iso_utc

BPS = Decimal(10_000)
CENT_BPS = Decimal("0.01")


@dataclass(frozen=True, slots=True)
class EntryContext:
    signal: Signal
    decision: Decision


def bps(amount: Decimal, base: Decimal) -> str | None:
    if not base:
        return None
    return str((amount * BPS / base).quantize(CENT_BPS))


def lifecycle_record(
    closed: Any, entry: EntryContext | None, exit_reference: Decimal | None
) -> dict[str, Any]:
    """`closed` is an `execution.book.ClosedTrade`."""
    t = closed.trade
    sign = t.side.sign
    notional = t.entry_price * t.quantity
    gross = t.pnl
    record: dict[str, Any] = {
        "trade_id": t.trade_id,
        "plan_id": closed.plan_id,
        "symbol": t.symbol,
        "side": "LONG" if t.side is Side.BUY else "SHORT",
        "quantity": str(t.quantity),
        "entry_time": iso_utc(t.entry_ts),
        "exit_time": iso_utc(t.exit_ts),
        "entry_price": str(t.entry_price),
        "exit_price": str(t.exit_price),
        "exit_reason": t.exit_reason,
        "duration_s": str(Decimal(t.exit_ts - t.entry_ts) / NS_PER_S),
        "realised_pnl": str(gross),
        "realised_pnl_bps": bps(gross, notional),
        "costs": str(t.fees),
        "costs_bps": bps(t.fees, notional),
        "net_pnl": str(t.net_pnl),
        "net_pnl_bps": bps(t.net_pnl, notional),
        "entry_slippage_bps": None
        if closed.slippage_bps is None
        else str(Decimal(closed.slippage_bps).quantize(CENT_BPS)),
        "exit_slippage_bps": None
        if exit_reference is None
        else bps((exit_reference - t.exit_price) * sign, exit_reference),
        "signal_to_fill_ms": closed.latency_ms,
    }
    if entry is not None:
        s, d = entry.signal, entry.decision
        record.update(
            strategy=s.strategy,
            signal_strength=s.strength,
            decision_price=None if d.entry_price is None else str(d.entry_price),
        )
        target = d.targets[-1] if d.targets else None
        if target is not None:
            predicted = (target - t.entry_price) * sign
            realised = (t.exit_price - t.entry_price) * sign
            record["predicted_bps"] = bps(predicted, t.entry_price)
            record["prediction_error_bps"] = bps(realised - predicted, t.entry_price)
    return record
