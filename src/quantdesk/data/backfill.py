"""Bulk backfill: years of daily and months of minute candles for a universe, resumable.

The work is cut into chunks (one symbol, one timeframe, a date range the broker serves in
one request: a month of minutes, a year of days). Chunks run concurrently up to
`parallel`, each through the source's own request budget; every finished chunk is
recorded in a checkpoint file (atomically) before the next is taken, so an interrupted
backfill resumes where it stopped and never fetches a finished chunk twice. A failing chunk
is retried with backoff, then reported; the others go on.
"""

from __future__ import annotations

import asyncio
import json
import os
from collections.abc import Awaitable, Callable, Sequence
from dataclasses import dataclass, field
from datetime import date, timedelta
from pathlib import Path
from typing import Protocol

from quantdesk.data.candle_store import CandleStore
from quantdesk.domain.instrument import Instrument
from quantdesk.domain.market import Bar

CHUNKS = ("1m", "1d")  # a calendar month of minutes, a calendar year of days per request


class CandleSource(Protocol):
    async def candles(
        self, instrument: Instrument, timeframe: str, first: date, last: date
    ) -> list[Bar]: ...


@dataclass(frozen=True, slots=True)
class Chunk:
    symbol: str
    timeframe: str
    first: date
    last: date

    @property
    def key(self) -> str:
        return f"{self.symbol}|{self.timeframe}|{self.first}|{self.last}"


def plan(instruments: Sequence[Instrument], timeframe: str, first: date, last: date) -> list[Chunk]:
    """Chunks covering [first, last] for every instrument, oldest first, cut at calendar
    months (minutes) or years (days): what one historical-candle request may span, and
    stable keys, so a resumed plan matches the checkpoint."""
    if timeframe not in CHUNKS:
        raise ValueError(f"unknown timeframe {timeframe!r}; known: {list(CHUNKS)}")
    if first > last:
        raise ValueError(f"first day {first} is after the last {last}")
    chunks = []
    for instrument in instruments:
        start = first
        while start <= last:
            end = min(last, _period_end(start, timeframe))
            chunks.append(Chunk(instrument.symbol, timeframe, start, end))
            start = end + timedelta(days=1)
    return chunks


def _period_end(day: date, timeframe: str) -> date:
    if timeframe == "1d":
        return date(day.year, 12, 31)
    following = date(day.year + day.month // 12, day.month % 12 + 1, 1)
    return following - timedelta(days=1)


@dataclass
class BackfillResult:
    done: int = 0
    skipped: int = 0  # finished in an earlier run
    bars: int = 0
    failed: dict[str, str] = field(default_factory=dict)  # chunk key -> last error


class Checkpoint:
    """Finished chunk keys, in a JSON file replaced atomically after every chunk."""

    def __init__(self, path: Path) -> None:
        self.path = path
        self.done: set[str] = set()
        if path.exists():
            self.done = set(json.loads(path.read_text(encoding="utf-8"))["done"])

    def mark(self, key: str) -> None:
        self.done.add(key)
        self.path.parent.mkdir(parents=True, exist_ok=True)
        temporary = self.path.with_suffix(".tmp")
        temporary.write_text(json.dumps({"done": sorted(self.done)}), encoding="utf-8")
        os.replace(temporary, self.path)


async def backfill(
    source: CandleSource,
    store: CandleStore,
    instruments: Sequence[Instrument],
    chunks: Sequence[Chunk],
    checkpoint: Checkpoint,
    *,
    parallel: int = 4,
    attempts: int = 3,
    backoff_s: float = 1.0,
    progress: Callable[[Chunk, int], None] | None = None,
    sleep: Callable[[float], Awaitable[object]] = asyncio.sleep,
) -> BackfillResult:
    """Fetch and store every chunk not yet in the checkpoint."""
    by_symbol = {i.symbol: i for i in instruments}
    result = BackfillResult()
    todo = [c for c in chunks if c.key not in checkpoint.done]
    result.skipped = len(chunks) - len(todo)
    gate = asyncio.Semaphore(parallel)

    async def one(chunk: Chunk) -> None:
        async with gate:
            for attempt in range(1, attempts + 1):
                try:
                    bars = await source.candles(
                        by_symbol[chunk.symbol], chunk.timeframe, chunk.first, chunk.last
                    )
                    break
                except Exception as exc:  # a broker's failure is reported, not fatal
                    if attempt == attempts:
                        result.failed[chunk.key] = f"{type(exc).__name__}: {exc}"
                        return
                    await sleep(backoff_s * 2 ** (attempt - 1))
            written = store.write(chunk.timeframe, bars)
            checkpoint.mark(chunk.key)
            result.done += 1
            result.bars += written
            if progress is not None:
                progress(chunk, written)

    await asyncio.gather(*(one(c) for c in todo))
    return result
