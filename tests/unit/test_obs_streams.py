"""Stream producers: health throttling, snapshot boundaries, lifecycle math, the writer."""

from __future__ import annotations

import json
import threading
from decimal import Decimal
from pathlib import Path

import pyarrow.parquet as pq

from quantdesk.domain.enums import OrderType, Side
from quantdesk.domain.signal import Decision, DecisionStatus, Signal
from quantdesk.domain.trade import Trade
from quantdesk.execution.book import ClosedTrade
from quantdesk.obs.health import HealthFacts, HealthGate
from quantdesk.obs.lifecycle import EntryContext, lifecycle_record
from quantdesk.obs.snapshots import HOUR_NS, Snapshots
from quantdesk.obs.stream_writer import StreamWriter
from quantdesk.obs.trackers import HIGH, FeatureStaleness, RegimeTracker
from tests.testkit.calendar import ist

D = Decimal
MINUTE = 60 * 10**9


def test_health_over_a_day_is_under_15_percent_and_keeps_every_change() -> None:
    gate = HealthGate(every_ns=60 * MINUTE)
    equity, stale, reconnects, state = D(1_000_000), False, 0, 0
    changes = {40: "equity", 90: "stale", 91: "fresh", 200: "reconnect", 300: "pause"}
    emitted: dict[int, str] = {}
    for bar in range(375):  # one NSE session of 1-minute bars
        equity += D(10) if bar % 2 else D(-10)  # noise: 0.001% a bar
        change = changes.get(bar)
        if change == "equity":
            equity *= D("1.002")
        elif change in ("stale", "fresh"):
            stale = change == "stale"
        elif change == "reconnect":
            reconnects += 1
        elif change == "pause":
            state += 1  # paused
        why = gate.reason(HealthFacts(equity, stale, reconnects, state), bar * MINUTE)
        if why is not None:
            emitted[bar] = why
    assert len(emitted) <= 0.15 * 375
    assert emitted[40] == "equity_move"
    assert emitted[90] == "staleness" and emitted[91] == "staleness"
    assert emitted[200] == "reconnect" and emitted[300] == "state"
    assert list(emitted.values()).count("heartbeat") == 3  # a change restarts the count


def test_snapshots_emit_exactly_once_per_boundary_and_skip_empty_hours() -> None:
    hourly = Snapshots(HOUR_NS, "1h")
    equity = D(1_000_000)
    records = []
    start = ist("2026-11-25T09:15:00")
    for minute in range(0, 376):  # 09:15 .. 15:30 IST
        for _ in range(2):  # a second call at the same time never emits again
            done = hourly.observe(start + minute * MINUTE, equity)
            if done is not None:
                records.append(done)
        if minute == 30:  # 09:45
            hourly.on_trade(D(120), D(5))
    # the 09:00 bucket closes at 10:00, then 11, 12, 13, 14, 15 -> 6 boundaries crossed
    assert [r["bucket_start_ns"] for r in records] == [
        ist(f"2026-11-25T{h:02d}:00:00") for h in (9, 10, 11, 12, 13, 14)
    ]
    assert records[0]["trade_count"] == 1 and records[0]["net_pnl"] == "120"
    assert all(r["complete"] for r in records)
    # overnight: the next morning closes the 15:00 bucket only, not 16 empty hours
    done = hourly.observe(ist("2026-11-26T09:15:00"), equity)
    assert done is not None and done["bucket_start_ns"] == ist("2026-11-25T15:00:00")
    assert all(v is not None for v in done.values())


