"""`quantdesk backtest` against references computed without the engine."""

from __future__ import annotations

import csv
import json
from collections import deque
from datetime import datetime
from decimal import Decimal
from pathlib import Path

import pytest
from typer.testing import CliRunner

from quantdesk.cli import app
from quantdesk.commands.paper import sample_path
from quantdesk.data.bars import iter_bars, write_bars
from quantdesk.domain.enums import Mode
from quantdesk.domain.time import from_datetime, ist_date
from quantdesk.runners.backtest import BacktestError, resolve_gate

runner = CliRunner()
D = Decimal
M = 60


@pytest.fixture(autouse=True)
def _wide(monkeypatch, tmp_path):
    monkeypatch.setenv("COLUMNS", "250")
    monkeypatch.chdir(tmp_path)


def backtest(*args: str):
    result = runner.invoke(app, ["backtest", *args], catch_exceptions=False)
    return result


def rows(out: Path) -> list[dict[str, str]]:
    return list(csv.DictReader((out / "trades.csv").open()))


def test_hand_computed_sma_cross_with_next_bar_open_fills(tmp_path) -> None:
    # closes: SMA(2) vs SMA(3) first sign + at bar 3, cross down at 6 (flat: nothing),
    # cross up at 9 -> buy at bar 10's OPEN, cross down at 12 -> sell at bar 13's OPEN.
    closes = [10, 10, 10, 11, 12, 11, 9, 8, 9, 11, 12, 12, 10, 9, 9]
    # bar 10 opens 1.8% above the signal's close: inside the 2% market protection
    opens = [10, 10, 10, 10.5, 11, 12, 10, 8.5, 8.5, 10, "11.20", 12, 11, "9.85", 9]
    t0 = 1_767_585_900
    lines = ["timestamp,open,high,low,close,volume"]
    for i, (o, c) in enumerate(zip(opens, closes, strict=True)):
        high, low = max(D(str(o)), D(c)), min(D(str(o)), D(c))
        lines.append(f"{t0 + i * M},{o},{high},{low},{c},1000")
    data = tmp_path / "HAND.csv"
    data.write_text("\n".join(lines) + "\n")
    out = tmp_path / "out"
    result = backtest(
        "--data",
        str(data),
        "--strategy",
        "sma_cross",
        "--param",
        "fast=2",
        "--param",
        "slow=3",
        "--param",
        "qty=5",
        "--out",
        str(out),
    )
    assert result.exit_code == 0, result.output
    [trade] = rows(out)
    assert trade["entry_time"] == "2026-01-05T04:15:00Z"  # bar 10 opens 10 minutes in
    assert trade["exit_time"] == "2026-01-05T04:18:00Z"  # bar 13
    assert (trade["side"], trade["quantity"]) == ("LONG", "5")
    assert (D(trade["entry_price"]), D(trade["exit_price"])) == (D("11.20"), D("9.85"))
    assert D(trade["pnl"]) == D("-6.75")  # (9.85 - 11.20) x 5, exact
    report = json.loads((out / "report.json").read_text())
    assert report["trades"] == 1 and report["net_pnl"] == "-6.75"
    assert (out / "equity.html").read_text().startswith("<!doctype html>")


def reference_sma_cross(path: Path, fast: int, slow: int, qty: Decimal) -> list[tuple]:  # noqa: C901
    """Independent of the engine: exact SMAs, crosses, next-bar-open fills, and a final
    close-out at the last close."""
    bars = list(iter_bars(path))
    fq: deque[Decimal] = deque()
    sq: deque[Decimal] = deque()
    state, long_since, pending, trades = 0, None, None, []
    for i, bar in enumerate(bars):
        if pending == "buy":
            long_since, pending = (bar.ts, bar.open), None
        elif pending == "sell":
            trades.append((long_since[0], bar.ts, long_since[1], bar.open))
            long_since, pending = None, None
        fq.append(bar.close)
        sq.append(bar.close)
        if len(fq) > fast:
            fq.popleft()
        if len(sq) > slow:
            sq.popleft()
        if len(sq) < slow:
            continue
        diff = sum(fq) / fast - sum(sq) / slow
        sign = 1 if diff > 0 else -1 if diff < 0 else state
        if state and sign != state:
            if sign > 0 and long_since is None:
                pending = "buy"
            elif sign < 0 and long_since is not None:
                pending = "sell"
        state = sign
        if i == len(bars) - 1 and long_since is not None:
            trades.append((long_since[0], bar.ts + bar.duration, long_since[1], bar.close))
    return [(e, x, ep, xp, (xp - ep) * qty) for e, x, ep, xp in trades]


def iso_ns(text: str) -> int:
    """Epoch ns of a trades.csv time (ISO UTC, `Z` suffix)."""
    return from_datetime(datetime.fromisoformat(text.replace("Z", "+00:00")))


SAMPLE_SMA_CROSS = (
    "--data",
    str(sample_path()),
    "--strategy",
    "sma_cross",
    "--param",
    "fast=10",
    "--param",
    "slow=30",
    "--param",
    "qty=10",
)


