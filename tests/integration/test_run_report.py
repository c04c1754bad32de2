"""`quantdesk report` on a finished paper run: the numbers agree with the journal."""

from __future__ import annotations

from decimal import Decimal
from pathlib import Path

from sqlalchemy import select
from typer.testing import CliRunner

from quantdesk.cli import app
from quantdesk.storage.analytics import analyse
from quantdesk.storage.db import make_engine
from quantdesk.storage.models import TradeRow
from tests.integration.test_paper_replay import paper_run


def test_report_matches_the_journal_and_writes_html(tmp_path: Path) -> None:
    _, run_dir, settings = paper_run(tmp_path)
    with make_engine(settings.database_url).connect() as c:
        pnl = [Decimal(p) for (p,) in c.execute(select(TradeRow.net_pnl))]
    analytics = analyse(run_dir / "streams")
    raw, clean, trimmed = analytics.kpis
    assert raw.trades == len(pnl) and raw.net_pnl == sum(pnl, Decimal(0))  # exact
    assert raw.win_rate == sum(1 for p in pnl if p > 0) / len(pnl)
    assert clean.trades <= raw.trades
    assert raw.trades >= 10  # enough for the trimmed view to drop one each side
    cut = max(1, int(raw.trades * 0.05))
    assert trimmed.trades == raw.trades - 2 * cut
    assert trimmed.net_pnl == sum(sorted(pnl)[cut:-cut], Decimal(0))
    assert sum(Decimal(d["net_pnl"]) for d in analytics.daily) == raw.net_pnl
    assert analytics.latency["samples"] > 0 and analytics.latency["p99_ms"] >= 0
    [source] = analytics.sources
    assert source["source"] == "sma_cross" and source["without_this_source"] == 0
    result = CliRunner().invoke(app, ["report", str(run_dir)])
    assert result.exit_code == 0, result.output
    page = (run_dir / "report.html").read_text()
    assert "KPIs, three ways" in page and "<svg" in page and "sma_cross" in page


def test_report_on_a_folder_without_streams_is_a_clear_error(tmp_path: Path) -> None:
    result = CliRunner().invoke(app, ["report", str(tmp_path)])
    assert result.exit_code != 0 and "no event streams" in result.output
