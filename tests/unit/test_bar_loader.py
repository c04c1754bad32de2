"""Bar files: exact values, every timestamp form, refusals with line numbers."""

from __future__ import annotations

import gzip
from decimal import Decimal

import numpy as np
import pyarrow as pa
import pyarrow.parquet as pq
import pytest

from quantdesk.data.bars import (
    DataFileError,
    count_rows,
    find_gaps,
    iter_bars,
    read_close_series,
    symbol_of,
    write_bars,
)
from quantdesk.data.synth import synth_bars
from quantdesk.domain.market import Bar

HEADER = "timestamp,open,high,low,close,volume\n"
T = 1_767_585_900  # 2026-01-05T04:05:00Z
NS = 10**9
D = Decimal


def write(tmp_path, body: str, name: str = "INFY.csv"):
    path = tmp_path / name
    path.write_text(HEADER + body)
    return path


def rows(*stamps: object) -> str:
    return "".join(f"{s},1,1,1,1,1\n" for s in stamps)


def test_exact_decimal_text_and_symbol_from_the_file_name(tmp_path) -> None:
    path = write(tmp_path, "2026-01-05T04:05:00Z,2450.05,2451.10,2449.95,2450.10,1200\n")
    [bar] = iter_bars(path)
    assert bar.symbol == "INFY" and bar.ts == T * NS
    assert (bar.open, bar.high, bar.low, bar.close) == (
        D("2450.05"),
        D("2451.10"),
        D("2449.95"),
        D("2450.10"),
    )
    assert [str(p) for p in bar[2:7]] == ["2450.05", "2451.10", "2449.95", "2450.10", "1200"]


def test_symbol_is_the_name_without_data_suffixes() -> None:
    assert symbol_of("data/INFY.csv.gz") == "INFY"
    assert symbol_of("BRK.B.parquet") == "BRK.B"
    assert symbol_of("NIFTY.CSV") == "NIFTY"


@pytest.mark.parametrize(
    "stamp",
    [
        "2026-01-05T04:05:00Z",
        "2026-01-05T09:35:00+05:30",
        "2026-01-05 04:05:00",  # naive = UTC
        "2026-01-05T04:05:00.000Z",
        " 2026-01-05T04:05:00Z ",
        str(T),
        str(T * 1000),
        str(T * 1_000_000),
        str(T * NS),
    ],
)
def test_timestamp_forms_agree(tmp_path, stamp) -> None:
    path = write(tmp_path, f"{stamp},1,1,1,1,1\n")
    assert next(iter_bars(path)).ts == T * NS


def test_epoch_nanoseconds_and_fractions_stay_exact(tmp_path) -> None:
    exact = T * NS + 123_456_789
    assert next(iter_bars(write(tmp_path, rows(exact)))).ts == exact
    assert next(iter_bars(write(tmp_path, rows(f"{T}.123456789")))).ts == exact
    assert next(iter_bars(write(tmp_path, rows("2026-01-05T04:05:00.123456789Z")))).ts == exact


@pytest.mark.parametrize(
    "column",
    [
        pa.array([T * 1000], pa.timestamp("ms", tz="Asia/Kolkata")),
        pa.array([T], pa.timestamp("s")),
        pa.array([T * NS], pa.int64()),
        pa.array([T * 1000], pa.int64()),
        pa.array([float(T)], pa.float64()),
        pa.array(["2026-01-05T09:35:00+05:30"]),
    ],
)
def test_parquet_timestamp_columns(tmp_path, column) -> None:
    path = tmp_path / "p.parquet"
    one = pa.array([D(1)], pa.decimal128(9, 2))
    pq.write_table(
        pa.table({"timestamp": column, **{c: one for c in HEADER[10:].split(",")}}), path
    )
    assert next(iter_bars(path)).ts == T * NS


def test_extra_columns_and_case_are_ignored(tmp_path) -> None:
    path = tmp_path / "k.csv"
    path.write_text(
        "Open Time,x,TIMESTAMP, Open,High,Low,Close,Volume,trades\n"
        f"0,z,{T * 1000},10,11,9,10.5,3,7\n"
    )
    bar = next(iter_bars(path))
    assert (bar.ts, bar.open, bar.close, bar.volume) == (T * NS, D(10), D("10.5"), D(3))


