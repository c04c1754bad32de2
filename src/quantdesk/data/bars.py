"""Bar files in, bars out: streamed, exact, validated.

Accepts CSV (optionally gzipped) with a header and Parquet, with the columns
`timestamp,open,high,low,close,volume` (case-insensitive; extra columns ignored).
Timestamps are ISO-8601 (an offset or Z; naive times are UTC) or epoch numbers whose
unit follows from their size (< 1e11 s, < 1e14 ms, < 1e17 us, else ns). Prices become
exact Decimals of the file's text (Parquet floats via their shortest repr), interned
so a price seen before costs a dict lookup. Batches are validated with vectorised
checks; a bad row stops the load with its line number and the reason.
"""

from __future__ import annotations

import gzip
from collections.abc import Iterable, Iterator
from decimal import Decimal, InvalidOperation
from pathlib import Path
from typing import Any

import numpy as np
import pyarrow as pa
import pyarrow.compute as pc
import pyarrow.csv as pacsv
import pyarrow.parquet as pq

from quantdesk.domain.market import Bar

COLUMNS = ("timestamp", "open", "high", "low", "close", "volume")
PRICES = COLUMNS[1:5]
_CACHE_LIMIT = 500_000


class DataFileError(ValueError):
    def __init__(self, path: Path, line: int, reason: str, unit: str = "line") -> None:
        super().__init__(f"{path.name} {unit} {line}: {reason}")
        self.path, self.line, self.reason = path, line, reason


def _is_parquet(path: Path) -> bool:
    return path.suffix.lower() in (".parquet", ".pq")


def iter_bars(
    path: Path | str,
    symbol: str | None = None,
    duration_ns: int | None = None,
    batch_rows: int = 65_536,
) -> Iterator[Bar]:
    path = Path(path)
    if not path.exists():
        raise DataFileError(path, 0, "file does not exist")
    name = symbol or path.name.split(".")[0]
    batches = (
        _parquet_batches(path, batch_rows) if _is_parquet(path) else _csv_batches(path, batch_rows)
    )
    return _bars(path, name, batches, duration_ns)


def _bars(
    path: Path, symbol: str, batches: Iterable[tuple[int, dict[str, Any]]], duration_ns: int | None
) -> Iterator[Bar]:
    cache: dict[Any, Decimal] = {}
    new = tuple.__new__
    previous: int | None = None
    duration = duration_ns
    unit = "row" if _is_parquet(path) else "line"
    for first_line, columns in batches:
        ts = columns["timestamp"]
        _validate(path, first_line, ts, columns, previous, unit)
        if duration is None:
            duration = _infer_duration(ts, previous)
        values = [_decimals(path, first_line, columns[c], cache, unit) for c in COLUMNS[1:]]
        for t, o, h, low, c, v in zip(ts.tolist(), *values, strict=True):
            yield new(Bar, (symbol, t, o, h, low, c, v, duration))
        previous = int(ts[-1])
        if len(cache) > _CACHE_LIMIT:
            cache.clear()


def _decimals(
    path: Path, first_line: int, column: pa.Array, cache: dict[Any, Decimal], unit: str
) -> list[Decimal]:
    """Exact Decimals of a column. Each distinct value is parsed once (dictionary
    encoding) and rows are filled by a numpy take, not a Python loop per value."""
    keys, scale = _keys(column)
    if isinstance(keys, np.ndarray):
        values, indices = np.unique(keys, return_inverse=True)
        uniques = values.tolist()
    else:
        encoded = pc.dictionary_encode(keys)
        indices = np.asarray(encoded.indices.fill_null(-1))
        if (indices < 0).any():
            line = first_line + int(np.flatnonzero(indices < 0)[0])
            raise DataFileError(path, line, "missing value", unit)
        uniques = encoded.dictionary.to_pylist()
    parsed = np.empty(len(uniques), dtype=object)
    for k, key in enumerate(uniques):
        value = cache.get((key, scale))
        if value is None:
            try:
                value = cache[(key, scale)] = _to_decimal(path, 0, key, unit, scale)
            except DataFileError as exc:  # only now find the row, for the message
                line = first_line + int(np.flatnonzero(indices == k)[0])
                raise DataFileError(path, line, exc.reason, unit) from None
        parsed[k] = value
    result: list[Decimal] = parsed[indices].tolist()
    return result


