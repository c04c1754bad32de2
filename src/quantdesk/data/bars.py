"""Bar files in, bars out: streamed, exact, validated.

Columns `timestamp,open,high,low,close,volume` (names case-insensitive, surrounding spaces
ignored, extra columns ignored) in CSV with a header (optionally `.gz`) or Parquet.

* Timestamps: ISO-8601 text with an offset or `Z`; naive ISO text is taken as UTC.
  Epoch numbers get their unit from their size: below 1e11 seconds, below 1e14
  milliseconds, below 1e17 microseconds, else nanoseconds; the first batch fixes the
  unit for the file. Integer epochs are exact; Parquet float epochs go through float64.
  Parquet timestamp and date columns are used as they are (naive = UTC).
* Prices and volume are exact Decimals of the file's text: CSV columns are read as
  strings, never floats ("2450.10" stays Decimal("2450.10")). Parquet decimal and integer
  columns convert exactly (a decimal column shows its declared scale); Parquet float
  columns become Decimal(repr(x)), the shortest text that round-trips the float.
* Each batch is dictionary-encoded, so each distinct raw value is converted once and
  interned: a price seen before (prices repeat on the tick grid) costs a dict lookup.
* A bad row stops the load with DataFileError naming the CSV line (the header is line 1)
  or the Parquet row (the first row is 1). Checks are vectorised per batch in float64
  (a violation smaller than ~1e-15 relative is not seen); the message quotes the exact
  values. Bars of earlier batches have already been yielded when a later batch fails.
* Memory stays flat: one batch (`batch_rows`) of columns is alive at a time.
"""

from __future__ import annotations

import csv
import gzip
from collections.abc import Iterable, Iterator, Sequence
from datetime import datetime
from decimal import Decimal, InvalidOperation
from functools import partial
from itertools import chain, islice, repeat
from operator import itemgetter
from pathlib import Path
from typing import IO, Any, cast

import numpy as np
import numpy.typing as npt
import pyarrow as pa  # type: ignore[import-untyped]
import pyarrow.compute as pc  # type: ignore[import-untyped]
import pyarrow.csv as pacsv  # type: ignore[import-untyped]
import pyarrow.parquet as pq  # type: ignore[import-untyped]

from quantdesk.domain.market import Bar
from quantdesk.domain.money import EXACT
from quantdesk.domain.time import iso_utc

COLUMNS = ("timestamp", "open", "high", "low", "close", "volume")
VALUES = COLUMNS[1:]
DEFAULT_DURATION_NS = 60 * 10**9  # a file of one bar says nothing about its spacing
_CACHE_LIMIT = 250_000  # distinct raw values kept per column type
_EPOCH_UNITS = ((1e11, 10**9), (1e14, 10**6), (1e17, 10**3))  # (below, ns per unit)
_TS_UNITS = {"s": 10**9, "ms": 10**6, "us": 10**3, "ns": 1}
_SUFFIXES = (".gz", ".csv", ".parquet", ".pq")
_ROW_GROUP = 131_072  # rows per Parquet row group written
_NEW = tuple.__new__

Int64s = npt.NDArray[np.int64]
Floats = npt.NDArray[np.float64]


class DataFileError(ValueError):
    """A bar file that cannot be trusted. `line` is the CSV line (header = 1) or the
    Parquet row (first = 1, `unit` "row"); 0 when the problem is the file as a whole."""

    def __init__(self, path: Path | str, line: int, reason: str, unit: str = "line") -> None:
        path = Path(path)
        where = f"{path.name} {unit} {line}" if line > 0 else path.name
        super().__init__(f"{where}: {reason}")
        self.path, self.line, self.reason, self.unit = path, line, reason, unit


def _is_parquet(path: Path) -> bool:
    return path.suffix.lower() in (".parquet", ".pq")


def _open(path: Path, mode: str) -> IO[Any]:
    if path.suffix.lower() == ".gz":
        return cast(IO[Any], gzip.open(path, mode, compresslevel=6))
    return path.open(mode)