@pytest.mark.parametrize(
    ("body", "line", "reason"),
    [
        (rows(T, T), 3, "duplicate timestamp 2026-01-05T04:05:00Z"),
        (rows(T + 60, T), 3, "timestamp out of order: 2026-01-05T04:05:00Z"),
        (f"{T},10,9,8,10,1\n", 2, "high 9 below open 10"),
        (f"{T},101,101.5,100,102.0,1\n", 2, "high 101.5 below close 102.0"),
        (f"{T},10,10,10.5,10,1\n", 2, "high 10 below low 10.5"),
        (f"{T},10,11,10.5,11,1\n", 2, "low 10.5 above open 10"),
        (f"{T},11,12,10.5,10.2,1\n", 2, "low 10.5 above close 10.2"),
        (f"{T},0,1,0,1,1\n", 2, "open 0 is not positive"),
        (f"{T},1,1,-1,1,1\n", 2, "low -1 is not positive"),
        (f"{T},1,1,1,1,-5\n", 2, "volume -5 is negative"),
        (rows(T) + f"{T + 60},abc,1,1,1,1\n", 3, "open is not a number: 'abc'"),
        (rows(T) + f"{T + 60},1,1,1,NaN,1\n", 3, "close is not a number: 'NaN'"),
        (rows(T) + f"{T + 60},1,1,1,,1\n", 3, "missing close"),
        (rows(T, "yesterday"), 3, "unparseable timestamp 'yesterday'"),
        (rows(T) + f"{T + 60},1,1,1\n", 3, "4 fields where the header has 6"),
        (rows(T, "\n" + str(T + 60), T + 60), 5, "duplicate timestamp"),  # blank line 3
        (rows("2026-01-05T04:05:00Z", "2026-01-05 04:06:00"), 3, "is naive ISO, earlier ones"),
    ],
)
def test_malformed_rows_are_refused_with_their_line(tmp_path, body, line, reason) -> None:
    path = write(tmp_path, body, name="bars.csv")
    with pytest.raises(DataFileError) as caught:
        list(iter_bars(path))
    assert caught.value.line == line, str(caught.value)
    assert str(caught.value).startswith(f"bars.csv line {line}: ")
    assert reason in str(caught.value)
    assert isinstance(caught.value, ValueError)


def test_errors_in_later_batches_keep_their_line_and_earlier_bars_stream(tmp_path) -> None:
    path = write(tmp_path, rows(*(T + 60 * i for i in range(7))) + rows(T))
    bars = iter_bars(path, batch_rows=3)
    assert [next(bars).ts for _ in range(6)] == [(T + 60 * i) * NS for i in range(6)]
    with pytest.raises(DataFileError, match="line 9: timestamp out of order"):
        list(bars)


def test_parquet_errors_name_the_row(tmp_path) -> None:
    path = tmp_path / "p.parquet"
    table = pa.table(
        {
            "timestamp": pa.array([T, T + 60, T + 30], pa.int64()),
            **{c: pa.array([1.0, 1.0, 1.0]) for c in ("open", "high", "low", "close")},
            "volume": pa.array([1, None, 1], pa.int64()),
        }
    )
    pq.write_table(table, path)
    with pytest.raises(DataFileError, match=r"^p.parquet row 2: missing volume$"):
        list(iter_bars(path))
    pq.write_table(table.set_column(5, "volume", pa.array([1, 2, 3])), path)
    with pytest.raises(DataFileError, match=r"^p.parquet row 3: timestamp out of order"):
        list(iter_bars(path))


def test_epoch_unit_must_not_change_within_a_file(tmp_path) -> None:
    path = write(tmp_path, rows(T, T + 60, (T + 120) * 1000))
    with pytest.raises(DataFileError, match="line 4: epoch timestamps change unit"):
        list(iter_bars(path, batch_rows=2))


