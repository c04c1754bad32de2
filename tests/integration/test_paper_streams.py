"""A paper run writes every stream, and the streams agree with the journal."""

from __future__ import annotations

import json
from decimal import Decimal
from pathlib import Path

from sqlalchemy import func, select

from quantdesk.storage.db import make_engine
from quantdesk.storage.models import TradeRow
from tests.integration.test_paper_replay import paper_run


def lines(run_dir: Path, stream: str) -> list[dict]:
    return [
        json.loads(line)
        for path in sorted((run_dir / "streams" / stream).glob("*.jsonl"))
        for line in path.read_text().splitlines()
    ]


def test_a_paper_run_writes_consistent_streams(tmp_path: Path) -> None:
    run, run_dir, settings = paper_run(tmp_path)
    with make_engine(settings.database_url).connect() as c:
        trades = c.scalar(select(func.count()).select_from(TradeRow))
    lifecycle = lines(run_dir, "trade_lifecycle")
    assert trades and len(lifecycle) == trades
    assert all(r["session_id"] == lifecycle[0]["session_id"] for r in lifecycle)
    latency = lines(run_dir, "latency")
    assert latency and all(sum(r["stages_ns"].values()) == r["total_ns"] for r in latency)
    assert all(
        set(r["stages_ns"]) >= {"features", "decision", "risk", "execution"} for r in latency
    )
    health = lines(run_dir, "health")
    assert 0 < len(health) <= 0.15 * run.bars
    equity = lines(run_dir, "equity_curve")
    assert Decimal(equity[-1]["equity"]) == run.desk.engine.equity()
    snapshots = lines(run_dir, "snapshot")
    hours = [s for s in snapshots if s["bucket"] == "1h" and s["complete"]]
    starts = [s["bucket_start_ns"] for s in hours]
    assert len(starts) == len(set(starts)) >= 5  # one per boundary over a 6.5 h session
    assert sum(s["trade_count"] for s in snapshots if s["bucket"] == "1h") == trades
    assert list((run_dir / "streams" / "health" / "parquet").glob("*.parquet"))