def symbol_of(path: Path | str) -> str:
    """File name without its data suffixes: INFY.csv.gz -> INFY, BRK.B.parquet -> BRK.B."""
    name = Path(path).name
    while name.lower().endswith(_SUFFIXES):
        name = name[: name.rfind(".")]
    return name


class _Source:
    """One bar file: its columns (by our names), its batches, and where row i lives."""

    def __init__(self, path: Path, wanted: Sequence[str]) -> None:
        self.path = path
        self.parquet = _is_parquet(path)
        self.unit = "row" if self.parquet else "line"
        if not path.is_file():
            raise DataFileError(path, 0, "no such file")
        try:
            names = pq.ParquetFile(path).schema_arrow.names if self.parquet else self._header()
        except (pa.ArrowInvalid, OSError, UnicodeDecodeError) as exc:
            raise DataFileError(path, 0, f"unreadable: {exc}") from None
        lower = {str(n).strip().lower(): str(n) for n in names}
        missing = [c for c in wanted if c not in lower]
        if missing:
            need = ",".join(COLUMNS)
            reason = f"missing column(s) {', '.join(missing)}; need {need}"
            raise DataFileError(path, 0 if self.parquet else 1, reason)
        self.names = {c: lower[c] for c in wanted}  # ours -> the file's

    def _header(self) -> list[str]:
        with _open(self.path, "rt") as handle:
            first = handle.readline().lstrip("\ufeff")
        if not first.strip():
            raise DataFileError(self.path, 1, "empty file: a header row is required")
        return next(csv.reader([first]))

    def error(self, row: int, reason: str) -> DataFileError:
        """The error for data row `row` (0-based), located in the file."""
        return DataFileError(self.path, self.line(row), reason, self.unit)

    def line(self, row: int) -> int:
        """Parquet: row + 1. CSV: the physical line, skipping blank lines as the reader
        does (found by rereading the file: only ever on the error path)."""
        if self.parquet:
            return row + 1
        with _open(self.path, "rt") as handle:
            handle.readline()
            seen = -1
            for number, text in enumerate(handle, start=2):
                if text.strip("\r\n"):
                    seen += 1
                    if seen == row:
                        return number
        return row + 2

    def batches(
        self, batch_rows: int, types: dict[str, Any] | None = None
    ) -> Iterator[tuple[int, list[pa.Array]]]:
        """(first data row of the batch, its wanted columns in order)."""
        blocks = self._parquet_blocks(batch_rows) if self.parquet else self._csv_blocks(types)
        row = 0
        for block in blocks:
            for start in range(0, block.num_rows, batch_rows):
                part = block.slice(start, batch_rows)
                yield row, [part.column(n) for n in self.names.values()]
                row += part.num_rows

    def _parquet_blocks(self, batch_rows: int) -> Iterator[pa.RecordBatch]:
        return cast(
            Iterator[pa.RecordBatch],
            pq.ParquetFile(self.path).iter_batches(
                batch_size=batch_rows, columns=list(self.names.values())
            ),
        )

    def _csv_blocks(self, types: dict[str, Any] | None) -> Iterator[pa.RecordBatch]:
        kinds = {self.names[c]: (types or {}).get(c, pa.string()) for c in self.names}
        options = pacsv.ConvertOptions(column_types=kinds, include_columns=list(kinds))
        try:
            yield from pacsv.open_csv(
                self.path,
                read_options=pacsv.ReadOptions(block_size=1 << 22),
                convert_options=options,
            )
        except pa.ArrowInvalid as exc:
            raise self._parse_error(exc) from None

    def _parse_error(self, exc: Exception) -> DataFileError:
        with _open(self.path, "rt") as handle:
            rows = csv.reader(handle)
            width = len(next(rows))
            for number, fields in enumerate(rows, start=2):
                if fields and len(fields) != width:
                    reason = f"{len(fields)} fields where the header has {width}"
                    return DataFileError(self.path, number, reason)
        return DataFileError(self.path, 0, str(exc).splitlines()[0])


