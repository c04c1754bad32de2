"""One writer for every event stream: JSONL to tail, Parquet to analyse.

The engine never waits on a disk: `emit` appends to a bounded in-memory queue and returns;
one worker thread writes. When the queue is full the *new* record is dropped and counted
per stream (`dropped`): the engine's pace is worth more than the oldest unwritten health
line, and a drop count in the next health record says the stream has a hole.

Layout under `root`: `<stream>/<YYYY-MM-DD>.jsonl` (IST day of the record's engine time,
so a trading day is one file) and `<stream>/parquet/<YYYY-MM-DD>-<seq>.parquet`, one part
per flush of at least `parquet_every` records and at close. Values are JSON-ready: exact
decimals arrive as strings and stay strings in Parquet.
"""

from __future__ import annotations

import logging
import threading
import time
from collections import defaultdict, deque
from collections.abc import Callable, Mapping
from pathlib import Path
from typing import Any

import msgspec
import pyarrow as pa
import pyarrow.parquet as pq

from quantdesk.domain.time import ist_date, to_datetime

log = logging.getLogger(__name__)
Record = dict[str, Any]


class StreamWriter:
    def __init__(
        self,
        root: Path,
        *,
        max_queue: int = 100_000,
        parquet_every: int = 5_000,
        wake_every: int = 1_000,
        interval_s: float = 0.25,
        stamp: Mapping[str, str] | None = None,
    ) -> None:
        self.root = root
        self.stamp = dict(stamp or {})
        self.wake_every = wake_every
        self.interval_s = interval_s
        self.max_queue = max_queue
        self.parquet_every = parquet_every
        self.dropped: defaultdict[str, int] = defaultdict(int)
        self.written: defaultdict[str, int] = defaultdict(int)
        self.errors = 0
        self._queue: deque[tuple[str, int, Record | Callable[[], Record]]] = deque()
        self._pending: defaultdict[str, list[Record]] = defaultdict(list)
        self._parts: defaultdict[str, int] = defaultdict(int)
        self._encoder = msgspec.json.Encoder()
        self._wake = threading.Condition()
        self._busy = False
        self._closing = False
        self._thread = threading.Thread(target=self._run, name="qd-streams", daemon=True)
        self._thread.start()

    def emit(self, stream: str, ts: int, record: Record | Callable[[], Record]) -> None:
        """Queue one record (engine time `ts`, epoch ns); never blocks, never raises.
        A callable is built on the writer thread: pass one when the record is costly to
        build and made only of immutable values (a closed trade, a latency sample). The
        writer adds `ts`, `time` (ISO UTC) and its `stamp` fields (the session id).
        The worker is woken only every `wake_every` records (else it wakes on its own every
        `interval_s`): a thread switch per record would cost the engine more than the
        writing itself."""
        queue = self._queue
        if self._closing or len(queue) >= self.max_queue:
            self.dropped[stream] += 1
            return
        queue.append((stream, ts, record))  # deque.append is atomic
        if len(queue) % self.wake_every == 0:
            with self._wake:
                self._wake.notify()

    def flush(self, timeout: float = 10.0) -> bool:
        """Wait until everything queued so far is on disk (JSONL); True when it is."""
        deadline = time.monotonic() + timeout
        while self._queue or self._busy:
            with self._wake:
                self._wake.notify()
            if time.monotonic() > deadline or not self._thread.is_alive():
                return False
            time.sleep(0.005)
        return True

    def close(self, timeout: float = 10.0) -> None:
        """Write what is queued, the last Parquet parts, and stop the worker."""
        self.flush(timeout)
        self._closing = True
        with self._wake:
            self._wake.notify()
        self._thread.join(timeout)
        for stream in list(self._pending):
            self._write_parquet(stream)

    # -- the worker ------------------------------------------------------------------
    def _run(self) -> None:
        while True:
            with self._wake:
                if not self._queue and not self._closing:
                    self._wake.wait(self.interval_s)
            if not self._queue:
                if self._closing:
                    return
                continue
            self._busy = True
            try:
                while self._queue:
                    self._drain()
            finally:
                self._busy = False

    def _drain(self) -> None:
        batches: defaultdict[tuple[str, str], list[bytes]] = defaultdict(list)
        taken = 0
        while self._queue and taken < 10_000:
            stream, ts, item = self._queue.popleft()
            taken += 1
            day = ist_date(ts).isoformat()
            try:
                body = item() if callable(item) else item
                record = {"ts": ts, "time": _iso(ts), **self.stamp, **body}
                batches[(stream, day)].append(self._encoder.encode(record))
            except (TypeError, ValueError, ArithmeticError, msgspec.EncodeError) as exc:
                self.errors += 1
                log.warning("stream %s: record not serializable: %s", stream, exc)
                continue
            self._pending[stream].append({"day": day, **record})
        for (stream, day), lines in batches.items():
            try:
                folder = self.root / stream
                folder.mkdir(parents=True, exist_ok=True)
                with (folder / f"{day}.jsonl").open("ab") as handle:
                    handle.write(b"\n".join(lines) + b"\n")
                self.written[stream] += len(lines)
            except OSError as exc:
                self.errors += 1
                log.warning("stream %s: cannot write: %s", stream, exc)
        for stream, rows in list(self._pending.items()):
            if len(rows) >= self.parquet_every:
                self._write_parquet(stream)

    def _write_parquet(self, stream: str) -> None:
        rows = self._pending.pop(stream, [])
        if not rows:
            return
        folder = self.root / stream / "parquet"
        try:
            folder.mkdir(parents=True, exist_ok=True)
            self._parts[stream] += 1
            name = f"{rows[0]['day']}-{self._parts[stream]:05d}.parquet"
            table = pa.Table.from_pylist([_flat(r) for r in rows])
            pq.write_table(table, folder / name)
        except (OSError, pa.ArrowException) as exc:
            self.errors += 1
            log.warning("stream %s: cannot write Parquet: %s", stream, exc)


def _iso(ts: int) -> str:
    """ISO-8601 UTC with microseconds, e.g. 2026-11-25T03:45:00.000000Z."""
    return to_datetime(ts).strftime("%Y-%m-%dT%H:%M:%S.%fZ")


def _flat(record: Record) -> Record:
    """Nested values become JSON text: Parquet parts of one stream stay one flat schema."""
    return {
        key: msgspec.json.encode(value).decode() if isinstance(value, dict | list) else value
        for key, value in record.items()
    }
