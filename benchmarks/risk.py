"""Risk controls: the gate's cost per call and the kill switch's time to verified flat.

Prints `name: value` lines (medians of several runs):
- can_enter_us_per_call: the pure gate on a realistic state (calendar, 3 open positions,
  market health, every limit checked);
- risk_state_plus_gate_us: what the engine really pays per signal (building the state
  from the book, then the gate);
- kill_switch_flat_ms_50_positions: wall time from engage to verified flat for 50 open
  positions with brackets (stop + TP1 + TP2) on the paper venue, including cancelling
  150 children and filling 50 market exits on the next quotes.

Usage: .venv/bin/python benchmarks/risk.py [--runs 7]
"""

from __future__ import annotations

import argparse
import statistics
import sys
import time
from decimal import Decimal
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))  # tests.testkit

from tests.testkit.calendar import WeekdayCalendar, ist
from tests.testkit.paper import open_brackets, paper_desk, quote

from quantdesk.config import RiskLimits
from quantdesk.domain.enums import Mode, Side
from quantdesk.risk.gate import EntryIntent, MarketHealth, OpenRisk, RiskState, can_enter

D = Decimal


def gate_us(calls: int) -> float:
    now = ist("2026-11-25T11:00:00")
    intent = EntryIntent(
        "INFY", Side.BUY, D(10), D(1500), D(1480), (D(1530), D(1560)), now, Mode.PAPER, "IT"
    )
    positions = {s: OpenRisk(D(10), D(200), D(15_000), "IT") for s in ("TCS", "WIPRO", "HCLTECH")}
    state = RiskState(
        limits=RiskLimits(max_open_trades=5),
        calendar=WeekdayCalendar(),  # type: ignore[arg-type]
        positions=positions,
        market={"INFY": MarketHealth(now - 10**9)},
    )
    assert can_enter(intent, state).allowed
    started = time.perf_counter()
    for _ in range(calls):
        can_enter(intent, state)
    return (time.perf_counter() - started) / calls * 1e6


def state_and_gate_us(calls: int) -> float:
    desk = paper_desk(WeekdayCalendar(), start=ist("2026-11-25T10:00:00"))
    open_brackets(desk, ["TCS", "WIPRO", "HCLTECH"])
    engine = desk.engine
    intent = EntryIntent("TCS", Side.BUY, D(1), D(100), D(95), (D(110),), engine.now(), Mode.PAPER)
    started = time.perf_counter()
    for _ in range(calls):
        can_enter(intent, engine.risk_state())
    return (time.perf_counter() - started) / calls * 1e6


def kill_switch_ms() -> float:
    symbols = [f"S{n:02d}" for n in range(50)]
    desk = paper_desk(latency_ms=0)
    open_brackets(desk, symbols)
    started = time.perf_counter()
    desk.kill_switch.engage("benchmark")
    for symbol in symbols:
        quote(desk, symbol, "99")
    desk.engine.drain(None)
    elapsed = (time.perf_counter() - started) * 1000
    if not desk.kill_switch.is_flat():
        sys.exit("kill switch did not reach flat")
    return elapsed


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("--runs", type=int, default=7)
    args = parser.parse_args()
    gate = statistics.median(gate_us(20_000) for _ in range(args.runs))
    full = statistics.median(state_and_gate_us(5_000) for _ in range(args.runs))
    kill = statistics.median(kill_switch_ms() for _ in range(args.runs))
    print(f"can_enter_us_per_call: {gate:.2f}")
    print(f"risk_state_plus_gate_us: {full:.2f}")
    print(f"kill_switch_flat_ms_50_positions: {kill:.1f}")


if __name__ == "__main__":
    main()