# -- reading -------------------------------------------------------------------------
def iter_bars(
    path: Path | str,
    symbol: str | None = None,
    duration_ns: int | None = None,
    batch_rows: int = 16_384,
) -> Iterator[Bar]:
    """Stream the bars of a CSV/Parquet file in file order.

    `symbol` defaults to the file name without its suffixes; `duration_ns` to the
    smallest gap between the first 1,000 timestamps (one minute for a one-bar file).
    Missing files and columns are refused here; bad rows when their batch is reached.
    """
    source = _Source(Path(path), COLUMNS)
    name = symbol or symbol_of(source.path)
    return chain.from_iterable(_bar_batches(source, name, duration_ns, batch_rows))


def _bar_batches(
    source: _Source, symbol: str, duration_ns: int | None, batch_rows: int
) -> Iterator[Iterator[Bar]]:
    """One lazy iterator of Bars per batch: all per-row work is in C (map over zip)."""
    decimals = _Decimals()
    clock = _Clock(source)
    previous: int | None = None
    duration = duration_ns
    for first, columns in source.batches(batch_rows):
        if not len(columns[0]):
            continue
        ts = clock.parse(first, columns[0])
        converted = decimals.convert(source, first, columns[1:5], VALUES[:4])
        converted += decimals.convert(source, first, columns[5:], VALUES[4:])
        values = [v for v, _ in converted]
        _validate(source, first, ts, values, [f for _, f in converted], previous)
        if duration is None:
            duration = _infer_duration(ts)
        previous = int(ts[-1])
        rows = zip(repeat(symbol), ts.tolist(), *values, repeat(duration))
        yield cast(Iterator[Bar], map(_NEW, repeat(Bar), rows))


