"""A paper run is recorded and its replay reproduces the decision/order log exactly."""

from __future__ import annotations

import asyncio
import json
from decimal import Decimal

from typer.testing import CliRunner

from quantdesk.cli import app
from quantdesk.config import Settings
from quantdesk.data.bars import iter_bars, write_bars
from quantdesk.data.synth import synth_bars
from quantdesk.engine.recorder import read_bars
from quantdesk.runners.paper import PaperSpec, run_paper
from quantdesk.runners.replay import recorded_lines, replay
from quantdesk.venues.paper import PaperVenueConfig

runner = CliRunner()


def paper_run(tmp_path, speed: float = 1e6):
    tmp_path.mkdir(parents=True, exist_ok=True)
    data = tmp_path / "P.csv"
    write_bars(
        data, synth_bars(symbol="P", n=400, seed=11, session="nse", start=1_767_584_700_000_000_000)
    )
    settings = Settings(database_url=f"sqlite:///{tmp_path / 'qd.db'}")
    spec = PaperSpec(
        strategy="sma_cross",
        symbol="P",
        params={"fast": "5", "slow": "15", "qty": "3"},
        speed=speed,
        venue=PaperVenueConfig(latency_ms=250, half_spread_bps=2),
    )
    run_dir = tmp_path / "run"
    run = asyncio.run(run_paper(spec, settings, iter_bars(data, symbol="P"), run_dir))
    return run, run_dir, settings


def test_replay_of_a_paper_run_is_identical(tmp_path) -> None:
    run, run_dir, settings = paper_run(tmp_path)
    assert run.bars == 400
    lines = recorded_lines(run_dir)
    assert len(lines) > 20 and any(line.startswith("fill|") for line in lines)
    assert len(read_bars(run_dir)) == 400
    manifest = json.loads((run_dir / "run.json").read_text())
    assert manifest["log_sha256"] == run.desk.engine.log.sha256
    result = replay(run_dir, settings)
    assert result.lines == lines
    assert result.log_sha256 == manifest["log_sha256"]


def test_replay_command_ok_then_divergence_under_another_profile(tmp_path, monkeypatch) -> None:
    _, run_dir, settings = paper_run(tmp_path)
    monkeypatch.setenv("QD_DATABASE_URL", settings.database_url)
    monkeypatch.setenv("COLUMNS", "250")
    same = runner.invoke(app, ["replay", str(run_dir)])
    assert same.exit_code == 0 and "OK" in same.output
    profile = tmp_path / "slower.json"
    profile.write_text(json.dumps({"venue": {"latency_ms": 70_000}}))
    changed = runner.invoke(app, ["replay", str(run_dir), "--profile", str(profile)])
    assert changed.exit_code == 1
    assert "DIVERGED at line" in changed.output and "recorded:" in changed.output
    both = runner.invoke(
        app, ["replay", str(run_dir), "--profile", "recorded", "--profile", str(profile)]
    )
    assert both.exit_code == 0 and "first divergence at line" in both.output


def test_paper_run_persists_the_chain(tmp_path) -> None:
    from sqlalchemy import func, select

    from quantdesk.storage.db import make_engine
    from quantdesk.storage.models import AuditLogRow, OrderRow, TradeRow

    _run, _, settings = paper_run(tmp_path)
    db = make_engine(settings.database_url)
    with db.connect() as c:
        trades = c.scalar(select(func.count()).select_from(TradeRow))
        orders = c.scalar(select(func.count()).select_from(OrderRow))
        actions = [r for (r,) in c.execute(select(AuditLogRow.action))]
    assert trades and orders >= 2 * trades
    with db.connect() as c:
        still_open = c.scalar(
            select(func.count()).select_from(TradeRow).where(TradeRow.status == "OPEN")
        )
    assert still_open == 0  # the run closed out at the end of its data

    assert actions[0] == "session.start" and actions[-1] == "session.end"
    assert "trade.closed" in actions


def test_paper_run_charges_the_recorded_slippage_model_and_replays_it(tmp_path) -> None:
    from sqlalchemy import insert

    from quantdesk.domain.time import to_datetime
    from quantdesk.storage import migrate, slippage
    from quantdesk.storage.db import make_engine
    from quantdesk.storage.models import SlippageModelRow

    db = make_engine(f"sqlite:///{tmp_path / 'qd.db'}")
    migrate.upgrade(db)
    with db.begin() as c:
        c.execute(
            insert(SlippageModelRow),
            [
                {
                    "symbol": "P",
                    "side": side,
                    "median_bps": bps,
                    "samples": 9,
                    "updated_at": to_datetime(0),
                }
                for side, bps in (("BUY", Decimal(40)), ("SELL", Decimal(40)))
            ],
        )
    assert slippage.load(db)[("P", "BUY")] == 40
    _run, run_dir, settings = paper_run(tmp_path)
    manifest = json.loads((run_dir / "run.json").read_text())
    assert manifest["slippage_model"] == {"P:BUY": "40", "P:SELL": "40"}
    fills = [line for line in recorded_lines(run_dir) if line.startswith("fill|")]
    _plain, plain_dir, _ = paper_run(tmp_path / "plain")
    plain_fills = [line for line in recorded_lines(plain_dir) if line.startswith("fill|")]
    assert fills[0] != plain_fills[0]  # 40 bps worse than the run without a model
    assert replay(run_dir, settings).lines == recorded_lines(run_dir)
