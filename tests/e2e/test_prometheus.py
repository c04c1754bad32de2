"""A real Prometheus (Debian's `prometheus`) scrapes a running `quantdesk paper` and a
PromQL query returns the equity series; every metric family is in the exposition."""

from __future__ import annotations

import os
import shutil
import signal
import subprocess
import sys
import time
from pathlib import Path

import httpx
import pytest
from prometheus_client.parser import text_string_to_metric_families

from tests.e2e.test_dashboard import free_port

FAMILIES = {
    "trader_equity_rupees", "trader_drawdown_pct", "trader_daily_pnl_rupees",
    "trader_positions", "trader_portfolio_heat_rupees", "trader_portfolio_heat_pct_of_cap",
    "trader_trades", "trader_trade_pnl_bps", "trader_signal_strength",
    "trader_order_rejections", "trader_slippage_bps", "trader_execution_latency_ms",
    "trader_decision_stage_latency_ms", "trader_feed_staleness_ms", "trader_ws_reconnects",
    "trader_breaker_tripped", "trader_kill_switch_engaged", "trader_engine_loop_lag_ms",
    "trader_events_processed",
}  # fmt: skip


def prometheus_binary() -> str:
    found = shutil.which("prometheus")
    if found:
        return found
    if os.environ.get("REQUIRE_SERVICES") == "1":
        pytest.fail("prometheus is not installed and REQUIRE_SERVICES=1 (make test installs it)")
    pytest.skip("prometheus is not installed")


def wait_for(url: str, seconds: float = 60) -> None:
    deadline = time.monotonic() + seconds
    while time.monotonic() < deadline:
        try:
            if httpx.get(url, timeout=1).status_code == 200:
                return
        except httpx.HTTPError:
            pass
        time.sleep(0.25)
    pytest.fail(f"{url} did not answer within {seconds} s")


def test_prometheus_scrapes_the_desk_and_promql_returns_equity(tmp_path: Path) -> None:
    binary = prometheus_binary()
    desk_port, prom_port = free_port(), free_port()
    env = {k: v for k, v in os.environ.items() if not k.upper().startswith("QD_")}
    env["QD_DATABASE_URL"] = f"sqlite:///{tmp_path / 'p.db'}"
    desk = subprocess.Popen(
        [sys.executable, "-m", "quantdesk", "paper", "--speed", "600", "--port", str(desk_port),
         "--run-dir", str(tmp_path / "run")],
        env=env, cwd=tmp_path, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL,
    )  # fmt: skip
    config = tmp_path / "prometheus.yml"
    config.write_text(
        "global: {scrape_interval: 1s}\n"
        "scrape_configs:\n"
        f"  - job_name: quantdesk\n    static_configs: [{{targets: ['127.0.0.1:{desk_port}']}}]\n"
    )
    prom = subprocess.Popen(
        [binary, f"--config.file={config}", f"--storage.tsdb.path={tmp_path / 'tsdb'}",
         f"--web.listen-address=127.0.0.1:{prom_port}"],
        stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL,
    )  # fmt: skip
    try:
        wait_for(f"http://127.0.0.1:{desk_port}/health")
        exposition = httpx.get(f"http://127.0.0.1:{desk_port}/metrics", timeout=5).text
        names = {family.name for family in text_string_to_metric_families(exposition)}
        assert names >= FAMILIES, FAMILIES - names
        wait_for(f"http://127.0.0.1:{prom_port}/-/ready")
        query = f"http://127.0.0.1:{prom_port}/api/v1/query"
        deadline = time.monotonic() + 60
        result: list = []
        while time.monotonic() < deadline and not result:
            answer = httpx.get(query, params={"query": "trader_equity_rupees"}, timeout=5).json()
            result = answer["data"]["result"]
            time.sleep(0.5)
        assert result, "PromQL returned no equity series"
        assert float(result[0]["value"][1]) > 0
    finally:
        for process in (prom, desk):
            process.send_signal(signal.SIGINT)
            try:
                process.wait(timeout=30)
            except subprocess.TimeoutExpired:
                process.kill()
