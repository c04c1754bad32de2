"""Where candles live: the `candles` table (queries, the desk) and Parquet partitions by
timeframe, symbol and month (research, DuckDB, backups).

Writes are idempotent: the table upserts on (venue, symbol, timeframe, ts) and a month's
Parquet file is rewritten merged with what it held, newest value winning, so a re-fetched
or resumed chunk never duplicates a bar. Prices stay exact (decimal text in Parquet).
"""

from __future__ import annotations

from collections import defaultdict
from collections.abc import Iterable
from datetime import UTC, datetime
from pathlib import Path

import pyarrow as pa
import pyarrow.parquet as pq
from sqlalchemy import Engine, select

from quantdesk.domain.market import Bar
from quantdesk.domain.time import NS_PER_S, from_datetime
from quantdesk.storage.db import session_factory
from quantdesk.storage.models import CandleRow
from quantdesk.storage.rows import TableWriter

TIMEFRAMES = {"1m": 60 * NS_PER_S, "1d": 86_400 * NS_PER_S}
KEYS = ("venue", "symbol", "timeframe", "ts")
COLUMNS = ("ts", "open", "high", "low", "close", "volume")


class CandleStore:
    def __init__(self, engine: Engine, root: Path, venue: str = "NSE") -> None:
        self.engine = engine
        self.root = root
        self.venue = venue
        self._writer = TableWriter(CandleRow.__table__, engine.dialect, KEYS)  # type: ignore[arg-type]

    def write(self, timeframe: str, bars: Iterable[Bar]) -> int:
        """Upsert `bars` into the table and their month partitions; returns how many."""
        if timeframe not in TIMEFRAMES:
            raise ValueError(f"unknown timeframe {timeframe!r}; known: {sorted(TIMEFRAMES)}")
        rows = [
            {"venue": self.venue, "symbol": b.symbol, "timeframe": timeframe, "ts": b.ts,
             "open": b.open, "high": b.high, "low": b.low, "close": b.close, "volume": b.volume}
            for b in bars
        ]  # fmt: skip
        if not rows:
            return 0
        with self.engine.begin() as connection:
            self._writer.write(connection, rows)
        parts: defaultdict[tuple[str, str], list[dict[str, object]]] = defaultdict(list)
        for row in rows:
            month = datetime.fromtimestamp(int(row["ts"]) // NS_PER_S, UTC).strftime("%Y-%m")  # type: ignore[call-overload]
            parts[(str(row["symbol"]), month)].append(row)
        for (symbol, month), found in parts.items():
            self._merge_partition(timeframe, symbol, month, found)
        return len(rows)

    def partition(self, timeframe: str, symbol: str, month: str) -> Path:
        return self.root / f"timeframe={timeframe}" / f"symbol={symbol}" / f"{month}.parquet"

    def read(self, timeframe: str, symbol: str) -> list[Bar]:
        """Every stored bar of a symbol, oldest first, from the table."""
        duration = TIMEFRAMES[timeframe]
        query = (
            select(CandleRow)
            .where(
                CandleRow.venue == self.venue,
                CandleRow.symbol == symbol,
                CandleRow.timeframe == timeframe,
            )
            .order_by(CandleRow.ts)
        )
        with session_factory(self.engine)() as db:
            return [
                Bar(symbol, from_datetime(r.ts), r.open, r.high, r.low, r.close, r.volume, duration)
                for r in db.scalars(query)
            ]

    def _merge_partition(
        self, timeframe: str, symbol: str, month: str, rows: list[dict[str, object]]
    ) -> None:
        path = self.partition(timeframe, symbol, month)
        merged: dict[int, dict[str, str]] = {}
        if path.exists():
            for old in pq.read_table(path).to_pylist():
                merged[int(old["ts"])] = old
        for row in rows:
            merged[int(row["ts"])] = {  # type: ignore[call-overload]
                "ts": row["ts"],
                **{k: str(row[k]) for k in COLUMNS if k != "ts"},
            }
        ordered = [merged[ts] for ts in sorted(merged)]
        table = pa.Table.from_pylist(
            ordered,
            schema=pa.schema([("ts", pa.int64()), *((k, pa.string()) for k in COLUMNS[1:])]),
        )
        path.parent.mkdir(parents=True, exist_ok=True)
        temporary = path.with_suffix(".parquet.tmp")
        pq.write_table(table, temporary)
        temporary.replace(path)  # a crash leaves the old month or the new one