def _keys(column: pa.Array) -> tuple[pa.Array | np.ndarray, int | None]:
    """Cheap hashable keys: unscaled integers for decimal columns (read straight from the
    Arrow buffer), the values themselves for ints, floats and text."""
    if pa.types.is_decimal(column.type) and column.null_count == 0:
        words = np.frombuffer(column.buffers()[1], dtype=np.int64)
        words = words[2 * column.offset : 2 * (column.offset + len(column))].reshape(-1, 2)
        low, high = words[:, 0], words[:, 1]
        if np.array_equal(high, np.where(low < 0, -1, 0)):  # fits in 64 bits
            return low, column.type.scale
        return pc.cast(column, pa.string()), None
    return column, None


def _to_decimal(path: Path, line: int, value: Any, unit: str, scale: int | None = None) -> Decimal:
    try:
        if scale is not None:
            return Decimal(value).scaleb(-scale)
        if isinstance(value, float):
            return Decimal(repr(value))
        if value is None or value == "":
            raise InvalidOperation
        return value if isinstance(value, Decimal) else Decimal(value)
    except (InvalidOperation, ValueError):
        raise DataFileError(path, line, f"not a number: {value!r}", unit) from None


def _infer_duration(ts: np.ndarray, previous: int | None) -> int:
    diffs = np.diff(ts[:1000])
    positive = diffs[diffs > 0]
    if positive.size:
        return int(positive.min())
    return 60_000_000_000  # a single bar: assume one minute


def _validate(
    path: Path,
    first_line: int,
    ts: np.ndarray,
    columns: dict[str, Any],
    previous: int | None,
    unit: str,
) -> None:
    """Vectorised checks on the Arrow columns; raises at the first bad row of the batch."""
    floats = {}
    for name in COLUMNS[1:]:
        try:
            floats[name] = np.asarray(pc.cast(columns[name], pa.float64()))
        except (pa.ArrowInvalid, pa.ArrowTypeError, pa.ArrowNotImplementedError):
            _first_bad_number(path, first_line, columns[name].to_pylist(), unit)
    order = np.empty(len(ts), dtype=bool)
    order[0] = previous is None or ts[0] > previous
    order[1:] = ts[1:] > ts[:-1]
    o, h, low, c, v = (floats[n] for n in COLUMNS[1:])
    checks: list[tuple[np.ndarray, str]] = [
        (order, "timestamp not after the previous row"),
        (np.minimum.reduce([o, h, low, c]) > 0, "prices must be positive"),
        (v >= 0, "volume must not be negative"),
        (h >= np.maximum.reduce([o, c, low]), "high below open, close or low"),
        (low <= np.minimum(o, c), "low above open or close"),
    ]
    for ok, reason in checks:
        bad = np.flatnonzero(~ok)
        if bad.size:
            i = int(bad[0])
            row = {n: columns[n][i].as_py() for n in COLUMNS[1:]}
            raise DataFileError(path, first_line + i, f"{reason} ({_describe(row)})", unit)


def _first_bad_number(path: Path, first_line: int, values: list[Any], unit: str) -> None:
    for i, value in enumerate(values):
        _to_decimal(path, first_line + i, value, unit)
    raise DataFileError(path, first_line, "unreadable numbers", unit)


def _describe(row: dict[str, Any]) -> str:
    return ", ".join(f"{k}={v}" for k, v in row.items())


# -- CSV ---------------------------------------------------------------------------
def _csv_header(path: Path) -> list[str]:
    opener = gzip.open if path.suffix == ".gz" else open
    with opener(path, "rt", encoding="utf-8") as handle:  # type: ignore[operator]
        header = handle.readline()
    if not header.strip():
        raise DataFileError(path, 1, "empty file: a header row is required")
    return [h.strip().strip('"') for h in header.strip().split(",")]