class _Decimals:
    """Raw value -> interned exact Decimal, one bounded cache per column type (so "1.50"
    text, 1.5 float and a decimal(18,2) 1.50 never stand in for each other)."""

    def __init__(self) -> None:
        self.caches: dict[str, dict[Any, Decimal]] = {}

    def convert(
        self, source: _Source, first: int, columns: list[pa.Array], names: Sequence[str]
    ) -> list[tuple[list[Decimal], Floats]]:
        """Each column's Decimals row by row, and their float64 values for the checks.
        Columns of one type (the four prices) are converted together: one pass, one
        lookup per distinct price whichever column it appears in."""
        if len({c.type for c in columns}) > 1:
            return [
                pair
                for column, name in zip(columns, names, strict=True)
                for pair in self.convert(source, first, [column], [name])
            ]
        for column, name in zip(columns, names, strict=True):
            if column.null_count:
                row = int(np.flatnonzero(np.asarray(column.is_null()))[0])
                raise source.error(first + row, f"missing {name}")
        cache = self.caches.setdefault(str(columns[0].type), {})
        if len(cache) > _CACHE_LIMIT:
            cache.clear()
        n = len(columns[0])
        unscaled = [_unscaled(c) for c in columns]
        if unscaled[0] is not None:
            ints = np.concatenate([u[0] for u in unscaled if u is not None])
            table, rows, floats = _on_grid(cache, ints, unscaled[0][1])
        else:
            joined = pa.concat_arrays(columns) if len(columns) > 1 else columns[0]
            try:
                table, rows, floats = _encoded(cache, joined)
            except _NotANumber as bad:
                name, raw = names[bad.position // n], bad.raw
                what = f"missing {name}" if raw == "" else f"{name} is not a number: {raw!r}"
                raise source.error(first + bad.position % n, what) from None
        parts = [slice(k * n, (k + 1) * n) for k in range(len(columns))]
        return [(cast(list[Decimal], table[rows[p]].tolist()), floats[p]) for p in parts]


_Lookup = tuple[npt.NDArray[np.object_], npt.NDArray[np.intp], Floats]
"""Distinct Decimals, each row's index into them, each row's float64 value."""


class _NotANumber(Exception):
    def __init__(self, position: int, raw: Any) -> None:
        self.position, self.raw = position, raw


def _encoded(cache: dict[Any, Decimal], column: pa.Array) -> _Lookup:
    """Text, float or wide-decimal values: dictionary-encoded, each distinct one looked
    up (or parsed) once."""
    encoded = pc.dictionary_encode(column)
    indices = np.asarray(encoded.indices)
    keys = encoded.dictionary.to_pylist()
    try:
        found: list[Decimal] = list(map(cache.__getitem__, keys))
    except KeyError:
        maybe = [_intern(cache, raw) for raw in keys]
        if None in maybe:
            k = maybe.index(None)
            raise _NotANumber(int(np.flatnonzero(indices == k)[0]), keys[k]) from None
        found = cast(list[Decimal], maybe)
    distinct = np.fromiter(found, dtype=object, count=len(found))
    return distinct, indices, _floats(encoded.dictionary, found)[indices]


def _intern(cache: dict[Any, Decimal], raw: Any) -> Decimal | None:
    value = cache.get(raw)
    if value is None:
        value = _to_decimal(raw)
        if value is not None:
            cache[raw] = value
    return value


def _unscaled(column: pa.Array) -> tuple[Int64s, int] | None:
    """Integer and decimal(<=18) columns as int64 unscaled values and their scale, read
    straight from the Arrow buffer; None for other types."""
    kind = column.type
    if pa.types.is_integer(kind):
        return np.asarray(column, dtype=np.int64), 0
    if not (pa.types.is_decimal128(kind) and kind.precision <= 18):
        return None
    words = np.frombuffer(column.buffers()[1], dtype=np.int64)  # little-endian int128
    return words[2 * column.offset : 2 * (column.offset + len(column)) : 2], int(kind.scale)


def _on_grid(cache: dict[Any, Decimal], unscaled: Int64s, scale: int) -> _Lookup:
    """Integers on a tick grid span a short range: a direct-address table replaces
    hashing every row (np.unique when the range is wide)."""
    low = int(unscaled.min())
    span = int(unscaled.max()) - low + 1  # Python ints: no int64 overflow
    if span <= max(4 * len(unscaled), 1 << 16):
        rows = unscaled - low
        present = np.zeros(span, dtype=bool)
        present[rows] = True
        where = np.flatnonzero(present)
        keys = (where + low).tolist()
    else:
        distinct, rows = np.unique(unscaled, return_inverse=True)
        where, span, keys = np.arange(len(distinct)), len(distinct), distinct.tolist()
    try:
        found = list(map(cache.__getitem__, keys))
    except KeyError:  # new prices: build only those (at most 18 digits: exact)
        for k in set(keys).difference(cache):
            cache[k] = Decimal(k).scaleb(-scale, EXACT)
        found = list(map(cache.__getitem__, keys))
    table = np.empty(span, dtype=object)
    table[where] = np.fromiter(found, dtype=object, count=len(found))
    return table, rows, unscaled.astype(np.float64) / 10.0**scale


def _floats(distinct: pa.Array, exact: list[Decimal]) -> Floats:
    """float64 of the distinct values for the checks: Arrow's parse when it can."""
    try:
        return np.asarray(pc.cast(distinct, pa.float64()), dtype=np.float64)
    except (pa.ArrowInvalid, pa.ArrowNotImplementedError):  # text Decimal reads, Arrow not
        return np.array([float(v) for v in exact], dtype=np.float64)


def _to_decimal(raw: Any) -> Decimal | None:
    try:
        if isinstance(raw, float):
            value = Decimal(repr(raw))
        elif isinstance(raw, str | int | Decimal) and not isinstance(raw, bool):
            value = Decimal(raw)
        else:
            return None
    except (InvalidOperation, ValueError):
        return None
    return value if value.is_finite() else None


def _validate(
    source: _Source,
    first: int,
    ts: Int64s,
    values: list[list[Decimal]],
    floats: list[Floats],
    previous: int | None,
) -> None:
    """All checks of a batch in one vectorised pass; the first bad row is explained."""
    o, h, low, c, v = floats
    ok = np.empty(ts.size, dtype=bool)
    ok[0] = previous is None or ts[0] > previous
    np.greater(ts[1:], ts[:-1], out=ok[1:])
    ok &= (o > 0) & (h > 0) & (low > 0) & (c > 0) & (v >= 0)
    ok &= (h >= o) & (h >= c) & (h >= low) & (low <= o) & (low <= c)
    if ok.all():
        return
    i = int(np.argmin(ok))
    before = int(ts[i - 1]) if i else previous
    raise source.error(first + i, _problem(int(ts[i]), before, [col[i] for col in values]))


def _problem(ts: int, before: int | None, row: list[Decimal]) -> str:
    if before is not None and ts <= before:
        what = "duplicate timestamp" if ts == before else "timestamp out of order:"
        return f"{what} {iso_utc(ts)} (previous row {iso_utc(before)})"
    o, h, low, c, v = row
    for name, price in zip(VALUES[:4], row[:4], strict=True):
        if price <= 0:
            return f"{name} {price} is not positive"
    if v < 0:
        return f"volume {v} is negative"
    for name, price in (("open", o), ("close", c), ("low", low)):
        if h < price:
            return f"high {h} below {name} {price}"
    for name, price in (("open", o), ("close", c)):
        if low > price:
            return f"low {low} above {name} {price}"
    return "prices too small for float64 checks"


def _infer_duration(ts: Int64s) -> int:
    diffs = np.diff(ts[:1000])
    positive = diffs[diffs > 0]
    return int(positive.min()) if positive.size else DEFAULT_DURATION_NS


class _Clock:
    """Timestamp columns of any supported form -> int64 epoch nanoseconds."""

    def __init__(self, source: _Source) -> None:
        self.source = source
        self.scale: int | None = None  # ns per epoch unit, fixed by the first batch

    def parse(self, first: int, column: pa.Array) -> Int64s:
        kind = column.type
        if column.null_count:
            row = int(np.flatnonzero(np.asarray(column.is_null()))[0])
            raise self.source.error(first + row, "missing timestamp")
        if pa.types.is_timestamp(kind):
            return np.asarray(column.cast(pa.int64()), dtype=np.int64) * _TS_UNITS[kind.unit]
        if pa.types.is_date(kind):
            return np.asarray(column.cast(pa.timestamp("ns")).cast(pa.int64()), dtype=np.int64)
        if pa.types.is_integer(kind):
            numbers = np.asarray(column, dtype=np.int64)
            return numbers * self._scale(first, numbers)
        if pa.types.is_floating(kind):
            floats = np.asarray(column, dtype=np.float64)
            return np.round(floats * self._scale(first, floats)).astype(np.int64)
        if pa.types.is_string(kind) or pa.types.is_large_string(kind):
            return self._text(first, column)
        raise DataFileError(self.source.path, 0, f"timestamp column of type {kind} not understood")

    def _scale(self, first: int, numbers: npt.NDArray[Any]) -> int:
        biggest = float(np.max(np.abs(numbers)))
        scale = next((s for below, s in _EPOCH_UNITS if biggest < below), 1)
        if self.scale is None:
            self.scale = scale
        elif scale != self.scale:
            raise self.source.error(first, "epoch timestamps change unit within the file")
        return scale

    def _text(self, first: int, column: pa.Array) -> Int64s:
        parsed = self._parse_text(first, column)
        if parsed is None:  # perhaps padded: " 2026-01-05 09:15:00"
            column = pc.utf8_trim_whitespace(column)
            parsed = self._parse_text(first, column)
        if parsed is None:
            raise self._bad_text(first, column.to_pylist())
        return parsed

    def _parse_text(self, first: int, column: pa.Array) -> Int64s | None:
        """Epoch numbers when the first value is one (a failed cast costs as much as a
        good one), else ISO-8601; None when Arrow cannot read the column."""
        if _text_kind(column[0].as_py()) == "an epoch number":
            try:
                numbers = np.asarray(pc.cast(column, pa.int64()), dtype=np.int64)
                return numbers * self._scale(first, numbers)
            except pa.ArrowInvalid:
                return self._fractional(first, column)
        for target in (pa.timestamp("ns", tz="UTC"), pa.timestamp("ns")):  # naive ISO = UTC
            try:
                return np.asarray(pc.cast(column, target).cast(pa.int64()), dtype=np.int64)
            except (pa.ArrowInvalid, pa.ArrowNotImplementedError):
                pass
        return None

    def _fractional(self, first: int, column: pa.Array) -> Int64s | None:
        """Epoch numbers with decimals: exact through Decimal (rare enough to loop)."""
        try:
            floats = np.asarray(pc.cast(column, pa.float64()), dtype=np.float64)
        except pa.ArrowInvalid:
            return None
        scale = Decimal(self._scale(first, floats))
        exact = [int(EXACT.multiply(Decimal(t), scale)) for t in column.to_pylist()]
        return np.asarray(exact, dtype=np.int64)

    def _bad_text(self, first: int, texts: list[str]) -> DataFileError:
        kinds = [_text_kind(t) for t in texts]
        for i, kind in enumerate(kinds):
            if kind is None:
                what = f"unparseable timestamp {texts[i]!r}" if texts[i] else "missing timestamp"
                return self.source.error(first + i, what)
            if kind != kinds[0]:
                return self.source.error(
                    first + i, f"timestamp {texts[i]!r} is {kind}, earlier ones {kinds[0]}"
                )
        return self.source.error(first, "timestamps not understood")


def _text_kind(text: str) -> str | None:
    try:
        if Decimal(text).is_finite():
            return "an epoch number"
    except InvalidOperation:
        pass
    try:
        moment = datetime.fromisoformat(text.replace("Z", "+00:00"))
    except ValueError:
        return None
    return "naive ISO" if moment.tzinfo is None else "ISO with an offset"


# -- quick looks: counts, gaps, close series -------------------------------------------
def count_rows(path: Path | str) -> int:
    """Data rows, cheaply: Parquet metadata, or newlines of a CSV (for progress bars)."""
    path = Path(path)
    if _is_parquet(path):
        return int(pq.ParquetFile(path).metadata.num_rows)
    newlines, last = 0, b"\n"
    with _open(path, "rb") as handle:
        for chunk in iter(partial(handle.read, 1 << 20), b""):
            newlines += chunk.count(b"\n")
            last = chunk[-1:]
    return max(newlines + (last != b"\n") - 1, 0)


def read_timestamps(path: Path | str) -> Int64s:
    """Bar open times (epoch ns) of a file, reading only its timestamp column."""
    source = _Source(Path(path), ("timestamp",))
    clock = _Clock(source)
    parts = [clock.parse(first, cols[0]) for first, cols in source.batches(1 << 20) if len(cols[0])]
    return np.concatenate(parts) if parts else np.empty(0, dtype=np.int64)


def read_close_series(path: Path | str) -> tuple[Int64s, Floats]:
    """Bar open times (ns) and closes (float64, statistics only), reading two columns and
    building no bars. Not validated: the loader checks the same file when it is run."""
    source = _Source(Path(path), ("timestamp", "close"))
    clock = _Clock(source)
    ts_parts, close_parts = [], []
    for first, (ts, close) in source.batches(1 << 20, {"close": pa.float64()}):
        if len(ts):
            ts_parts.append(clock.parse(first, ts))
            close_parts.append(np.asarray(pc.cast(close, pa.float64()), dtype=np.float64))
    if not ts_parts:
        return np.empty(0, dtype=np.int64), np.empty(0, dtype=np.float64)
    return np.concatenate(ts_parts), np.concatenate(close_parts)


def find_gaps(
    source: Path | str | Sequence[int] | Int64s, duration_ns: int
) -> list[tuple[int, int]]:
    """(open time of the first missing bar, bars missing) wherever consecutive timestamps
    are more than one duration apart. No calendar here: nights, weekends and holidays
    of a sessioned market show up as gaps too (data.quality filters them)."""
    if isinstance(source, str | Path):
        ts = read_timestamps(source)
    else:
        ts = np.asarray(source, dtype=np.int64)
    diffs = np.diff(ts)
    where = np.flatnonzero(diffs > duration_ns)
    return [(int(ts[i]) + duration_ns, -(-int(diffs[i]) // duration_ns) - 1) for i in where]


# -- writing -------------------------------------------------------------------------
def write_bars(path: Path | str, bars: Iterable[Bar]) -> int:
    """Write bars as CSV (ISO UTC times, each Decimal's exact text; `.gz` compresses) or
    Parquet (timestamp[ns, UTC] and decimal columns), chosen by suffix. Returns the count."""
    path = Path(path)
    ts, values = _columns(bars)
    if _is_parquet(path):
        stamps = pa.array(ts, pa.int64()).cast(pa.timestamp("ns", tz="UTC"))
        columns = {n: _decimal_array(col) for n, col in zip(VALUES, values, strict=True)}
        # decimals of up to 18 digits stored as integers: exact and fast to read back;
        # modest row groups, because a reader decodes a whole row group at a time
        table = pa.table({"timestamp": stamps, **columns})
        pq.write_table(table, path, row_group_size=_ROW_GROUP, store_decimal_as_integer=True)
    else:
        _write_csv(path, ts, values)
    return len(ts)


def _columns(bars: Iterable[Bar]) -> tuple[list[int], list[list[Decimal]]]:
    """Column lists built a chunk at a time, so no list of all the bars ever exists."""
    ts: list[int] = []
    values: list[list[Decimal]] = [[] for _ in VALUES]
    fields = [itemgetter(k) for k in range(1, 2 + len(VALUES))]
    stream = iter(bars)
    while chunk := list(islice(stream, 65_536)):
        ts.extend(map(fields[0], chunk))
        for column, field in zip(values, fields[1:], strict=True):
            column.extend(map(field, chunk))
    return ts, values


def _decimal_array(values: list[Decimal]) -> pa.Array:
    distinct = set(values)
    exponents = [int(v.as_tuple().exponent) for v in distinct]
    scale = max(0, *(-e for e in exponents)) if exponents else 0
    digits = max((max(v.adjusted() + 1, 1) for v in distinct), default=1) + scale
    if digits > 18:
        return pa.array(values, pa.decimal128(38, scale))
    unscaled = {v: int(v.scaleb(scale, EXACT)) for v in distinct}
    low = np.fromiter(map(unscaled.__getitem__, values), dtype=np.int64, count=len(values))
    words = np.empty((len(values), 2), dtype=np.int64)  # little-endian int128
    words[:, 0], words[:, 1] = low, low >> 63
    return pa.Array.from_buffers(pa.decimal128(18, scale), len(values), [None, pa.py_buffer(words)])


def _write_csv(path: Path, ts: list[int], values: list[list[Decimal]]) -> None:
    columns = {"timestamp": _iso_column(ts)}
    for name, column in zip(VALUES, values, strict=True):
        text = list(map(str, column))
        if any("E" in t for t in set(text)):  # str() may use exponents; the file must not
            text = [format(v, "f") for v in column]
        columns[name] = pa.array(text, pa.string())
    options = pacsv.WriteOptions(include_header=False, quoting_style="none")
    with _open(path, "wb") as handle:
        handle.write((",".join(COLUMNS) + "\n").encode())
        pacsv.write_csv(pa.table(columns), handle, options)


def _iso_column(ts: list[int]) -> pa.Array:
    """2026-01-05T04:05:00Z, with nanoseconds only when some bar needs them. (Arrow's
    naive cast is ~10x faster than strftime or a zoned cast; the values are UTC.)"""
    stamps = pa.array(ts, pa.int64()).cast(pa.timestamp("ns"))
    if bool(np.all(np.asarray(ts, dtype=np.int64) % 10**9 == 0)):
        stamps = stamps.cast(pa.timestamp("s"))
    text = pc.replace_substring(stamps.cast(pa.string()), " ", "T", max_replacements=1)
    return pc.binary_join_element_wise(text, "Z", "")