def test_lifecycle_record_matches_a_hand_computed_trade() -> None:
    entry_ts, exit_ts = ist("2026-11-25T10:00:00"), ist("2026-11-25T10:45:30")
    trade = Trade("INFY", Side.BUY, D(10), D("1500.50"), D("1520.25"), entry_ts,
                  exit_ts, D("197.50"), D("6.25"), "f1", "target")  # fmt: skip
    closed = ClosedTrade(trade, "p1", D("3.3344"), 250.0)
    signal = Signal("s", "INFY", Side.BUY, entry_ts, stop_loss=D(1490), targets=(D(1530),),
                    strength=0.8)  # fmt: skip
    decision = Decision("p1", "c1", "INFY", Side.BUY, D(10), entry_ts, DecisionStatus.APPROVED,
                        OrderType.LIMIT, D(1500), D(1490), (D(1530),))  # fmt: skip
    record = lifecycle_record(closed, EntryContext(signal, decision), exit_reference=D(1530))
    assert record["duration_s"] == "2730"
    assert record["realised_pnl"] == "197.50" and record["net_pnl"] == "191.25"
    # 197.50 / (1500.50 x 10) = 131.62 bps; 6.25 -> 4.17 bps; 191.25 -> 127.46 bps
    assert record["realised_pnl_bps"] == "131.62"
    assert record["costs_bps"] == "4.17"
    assert record["net_pnl_bps"] == "127.46"
    assert record["entry_slippage_bps"] == "3.33"
    # exit at 1520.25 against a 1530 target: 9.75 worse = 63.73 bps of 1530
    assert record["exit_slippage_bps"] == "63.73"
    # predicted 29.50 (196.60 bps), realised 19.75 -> error -9.75 = -64.98 bps
    assert record["predicted_bps"] == "196.60"
    assert record["prediction_error_bps"] == "-64.98"
    assert record["signal_to_fill_ms"] == 250.0 and record["strategy"] == "s"


def test_writer_rolls_jsonl_by_ist_day_and_writes_parquet(tmp_path: Path) -> None:
    writer = StreamWriter(tmp_path, parquet_every=3)
    for i in range(4):
        writer.emit("health", ist("2026-11-25T23:58:00") + i * MINUTE, {"n": i, "x": {"a": 1}})
    writer.close()
    # 23:58 and 23:59 IST are the 25th; 00:00 and 00:01 the 26th
    first = (tmp_path / "health" / "2026-11-25.jsonl").read_text().splitlines()
    second = (tmp_path / "health" / "2026-11-26.jsonl").read_text().splitlines()
    assert [json.loads(x)["n"] for x in first] == [0, 1]
    assert [json.loads(x)["n"] for x in second] == [2, 3]
    parts = sorted((tmp_path / "health" / "parquet").glob("*.parquet"))
    rows = [r for p in parts for r in pq.read_table(p).to_pylist()]
    assert sorted(r["n"] for r in rows) == [0, 1, 2, 3] and writer.dropped == {}


def test_writer_never_blocks_and_counts_drops(tmp_path: Path) -> None:
    writer = StreamWriter(tmp_path, max_queue=100)
    gate = threading.Event()
    drain = writer._drain

    def stuck_disk() -> None:
        gate.wait(5)
        drain()

    writer._drain = stuck_disk  # type: ignore[method-assign]
    for i in range(1_000):
        writer.emit("latency", 0, {"i": i})  # returns at once, whatever the disk does
    assert writer.dropped["latency"] >= 899
    gate.set()
    writer.close()
    lines = (tmp_path / "latency" / "1970-01-01.jsonl").read_text().splitlines()
    assert len(lines) + writer.dropped["latency"] == 1_000  # nothing lost uncounted


def test_feature_staleness_and_regime_transitions() -> None:
    features = FeatureStaleness(stale_after_s=60, alert_over=1)
    features.update(0, {"rsi": 1.0, "vwap_gap": 0.2, "imbalance": 0.1})
    features.update(50 * 10**9, {"rsi": 1.1})
    assert features.stale(100 * 10**9) == ["imbalance", "vwap_gap"]
    assert features.crossed(100 * 10**9) is True and features.crossed(101 * 10**9) is False
    regimes = RegimeTracker(warmup=20)
    price, transitions = 100.0, []
    for i in range(200):
        price *= 1.0005 if i % 2 else 0.9995
        if i > 150:
            price *= 1.02 if i % 2 else 0.98  # volatility jumps
        change = regimes.on_price("X", price)
        if change:
            transitions.append(change)
    assert transitions and transitions[0][1] == HIGH
