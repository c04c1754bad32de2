"""Bar files: exact values, every timestamp form, refusals with line numbers."""

from __future__ import annotations

import gzip
from decimal import Decimal

import pyarrow as pa
import pyarrow.parquet as pq
import pytest

from quantdesk.data.bars import DataFileError, count_rows, find_gaps, iter_bars, write_bars
from quantdesk.data.synth import synth_bars

HEADER = "timestamp,open,high,low,close,volume\n"
T = 1_767_585_900  # 2026-01-05T04:05:00Z


def write(tmp_path, body: str, name: str = "INFY.csv"):
    path = tmp_path / name
    path.write_text(HEADER + body)
    return path


def test_exact_decimal_text_and_symbol_from_the_file_name(tmp_path) -> None:
    path = write(tmp_path, "2026-01-05T04:05:00Z,2450.05,2451.10,2449.95,2450.10,1200\n")
    [bar] = iter_bars(path)
    assert bar.symbol == "INFY" and bar.ts == T * 10**9
    assert (bar.open, bar.high, bar.low, bar.close) == (
        Decimal("2450.05"),
        Decimal("2451.10"),
        Decimal("2449.95"),
        Decimal("2450.10"),
    )
    assert str(bar.close) == "2450.10" and bar.volume == 1200


@pytest.mark.parametrize(
    "stamp",
    [
        "2026-01-05T04:05:00Z",
        "2026-01-05T09:35:00+05:30",
        "2026-01-05 04:05:00",
        str(T),
        str(T * 1000),
        str(T * 10**9),
    ],
)
def test_timestamp_forms_agree(tmp_path, stamp) -> None:
    path = write(tmp_path, f"{stamp},1,1,1,1,1\n")
    assert next(iter_bars(path)).ts == T * 10**9


def test_extra_columns_and_case_are_ignored(tmp_path) -> None:
    path = tmp_path / "k.csv"
    path.write_text(
        "Open Time,x,TIMESTAMP,Open,High,Low,Close,Volume,trades\n"
        f"0,z,{T * 1000},10,11,9,10.5,3,7\n"
    )
    bar = next(iter_bars(path))
    assert (bar.open, bar.close, bar.volume) == (Decimal(10), Decimal("10.5"), Decimal(3))


@pytest.mark.parametrize(
    ("body", "line", "fragment"),
    [
        (f"{T},1,1,1,1,1\n{T},1,1,1,1,1\n", 3, "not after the previous"),
        (f"{T + 60},1,1,1,1,1\n{T},1,1,1,1,1\n", 3, "not after the previous"),
        (f"{T},10,9,8,10,1\n", 2, "high below"),
        (f"{T},10,11,10.5,10,1\n", 2, "low above"),
        (f"{T},0,1,0,1,1\n", 2, "positive"),
        (f"{T},1,1,1,1,-5\n", 2, "volume"),
        (f"{T},1,1,1,1,1\n{T + 60},abc,1,1,1,1\n", 3, "not a number"),
        (f"{T},1,1,1,1,1\nyesterday,1,1,1,1,1\n", 3, "timestamp"),
    ],
)
def test_malformed_rows_are_refused_with_their_line(tmp_path, body, line, fragment) -> None:
    path = write(tmp_path, body)
    with pytest.raises(DataFileError) as caught:
        list(iter_bars(path))
    assert caught.value.line == line, str(caught.value)
    assert fragment in str(caught.value) and f"line {line}" in str(caught.value)


def test_missing_columns_are_named(tmp_path) -> None:
    path = tmp_path / "bad.csv"
    path.write_text("timestamp,open,close\n1,1,1\n")
    with pytest.raises(DataFileError, match=r"missing column.*high, low, volume"):
        list(iter_bars(path))


def test_csv_gzip_and_parquet_give_identical_bars(tmp_path) -> None:
    bars = list(synth_bars(n=500, seed=3))
    for name in ("b.csv", "b.csv.gz", "b.parquet"):
        write_bars(tmp_path / name, bars)
        assert list(iter_bars(tmp_path / name, symbol="SYNTH")) == bars, name
        assert count_rows(tmp_path / name) == 500


def test_parquet_floats_use_their_shortest_text(tmp_path) -> None:
    path = tmp_path / "f.parquet"
    pq.write_table(
        pa.table(
            {
                "timestamp": [T * 1000],
                "open": [0.1],
                "high": [0.3],
                "low": [0.1],
                "close": [0.2],
                "volume": [1.5],
            }
        ),
        path,
    )
    bar = next(iter_bars(path))
    assert (bar.open, bar.high, bar.close) == (Decimal("0.1"), Decimal("0.3"), Decimal("0.2"))


def test_gaps_are_found(tmp_path) -> None:
    rows = "".join(f"{T + 60 * i},1,1,1,1,1\n" for i in (0, 1, 2, 5, 6))
    assert find_gaps(write(tmp_path, rows), 60 * 10**9) == [((T + 180) * 10**9, 2)]


def test_empty_file_is_refused(tmp_path) -> None:
    path = tmp_path / "e.csv.gz"
    with gzip.open(path, "wt") as handle:
        handle.write("")
    with pytest.raises(DataFileError, match="header"):
        list(iter_bars(path))
