"""Hourly and daily snapshots: exactly one record per bucket boundary the desk lived through.

A bucket is an IST clock hour (or IST day). The first engine time past a boundary closes
the bucket before it and emits its summary; a bucket in which nothing happened (the market
was shut all hour) emits nothing, so every emitted field has data behind it. Repeated
calls at the same time never emit twice.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from decimal import Decimal
from typing import Any

from quantdesk.domain.time import IST_OFFSET_NS, NS_PER_DAY, NS_PER_S

HOUR_NS = 3600 * NS_PER_S
BUCKETS = {"1h": HOUR_NS, "24h": NS_PER_DAY}


@dataclass
class _Bucket:
    start: int
    end: int
    equity_open: Decimal
    equity_close: Decimal
    peak: Decimal
    max_drawdown_pct: Decimal = Decimal(0)
    trades: int = 0
    wins: int = 0
    net_pnl: Decimal = Decimal(0)
    fees: Decimal = Decimal(0)
    errors: int = 0
    risk_blocks: int = 0
    bars: int = 0


@dataclass
class Snapshots:
    width_ns: int
    name: str
    _bucket: _Bucket | None = None
    emitted: list[int] = field(default_factory=list)  # starts of emitted buckets (tests)

    def _start_of(self, ts: int) -> int:
        local = ts + IST_OFFSET_NS
        return local - local % self.width_ns - IST_OFFSET_NS

    def observe(self, ts: int, equity: Decimal) -> dict[str, Any] | None:
        """Advance to `ts`; returns the finished bucket's record when `ts` crossed its end.
        Called every bar: the common case is two comparisons."""
        bucket = self._bucket
        done = None
        if bucket is None or ts >= bucket.end:
            if bucket is not None:
                done = self._record(bucket, complete=True)
            start = self._start_of(ts)
            bucket = self._bucket = _Bucket(start, start + self.width_ns, equity, equity, equity)
        bucket.bars += 1
        if equity == bucket.equity_close:
            return done
        bucket.equity_close = equity
        if equity > bucket.peak:
            bucket.peak = equity
        elif bucket.peak > 0:
            drawdown = (bucket.peak - equity) * 100 / bucket.peak
            bucket.max_drawdown_pct = max(bucket.max_drawdown_pct, drawdown)
        return done

    def on_trade(self, net_pnl: Decimal, fees: Decimal) -> None:
        if self._bucket is not None:
            self._bucket.trades += 1
            self._bucket.wins += net_pnl > 0
            self._bucket.net_pnl += net_pnl
            self._bucket.fees += fees

    def on_error(self) -> None:
        if self._bucket is not None:
            self._bucket.errors += 1

    def on_risk_block(self) -> None:
        if self._bucket is not None:
            self._bucket.risk_blocks += 1

    @property
    def end(self) -> int:
        """When the bucket in progress ends (0 before the first observation)."""
        return self._bucket.end if self._bucket is not None else 0

    def close(self) -> dict[str, Any] | None:
        """The bucket in progress when the run ends, marked incomplete."""
        bucket, self._bucket = self._bucket, None
        return self._record(bucket, complete=False) if bucket is not None else None

    def _record(self, b: _Bucket, complete: bool) -> dict[str, Any]:
        self.emitted.append(b.start)
        win_rate = Decimal(b.wins) / b.trades if b.trades else Decimal(0)
        return {
            "bucket": self.name,
            "bucket_start_ns": b.start,
            "bucket_end_ns": b.start + self.width_ns,
            "equity_open": str(b.equity_open),
            "equity_close": str(b.equity_close),
            "equity_change": str(b.equity_close - b.equity_open),
            "max_drawdown_pct": str(b.max_drawdown_pct.quantize(Decimal("0.0001"))),
            "trade_count": b.trades,
            "win_rate": str(win_rate.quantize(Decimal("0.0001"))),
            "net_pnl": str(b.net_pnl),
            "fees": str(b.fees),
            "error_count": b.errors,
            "risk_blocks": b.risk_blocks,
            "bars": b.bars,
            "complete": complete,
        }
