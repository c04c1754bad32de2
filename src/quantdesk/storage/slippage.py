"""The slippage model: median slippage (bps, positive = worse) per instrument and side.

Recomputed daily from closed trades; the paper venue charges it and sizing budgets it,
so paper results and position sizes learn from what execution really cost.
"""

from __future__ import annotations

import statistics
from datetime import timedelta
from decimal import Decimal

from sqlalchemy import Engine, delete, insert, select

from quantdesk.domain.time import to_datetime
from quantdesk.storage.models import SlippageModelRow, TradeRow

SlippageModel = dict[tuple[str, str], Decimal]
BPS_QUANTUM = Decimal("0.01")


def recompute(
    engine: Engine, now: int, lookback_days: int = 20, min_samples: int = 5
) -> SlippageModel:
    """Median over the last `lookback_days` of closed trades; instruments with fewer than
    `min_samples` trades keep no entry (too little evidence)."""
    since = to_datetime(now) - timedelta(days=lookback_days)
    query = select(TradeRow.symbol, TradeRow.side, TradeRow.slippage_bps).where(
        TradeRow.status == "CLOSED",
        TradeRow.slippage_bps.is_not(None),
        TradeRow.exit_ts >= since,
    )
    samples: dict[tuple[str, str], list[Decimal]] = {}
    with engine.connect() as connection:
        for symbol, side, bps in connection.execute(query):
            samples.setdefault((symbol, side), []).append(bps)
    model = {
        key: Decimal(statistics.median(values)).quantize(BPS_QUANTUM)
        for key, values in samples.items()
        if len(values) >= min_samples
    }
    stamp = to_datetime(now)
    rows = [
        {
            "symbol": s,
            "side": side,
            "median_bps": bps,
            "samples": len(samples[(s, side)]),
            "updated_at": stamp,
        }
        for (s, side), bps in sorted(model.items())
    ]
    with engine.begin() as connection:
        connection.execute(delete(SlippageModelRow))
        if rows:
            connection.execute(insert(SlippageModelRow), rows)
    return model


def load(engine: Engine) -> SlippageModel:
    with engine.connect() as connection:
        rows = connection.execute(
            select(SlippageModelRow.symbol, SlippageModelRow.side, SlippageModelRow.median_bps)
        )
        return {(symbol, side): bps for symbol, side, bps in rows}