def test_missing_columns_file_and_header_are_named(tmp_path) -> None:
    path = tmp_path / "bad.csv"
    path.write_text("timestamp,open,close\n1,1,1\n")
    with pytest.raises(DataFileError, match=r"bad.csv line 1: missing column.*high, low, volume"):
        iter_bars(path)  # refused before iteration starts
    parquet = tmp_path / "bad.parquet"
    pq.write_table(pa.table({"timestamp": [T], "close": [1.0]}), parquet)
    with pytest.raises(DataFileError, match=r"^bad.parquet: missing column"):
        iter_bars(parquet)
    with pytest.raises(DataFileError, match="no such file"):
        iter_bars(tmp_path / "nope.csv")
    empty = tmp_path / "e.csv.gz"
    with gzip.open(empty, "wt") as handle:
        handle.write("")
    with pytest.raises(DataFileError, match="header"):
        iter_bars(empty)


def test_header_only_file_has_no_bars(tmp_path) -> None:
    assert list(iter_bars(write(tmp_path, ""))) == []


def test_csv_gzip_and_parquet_give_identical_bars(tmp_path) -> None:
    bars = list(synth_bars(n=500, seed=3))
    for name in ("b.csv", "b.csv.gz", "b.parquet"):
        assert write_bars(tmp_path / name, iter(bars)) == 500
        assert list(iter_bars(tmp_path / name, symbol="SYNTH")) == bars, name
        assert count_rows(tmp_path / name) == 500


def test_written_csv_keeps_the_exact_text(tmp_path) -> None:
    bar = Bar("X", T * NS + 5, D("2450.10"), D("2451"), D("1E+3"), D("2450.10"), D("0.5"))
    path = tmp_path / "x.csv"
    write_bars(path, [bar])
    assert path.read_text().splitlines() == [
        HEADER.strip(),
        "2026-01-05T04:05:00.000000005Z,2450.10,2451,1000,2450.10,0.5",
    ]
    [back] = iter_bars(path, symbol="X")
    assert back == bar and str(back.open) == "2450.10"


def test_parquet_floats_use_their_shortest_text(tmp_path) -> None:
    path = tmp_path / "f.parquet"
    values = {"open": [0.1], "high": [0.3], "low": [0.1], "close": [0.2], "volume": [1.5]}
    pq.write_table(pa.table({"timestamp": [T * 1000], **values}), path)
    bar = next(iter_bars(path))
    assert [str(v) for v in bar[2:7]] == ["0.1", "0.3", "0.1", "0.2", "1.5"]


def test_repeated_prices_are_one_interned_object(tmp_path) -> None:
    path = write(tmp_path, f"{T},10.05,10.10,10.00,10.05,1\n{T + 60},10.05,10.05,10.05,10.05,1\n")
    first, second = iter_bars(path)
    assert first.open is first.close is second.open is second.high


def test_duration_is_the_smallest_gap_unless_given(tmp_path) -> None:
    path = write(tmp_path, rows(T, T + 300, T + 360, T + 86_400))
    assert {b.duration for b in iter_bars(path)} == {60 * NS}
    assert {b.duration for b in iter_bars(path, duration_ns=5)} == {5}
    assert next(iter_bars(write(tmp_path, rows(T)))).duration == 60 * NS


def test_count_rows_without_a_final_newline(tmp_path) -> None:
    path = tmp_path / "n.csv"
    path.write_text(HEADER + rows(T, T + 60).rstrip("\n"))
    assert count_rows(path) == 2
    assert count_rows(write(tmp_path, "")) == 0


def test_gaps_are_found_in_files_and_arrays(tmp_path) -> None:
    minute = 60 * NS
    stamps = [T + 60 * i for i in (0, 1, 2, 5, 6)]
    assert find_gaps(write(tmp_path, rows(*stamps)), minute) == [((T + 180) * NS, 2)]
    ns = np.array([0, minute, 2 * minute, 10 * minute], dtype=np.int64)
    assert find_gaps(ns, minute) == [(3 * minute, 7)]
    assert find_gaps([0, minute], minute) == []
    assert find_gaps([0, 90 * NS], minute) == [(minute, 1)]  # off-grid: one partial gap


def test_close_series_reads_two_columns(tmp_path) -> None:
    path = write(tmp_path, f"{T},1,2,1,1.5,1\n{T + 60},1,2,1,1.25,1\n")
    ts, close = read_close_series(path)
    assert ts.tolist() == [T * NS, (T + 60) * NS] and close.tolist() == [1.5, 1.25]
