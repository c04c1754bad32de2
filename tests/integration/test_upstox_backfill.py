"""Backfill 20 symbols from the fake Upstox server: interrupted, resumed from the CLI,
nothing fetched twice, and the quality report finds the defects planted in the data."""

from __future__ import annotations

import asyncio
import math
import time
from collections.abc import Iterator
from datetime import date, timedelta
from decimal import Decimal
from pathlib import Path

import pytest
from typer.testing import CliRunner

from quantdesk.cli import app
from quantdesk.data.backfill import Checkpoint, backfill, plan
from quantdesk.data.candle_store import CandleStore
from quantdesk.data.checks import Kind, Timeframe
from quantdesk.data.quality_report import build_report
from quantdesk.domain.time import ist_date
from quantdesk.risk.calendar import TradingCalendar
from quantdesk.storage import migrate
from quantdesk.storage.db import make_engine
from quantdesk.storage.universe import UniverseStore
from quantdesk.venues.upstox.candles import UpstoxCandles
from quantdesk.venues.upstox.client import UpstoxClient
from tests.testkit.fake_upstox import FakeUpstox

TOKEN = "upstox-token-backfill-91c2"
SYMBOLS = [f"S{n:02d}" for n in range(20)]
GAP = ("S03", date(2025, 6, 10))  # a Tuesday the fake leaves out
SPIKE = ("S07", date(2025, 7, 15))  # one close 60% off, back the next day


def make_candles(key: str, unit: str, first: str, last: str) -> list[list[object]]:
    symbol = key.split("|")[1][-3:]
    rows, day = [], date.fromisoformat(first)
    while day <= date.fromisoformat(last):
        planted_gap = (symbol, day) == GAP
        if day.weekday() < 5 and not planted_gap:
            base = 100 + 5 * math.sin(day.toordinal() / 9) + int(symbol[1:])
            close = round(base * (1.6 if (symbol, day) == SPIKE else 1), 2)
            rows.append([f"{day}T00:00:00+05:30", base, max(base, close) + 1,
                         min(base, close) - 1, close, 1000, 0])  # fmt: skip
        day += timedelta(days=1)
    return rows[::-1]  # newest first, as Upstox sends them


@pytest.fixture
def fake() -> Iterator[FakeUpstox]:
    with FakeUpstox(TOKEN) as server:
        server.candle_maker = make_candles
        yield server


def test_backfill_resumes_after_an_interrupt_and_quality_finds_the_planted_defects(
    fake: FakeUpstox, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    url = f"sqlite:///{tmp_path / 'qd.db'}"
    for key, value in {
        "QD_DATABASE_URL": url,
        "QD_UPSTOX__BASE_URL": fake.base_url,
        "QD_UPSTOX__ORDER_BASE_URL": fake.base_url,
        "QD_UPSTOX__ACCESS_TOKEN": TOKEN,
    }.items():
        monkeypatch.setenv(key, value)
    engine = make_engine(url)
    migrate.upgrade(engine)
    rows = "\n".join(f"{s},NSE,0.05,1,NSE_EQ|INE000000{s},LARGE,Test" for s in SYMBOLS)
    UniverseStore(engine).import_csv(
        "symbol,venue,tick_size,lot_size,token,cap_tier,sector\n" + rows
    )
    universe = UniverseStore(engine).list()
    store = CandleStore(engine, tmp_path / "candles")
    last = ist_date(time.time_ns()) - timedelta(days=1)
    first = last - timedelta(days=730 - 1)
    chunks = plan(universe, "1d", first, last)
    checkpoint = Checkpoint(tmp_path / "candles" / "_backfill_1d.json")

    async def interrupted() -> None:
        async with UpstoxClient(fake.base_url, TOKEN, safe_mode=True) as client:
            task = asyncio.create_task(
                backfill(UpstoxCandles(client), store, universe, chunks, checkpoint, parallel=2)
            )
            while len(checkpoint.done) < 10:
                await asyncio.sleep(0.005)
            task.cancel()  # Ctrl-C
            with pytest.raises(asyncio.CancelledError):
                await task

    asyncio.run(interrupted())
    done_first_before = set(Checkpoint(checkpoint.path).done)
    finished = len(done_first_before)
    assert 10 <= finished < len(chunks)
    before = len(fake.requests)
    result = CliRunner().invoke(
        app, ["data", "backfill", "--days", "730", "--store-dir", str(tmp_path / "candles")]
    )
    assert result.exit_code == 0, result.output
    done_first = Checkpoint(checkpoint.path).done

    def fetched(chunk) -> bool:  # type: ignore[no-untyped-def]
        marker = f"INE000000{chunk.symbol}"
        span = f"/{chunk.last}/{chunk.first}"
        return any(marker in r.path and r.path.endswith(span) for r in fake.requests[before:])

    # (a request cancelled in flight may reach the server late: count chunks, not requests)
    assert not [c.key for c in chunks if c.key in done_first_before and fetched(c)]
    assert all(fetched(c) for c in chunks if c.key not in done_first_before)
    assert len(done_first) == len(chunks)
    assert f"{finished} already done" in result.output

    calendar = TradingCalendar(None)  # weekdays: the fake's own calendar
    clean = build_report("S01", store.read("1d", "S01"), calendar, Timeframe.DAY)
    assert not clean.quarantined
    gappy = build_report("S03", store.read("1d", "S03"), calendar, Timeframe.DAY, worst=None)
    missing = [f for f in gappy.worst if f.kind is Kind.MISSING_SESSION]
    assert [ist_date(f.ts) for f in missing] == [GAP[1]]
    spiky = build_report("S07", store.read("1d", "S07"), calendar, Timeframe.DAY, worst=None)
    outliers = {ist_date(f.ts) for f in spiky.worst if f.kind is Kind.OUTLIER}
    assert SPIKE[1] in outliers
    assert Decimal(str(store.read("1d", "S07")[0].close)) > 0
