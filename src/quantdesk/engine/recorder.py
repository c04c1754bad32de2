"""Records what entered the engine from outside, so a run can be replayed exactly.

Events go to Parquet part files (each one complete on its own: a crash loses at most
the unflushed tail, never the file). The decision/order log is appended line by line
beside them, so a replay can name the first line where it diverges.
"""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

import pyarrow as pa
import pyarrow.parquet as pq

from quantdesk.domain.market import Bar

BAR_COLUMNS = ("symbol", "ts", "open", "high", "low", "close", "volume", "duration")
EVENTS_GLOB = "events-*.parquet"


class EventRecorder:
    def __init__(self, run_dir: Path, flush_every: int = 500) -> None:
        run_dir.mkdir(parents=True, exist_ok=True)
        self.run_dir = run_dir
        self.flush_every = flush_every
        self._rows: list[Bar] = []
        self._part = 0
        self.recorded = 0
        self._log = (run_dir / "decision_log.txt").open("a", encoding="utf-8")

    def record_bar(self, bar: Bar) -> None:
        self._rows.append(bar)
        self.recorded += 1
        if len(self._rows) >= self.flush_every:
            self.flush()

    def log_line(self, line: str) -> None:
        self._log.write(line + "\n")
        self._log.flush()

    def flush(self) -> None:
        if not self._rows:
            return
        columns: dict[str, list[Any]] = {c: [] for c in BAR_COLUMNS}
        for bar in self._rows:
            for name, value in zip(BAR_COLUMNS, bar, strict=True):
                columns[name].append(value if isinstance(value, int | str) else str(value))
        self._part += 1
        path = self.run_dir / f"events-{self._part:06d}.parquet"
        pq.write_table(pa.table(columns), path)
        self._rows.clear()

    def close(self) -> None:
        self.flush()
        self._log.close()


def read_bars(run_dir: Path) -> list[Bar]:
    """The recorded bars of a run, in the order they were received."""
    from decimal import Decimal

    bars: list[Bar] = []
    for path in sorted(run_dir.glob(EVENTS_GLOB)):
        table = pq.read_table(path).to_pydict()
        for row in zip(*(table[c] for c in BAR_COLUMNS), strict=True):
            symbol, ts, o, h, low, c, v, duration = row
            bars.append(
                Bar(
                    symbol,
                    ts,
                    Decimal(o),
                    Decimal(h),
                    Decimal(low),
                    Decimal(c),
                    Decimal(v),
                    duration,
                )
            )
    return bars


def write_manifest(run_dir: Path, manifest: dict[str, Any]) -> None:
    (run_dir / "run.json").write_text(json.dumps(manifest, indent=2, sort_keys=True))


def read_manifest(run_dir: Path) -> dict[str, Any]:
    path = run_dir / "run.json"
    if not path.exists():
        raise FileNotFoundError(f"{run_dir} is not a recorded run (no run.json)")
    data: dict[str, Any] = json.loads(path.read_text())
    return data
