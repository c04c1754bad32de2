"""Backfill: chunked, concurrent, resumable after an interrupt, idempotent in the store."""

from __future__ import annotations

import asyncio
from datetime import UTC, date, datetime, timedelta
from decimal import Decimal
from pathlib import Path

import pyarrow.parquet as pq
import pytest
from sqlalchemy import func, select

from quantdesk.data.backfill import Checkpoint, backfill, plan
from quantdesk.data.candle_store import CandleStore
from quantdesk.domain.instrument import Instrument
from quantdesk.domain.market import Bar
from quantdesk.domain.time import from_datetime
from quantdesk.storage import migrate
from quantdesk.storage.db import make_engine
from quantdesk.storage.models import CandleRow

D = Decimal
DAY = 86_400 * 10**9
UNIVERSE = [Instrument(f"S{n:02d}", "NSE", D("0.05")) for n in range(20)]


class Source:
    """Daily bars for weekdays; optionally slow, or failing for some symbols."""

    def __init__(self, delay: float = 0.0, failing: set[str] | None = None) -> None:
        self.delay, self.failing = delay, failing or set()
        self.calls: list[tuple[str, date]] = []

    async def candles(self, instrument: Instrument, timeframe: str, first: date, last: date):
        self.calls.append((instrument.symbol, first))
        await asyncio.sleep(self.delay)
        if instrument.symbol in self.failing:
            raise ConnectionError("reset by peer")
        bars, day = [], first
        while day <= last:
            if day.weekday() < 5:
                ts = from_datetime(datetime(day.year, day.month, day.day, tzinfo=UTC))
                price = D(100 + day.toordinal() % 7)
                bars.append(
                    Bar(instrument.symbol, ts, price, price + 1, price - 1, price, D(10), DAY)
                )
            day += timedelta(days=1)
        return bars


@pytest.fixture
def store(tmp_path: Path) -> CandleStore:
    engine = make_engine(f"sqlite:///{tmp_path / 'c.db'}")
    migrate.upgrade(engine)
    return CandleStore(engine, tmp_path / "candles")


def _month(ts: int) -> str:
    return datetime.fromtimestamp(ts // 10**9, UTC).strftime("%Y-%m")


def count(store: CandleStore) -> int:
    with store.engine.connect() as c:
        return int(c.scalar(select(func.count()).select_from(CandleRow)) or 0)


def test_twenty_symbols_resume_after_an_interrupt_without_refetching(store, tmp_path) -> None:
    chunks = plan(UNIVERSE, "1d", date(2022, 1, 1), date(2025, 12, 31))  # 4 years
    assert len(chunks) == 20 * 4
    checkpoint = Checkpoint(tmp_path / "progress.json")
    slow = Source(delay=0.01)

    async def interrupted() -> None:
        task = asyncio.create_task(backfill(slow, store, UNIVERSE, chunks, checkpoint, parallel=4))
        while len(checkpoint.done) < 5:  # some chunks finished, others in flight
            await asyncio.sleep(0.002)
        task.cancel()  # Ctrl-C mid-way
        with pytest.raises(asyncio.CancelledError):
            await task

    asyncio.run(interrupted())
    finished = len(Checkpoint(tmp_path / "progress.json").done)
    assert 0 < finished < len(chunks)
    healthy = Source()
    result = asyncio.run(
        backfill(healthy, store, UNIVERSE, chunks, Checkpoint(tmp_path / "progress.json"))
    )
    assert result.skipped == finished and result.done == len(chunks) - finished
    assert len(healthy.calls) == len(chunks) - finished  # nothing fetched twice
    weekdays = sum(1 for n in range((date(2025, 12, 31) - date(2022, 1, 1)).days + 1)
                   if (date(2022, 1, 1) + timedelta(days=n)).weekday() < 5)  # fmt: skip
    assert count(store) == 20 * weekdays  # no duplicates from the interrupted chunks
    bars = store.read("1d", "S07")
    assert len(bars) == weekdays and bars == sorted(bars, key=lambda b: b.ts)
    part = pq.read_table(store.partition("1d", "S07", "2024-02")).to_pylist()
    february = [b for b in bars if _month(b.ts) == "2024-02"]
    assert [r["close"] for r in part] == [str(b.close) for b in february]


def test_a_failing_symbol_is_reported_and_the_rest_is_stored(store, tmp_path) -> None:
    chunks = plan(UNIVERSE[:3], "1d", date(2025, 1, 1), date(2025, 12, 31))
    source = Source(failing={"S01"})
    result = asyncio.run(
        backfill(
            source,
            store,
            UNIVERSE[:3],
            chunks,
            Checkpoint(tmp_path / "p.json"),
            attempts=3,
            backoff_s=0.0,
        )
    )
    assert list(result.failed) == ["S01|1d|2025-01-01|2025-12-31"]
    assert "reset by peer" in result.failed["S01|1d|2025-01-01|2025-12-31"]
    assert sum(1 for s, _ in source.calls if s == "S01") == 3  # retried, then reported
    assert store.read("1d", "S01") == [] and store.read("1d", "S02")


def test_minute_chunks_are_a_month_and_plans_refuse_nonsense() -> None:
    chunks = plan(UNIVERSE[:1], "1m", date(2025, 9, 1), date(2025, 11, 30))
    assert [(c.first, c.last) for c in chunks][:2] == [
        (date(2025, 9, 1), date(2025, 9, 30)),
        (date(2025, 10, 1), date(2025, 10, 31)),
    ]
    assert chunks[-1].last == date(2025, 11, 30)
    with pytest.raises(ValueError, match="unknown timeframe"):
        plan(UNIVERSE, "5s", date(2025, 1, 1), date(2025, 1, 2))
    with pytest.raises(ValueError, match="after"):
        plan(UNIVERSE, "1d", date(2025, 1, 2), date(2025, 1, 1))