def test_bundled_sample_matches_the_reference_trade_for_trade(tmp_path) -> None:
    out = tmp_path / "out"
    result = backtest(
        *SAMPLE_SMA_CROSS,
        "--risk-profile",
        "none",  # the reference knows no limits
        "--out",
        str(out),
    )
    assert result.exit_code == 0, result.output
    got = [
        (
            iso_ns(r["entry_time"]),
            iso_ns(r["exit_time"]),
            D(r["entry_price"]),
            D(r["exit_price"]),
            D(r["pnl"]),
        )
        for r in rows(out)
    ]
    expected = reference_sma_cross(sample_path(), 10, 30, D(10))
    assert len(expected) > 50
    assert got == expected


def test_rerunning_into_the_same_folder_replaces_the_run(tmp_path) -> None:
    out = tmp_path / "out"
    args = ("--data", str(sample_path()), "--strategy", "sma_cross", "--out", str(out))
    first = backtest(*args)
    second = backtest(*args)
    assert first.exit_code == 0 and second.exit_code == 0, second.output
    assert rows(out)
    from sqlalchemy import func, select

    from quantdesk.storage.db import make_engine
    from quantdesk.storage.models import TradeRow

    with make_engine(f"sqlite:///{out / 'backtest.db'}").connect() as c:
        assert c.scalar(select(func.count()).select_from(TradeRow)) == len(rows(out))


def test_missing_bars_are_counted_against_the_calendar(tmp_path) -> None:
    data = tmp_path / "G.csv"
    t0 = 1_767_584_700  # Monday 2026-01-05 09:15 IST
    minutes = [*range(375), *(1440 + m for m in range(375) if m not in (100, 101, 102))]
    data.write_text(
        "timestamp,open,high,low,close,volume\n"
        + "".join(f"{t0 + 60 * m},10,10,10,10,1\n" for m in minutes)
    )
    for calendar, expected in ((None, 1065 + 3), ("nse", 3)):
        out = tmp_path / f"out-{calendar}"
        args = ["--data", str(data), "--strategy", "sma_cross", "--out", str(out)]
        result = backtest(*args, *(["--calendar", calendar] if calendar else []))
        assert result.exit_code == 0, result.output
        assert json.loads((out / "report.json").read_text())["missing_bars"] == expected


def test_research_only_risk_profile_is_refused_outside_backtests() -> None:
    assert resolve_gate("none", Mode.BACKTEST) is not None
    with pytest.raises(BacktestError, match="refused in PAPER"):
        resolve_gate("none", Mode.PAPER)
    with pytest.raises(BacktestError, match="unknown risk profile"):
        resolve_gate("yolo", Mode.BACKTEST)


def test_malformed_data_is_a_clear_error(tmp_path) -> None:
    bad = tmp_path / "bad.csv"
    bad.write_text("timestamp,open,high,low,close,volume\n1767585900,10,9,8,10,1\n")
    result = runner.invoke(app, ["backtest", "--data", str(bad), "--strategy", "sma_cross"])
    assert result.exit_code == 2
    assert "bad.csv line 2: high 9 below open 10" in result.output


def test_unknown_strategy_and_bad_params_are_clear_errors(tmp_path) -> None:
    data = str(sample_path())
    result = runner.invoke(app, ["backtest", "--data", data, "--strategy", "nope"])
    assert result.exit_code == 2 and "unknown strategy 'nope'" in result.output
    result = runner.invoke(
        app,
        [
            "backtest",
            "--data",
            data,
            "--strategy",
            "sma_cross",
            "--param",
            "fast=50",
            "--param",
            "slow=20",
        ],
    )
    assert result.exit_code == 2 and "fast (50) must be below slow (20)" in result.output


def test_default_risk_profile_enforces_the_daily_trade_limit(tmp_path, monkeypatch) -> None:
    """The same run under the default profile: the gate caps entries per IST day."""
    monkeypatch.setenv("QD_RISK__MAX_TRADES_PER_DAY", "2")
    out = tmp_path / "out"
    result = backtest(
        *SAMPLE_SMA_CROSS,
        "--out",
        str(out),
    )
    assert result.exit_code == 0, result.output
    days: dict[object, int] = {}
    for r in rows(out):
        day = ist_date(iso_ns(r["entry_time"]))
        days[day] = days.get(day, 0) + 1
    unlimited = reference_sma_cross(sample_path(), 10, 30, D(10))
    assert days and max(days.values()) == 2
    assert sum(days.values()) < len(unlimited)


def test_with_the_nse_calendar_quarantined_data_is_refused_unless_allowed(tmp_path) -> None:
    from quantdesk.data.synth import synth_bars
    from quantdesk.domain.time import ist_date

    bars = [
        b
        for b in synth_bars(
            symbol="GAP", n=375 * 3, seed=2, session="nse", start=1_767_584_700_000_000_000
        )
        if str(ist_date(b.ts)) != "2026-01-06"  # a whole session missing: coverage 2/3
    ]
    data = tmp_path / "GAP.csv"
    write_bars(data, bars)
    refused = backtest("--data", str(data), "--strategy", "sma_cross", "--calendar", "nse",
                       "--out", str(tmp_path / "a"))  # fmt: skip
    assert refused.exit_code == 2
    assert "quarantined" in refused.output and "coverage" in refused.output
    allowed = backtest("--data", str(data), "--strategy", "sma_cross", "--calendar", "nse",
                       "--allow-quarantined", "--out", str(tmp_path / "b"))  # fmt: skip
    assert allowed.exit_code == 0, allowed.output
    assert json.loads((tmp_path / "b" / "report.json").read_text())["data_quarantined"] is True