def _column_map(path: Path, names: list[str], line: int = 1) -> dict[str, str]:
    lower = {n.lower(): n for n in names}
    missing = [c for c in COLUMNS if c not in lower]
    if missing:
        raise DataFileError(
            path,
            line,
            f"missing column(s) {', '.join(missing)}; need {','.join(COLUMNS)}",
            "line" if line else "header",
        )
    return {c: lower[c] for c in COLUMNS}


def _csv_batches(path: Path, batch_rows: int) -> Iterator[tuple[int, dict[str, Any]]]:
    names = _column_map(path, _csv_header(path))
    reader = pacsv.open_csv(
        path,
        read_options=pacsv.ReadOptions(block_size=1 << 22),
        convert_options=pacsv.ConvertOptions(
            column_types={n: pa.string() for n in names.values()},
            include_columns=list(names.values()),
        ),
    )
    line = 2
    for batch in reader:
        for start in range(0, batch.num_rows, batch_rows):
            part = batch.slice(start, batch_rows)
            columns = {c: part.column(names[c]) for c in COLUMNS}
            ts = _timestamps(path, line, columns["timestamp"], "line")
            out: dict[str, Any] = {c: columns[c] for c in COLUMNS[1:]}
            out["timestamp"] = ts
            yield line, out
            line += part.num_rows


def _timestamps(path: Path, line: int, column: pa.Array, unit: str) -> np.ndarray:
    text = column.to_pylist()
    if not text:
        return np.empty(0, dtype=np.int64)
    first = str(text[0])
    if first.replace(".", "", 1).isdigit():
        try:
            numbers = np.asarray(pc.cast(column, pa.float64()))
        except pa.ArrowInvalid:
            raise _bad_timestamp(path, line, text, unit) from None
        return _epoch_to_ns(numbers)
    try:
        parsed = pc.cast(column, pa.timestamp("ns", tz="UTC"))
    except (pa.ArrowInvalid, pa.ArrowNotImplementedError):
        try:
            parsed = pc.cast(column, pa.timestamp("ns"))  # naive ISO: UTC
        except (pa.ArrowInvalid, pa.ArrowNotImplementedError):
            raise _bad_timestamp(path, line, text, unit) from None
    return np.asarray(parsed.cast(pa.int64()))


def _bad_timestamp(path: Path, line: int, text: list[Any], unit: str) -> DataFileError:
    from datetime import datetime

    for i, value in enumerate(text):
        try:
            if not str(value).replace(".", "", 1).isdigit():
                datetime.fromisoformat(str(value).replace("Z", "+00:00"))
        except ValueError:
            return DataFileError(path, line + i, f"unparseable timestamp {value!r}", unit)
    return DataFileError(path, line, "mixed or unparseable timestamps", unit)


def _epoch_to_ns(numbers: np.ndarray) -> np.ndarray:
    biggest = float(np.max(np.abs(numbers))) if numbers.size else 0.0
    scale = 10**9 if biggest < 1e11 else 10**6 if biggest < 1e14 else 10**3 if biggest < 1e17 else 1
    if scale == 1:
        return numbers.astype(np.int64)
    return np.round(numbers * scale).astype(np.int64)


# -- Parquet -----------------------------------------------------------------------
def _parquet_batches(path: Path, batch_rows: int) -> Iterator[tuple[int, dict[str, Any]]]:
    handle = pq.ParquetFile(path)
    names = _column_map(path, handle.schema_arrow.names, 0)
    row = 1
    for batch in handle.iter_batches(batch_size=batch_rows, columns=list(names.values())):
        columns = {c: batch.column(names[c]) for c in COLUMNS}
        ts_col = columns["timestamp"]
        if pa.types.is_timestamp(ts_col.type):
            ts = np.asarray(ts_col.cast(pa.timestamp("ns", tz="UTC")).cast(pa.int64()))
        elif pa.types.is_integer(ts_col.type) or pa.types.is_floating(ts_col.type):
            ts = _epoch_to_ns(np.asarray(ts_col))
        else:
            ts = _timestamps(path, row, ts_col, "row")
        out: dict[str, Any] = {c: columns[c] for c in COLUMNS[1:]}
        out["timestamp"] = ts
        yield row, out
        row += batch.num_rows


