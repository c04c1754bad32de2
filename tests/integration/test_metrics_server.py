"""The metrics as Prometheus scrapes them: the standalone endpoint of a headless run, and
the operator API's /metrics, over real HTTP."""

from __future__ import annotations

from decimal import Decimal

import httpx
import pytest
from fastapi.testclient import TestClient
from prometheus_client.parser import text_string_to_metric_families

from quantdesk.api.app import create_app
from quantdesk.api.service import DeskService
from quantdesk.config import Settings
from quantdesk.desk import Desk
from quantdesk.domain.enums import Side
from quantdesk.domain.signal import Signal
from quantdesk.obs.metrics import CONTENT_TYPE, DeskMetrics
from quantdesk.obs.metrics_server import start_metrics_server
from tests.testkit.paper import paper_desk, quote


def _values(text: str) -> dict[tuple[str, tuple[tuple[str, str], ...]], float]:
    return {
        (s.name, tuple(sorted(s.labels.items()))): s.value
        for family in text_string_to_metric_families(text)
        for s in family.samples
    }


def _busy_desk() -> tuple[Desk, DeskMetrics]:
    desk = paper_desk()
    metrics = DeskMetrics()
    metrics.attach(desk)
    quote(desk, "INFY")
    desk.engine.submit_signal(
        Signal(
            strategy="breakout",
            symbol="INFY",
            side=Side.BUY,
            ts=desk.engine.now(),
            quantity=Decimal(10),
            stop_loss=Decimal(95),
            targets=(Decimal(110),),
            strength=0.6,
        )
    )
    quote(desk, "INFY")
    quote(desk, "INFY")
    metrics.sample()
    return desk, metrics


def test_the_standalone_endpoint_serves_the_desks_registry() -> None:
    desk, metrics = _busy_desk()
    heat = float(desk.engine.risk_state().heat)
    with start_metrics_server(metrics, "127.0.0.1", 0) as server:
        assert server.port != 0
        response = httpx.get(server.url, timeout=5)
        assert response.status_code == 200
        assert response.headers["content-type"].startswith("text/plain")
        values = _values(response.text)
        assert heat > 0
        assert values[("trader_portfolio_heat_rupees", ())] == heat
        assert values[("trader_positions", (("symbol", "INFY"),))] == 10
        assert values[("trader_signal_strength_count", (("strategy", "breakout"),))] == 1

        metrics.set_loop_lag(3.0)  # a later scrape sees later values
        again = _values(httpx.get(server.url, timeout=5).text)
        assert again[("trader_engine_loop_lag_ms", ())] == 3.0
        url = server.url
    with pytest.raises(httpx.TransportError):
        httpx.get(url, timeout=2)  # closed: the port is released


def test_a_taken_port_is_refused_loudly() -> None:
    _, metrics = _busy_desk()
    with start_metrics_server(metrics, "127.0.0.1", 0) as first, pytest.raises(OSError):
        start_metrics_server(metrics, "127.0.0.1", first.port)


def test_the_api_serves_the_same_exposition_at_metrics() -> None:
    desk, metrics = _busy_desk()
    service = DeskService(desk, Settings(), "2026-11-25-PAPER-METRICS")
    with TestClient(create_app(service, metrics=metrics)) as client:
        response = client.get("/metrics")
    assert response.status_code == 200
    assert response.headers["content-type"] == CONTENT_TYPE
    assert _values(response.text) == _values(metrics.exposition().decode())