def count_rows(path: Path | str) -> int:
    path = Path(path)
    if _is_parquet(path):
        return int(pq.ParquetFile(path).metadata.num_rows)
    opener = gzip.open if path.suffix == ".gz" else open
    with opener(path, "rb") as handle:  # type: ignore[operator]
        lines = sum(chunk.count(b"\n") for chunk in iter(lambda: handle.read(1 << 20), b""))
    return max(lines - 1, 0)


def find_gaps(path: Path | str, duration_ns: int) -> list[tuple[int, int]]:
    """(first missing bar's ts, number missing) wherever consecutive bars are further
    apart than one duration. Without a calendar, nights and weekends count as gaps."""
    ts = np.concatenate([b["timestamp"] for _, b in _ts_batches(Path(path))] or [np.empty(0)])
    if ts.size < 2:
        return []
    diffs = np.diff(ts)
    where = np.flatnonzero(diffs > duration_ns)
    return [(int(ts[i]) + duration_ns, int(diffs[i] // duration_ns) - 1) for i in where]


def read_close_series(path: Path | str) -> tuple[np.ndarray, np.ndarray]:
    """Open times (ns) and closes (float64, statistics only) without building bars."""
    ts_parts, close_parts = [], []
    for _, batch in _ts_batches(Path(path)):
        ts_parts.append(batch["timestamp"])
        close_parts.append(np.asarray(pc.cast(batch["close"], pa.float64())))
    if not ts_parts:
        return np.empty(0, dtype=np.int64), np.empty(0)
    return np.concatenate(ts_parts), np.concatenate(close_parts)


def _ts_batches(path: Path) -> Iterator[tuple[int, dict[str, Any]]]:
    return _parquet_batches(path, 1 << 20) if _is_parquet(path) else _csv_batches(path, 1 << 20)


def write_bars(path: Path | str, bars: Iterable[Bar]) -> int:
    """CSV (ISO UTC times, exact decimal text) or Parquet (decimal columns), by suffix."""
    path = Path(path)
    rows = list(bars)
    ts = pa.array([b.ts for b in rows], pa.int64()).cast(pa.timestamp("ns", tz="UTC"))
    table = {"timestamp": ts}
    for index, name in enumerate(COLUMNS[1:], start=2):
        values = [b[index] for b in rows]
        table[name] = (
            _decimal_array(values)
            if _is_parquet(path)
            else pa.array([format(v, "f") for v in values], pa.string())
        )
    data = pa.table(table)
    if _is_parquet(path):  # 18-digit decimals stored as integers: exact and fast to read
        pq.write_table(data, path, store_decimal_as_integer=True)
        return len(rows)
    whole_seconds = all(b.ts % 1_000_000_000 == 0 for b in rows)
    shown = ts.cast(pa.timestamp("s", tz="UTC")) if whole_seconds else ts
    iso = pc.strftime(shown, format="%Y-%m-%dT%H:%M:%SZ")
    data = data.set_column(0, "timestamp", iso)
    options = pacsv.WriteOptions(include_header=False, quoting_style="none")
    opener = gzip.open if path.suffix == ".gz" else open
    with opener(path, "wb") as handle:  # type: ignore[operator]
        handle.write((",".join(COLUMNS) + "\n").encode())
        pacsv.write_csv(data, handle, options)
    return len(rows)


def _decimal_array(values: list[Decimal]) -> pa.Array:
    scale = max((max(0, -int(v.as_tuple().exponent)) for v in values), default=0)
    digits = max(
        (len(v.as_tuple().digits) - int(v.as_tuple().exponent) - scale for v in values), default=1
    )
    precision = 18 if digits + scale <= 18 else 38
    return pa.array(values, pa.decimal128(precision, scale))
