"""The desk's Prometheus metrics, read back from the exposition a scraper would get."""

from __future__ import annotations

import json
import re
from dataclasses import replace
from decimal import Decimal
from pathlib import Path

import pytest
from prometheus_client import REGISTRY
from prometheus_client.parser import text_string_to_metric_families
from prometheus_client.samples import Sample

from quantdesk.desk import Desk
from quantdesk.domain.enums import OrderType, Side
from quantdesk.domain.signal import Signal
from quantdesk.obs.metrics import STAGES, TRADING_STATES, DeskMetrics, LabelVocabulary
from quantdesk.risk.controls import TradingState
from tests.testkit.desk import decision
from tests.testkit.paper import paper_desk, quote

D = Decimal
ROOT = Path(__file__).resolve().parents[2]
REQUIRED = {
    "trader_equity_rupees",
    "trader_drawdown_pct",
    "trader_daily_pnl_rupees",
    "trader_positions",
    "trader_portfolio_heat_rupees",
    "trader_portfolio_heat_pct_of_cap",
    "trader_trades_total",
    "trader_trade_pnl_bps",
    "trader_signal_strength",
    "trader_order_rejections_total",
    "trader_slippage_bps",
    "trader_execution_latency_ms",
    "trader_decision_stage_latency_ms",
    "trader_feed_staleness_ms",
    "trader_ws_reconnects_total",
    "trader_breaker_tripped",
    "trader_kill_switch_engaged",
    "trader_trading_state",
    "trader_engine_loop_lag_ms",
    "trader_events_processed_total",
}


class Scrape:
    """One exposition, parsed: samples by name and labels."""

    def __init__(self, metrics: DeskMetrics) -> None:
        text = metrics.exposition().decode()
        families = list(text_string_to_metric_families(text))
        self.names = {f.name + ("_total" if f.type == "counter" else "") for f in families}
        self.samples: list[Sample] = [s for f in families for s in f.samples]

    def value(self, name: str, **labels: str) -> float:
        found = [s.value for s in self.samples if s.name == name and s.labels == labels]
        assert len(found) == 1, f"{name}{labels}: {len(found)} samples"
        return found[0]

    def bucket_of(self, name: str, **labels: str) -> float:
        """The upper bound of the one bucket holding the histogram's single observation."""
        counts = sorted(
            (float(s.labels["le"]), s.value)
            for s in self.samples
            if s.name == name + "_bucket" and {**s.labels, "le": ""} == {**labels, "le": ""}
        )
        assert counts[-1][1] == 1, f"{name}{labels}: not one observation"
        return next(bound for bound, count in counts if count == 1)

    def label_values(self) -> set[str]:
        return {v for s in self.samples for k, v in s.labels.items() if k != "le"}


def attached(desk: Desk | None = None, **kwargs: int) -> tuple[Desk, DeskMetrics]:
    desk = desk or paper_desk()
    metrics = DeskMetrics(**kwargs)
    metrics.attach(desk)
    return desk, metrics


def signal(desk: Desk, symbol: str, strategy: str, strength: float, qty: str = "10") -> Signal:
    return Signal(
        strategy=strategy,
        symbol=symbol,
        side=Side.BUY,
        ts=desk.engine.now(),
        quantity=D(qty),
        stop_loss=D(95),
        targets=(D(110),),
        strength=strength,
    )


def reject_one(desk: Desk, plan: str) -> None:
    """An entry the paper venue refuses: a limit price off the tick."""
    bad = replace(decision("WIPRO", plan=plan), order_type=OrderType.LIMIT, entry_price=D("100.03"))
    desk.oms.execute(bad, D(100))
    quote(desk, "WIPRO")  # the venue's answer arrives after its latency


def trade_a_session(desk: Desk) -> list[object]:
    """INFY left open with its bracket; TCS opened and closed by a strategy exit; one
    order rejected."""
    closed: list[object] = []
    desk.engine.bus.subscribe("trade", closed.append)
    quote(desk, "INFY")
    desk.engine.submit_signal(signal(desk, "INFY", "breakout", 0.7))
    quote(desk, "INFY")  # ack, entry fills
    quote(desk, "INFY")  # bracket children acked
    quote(desk, "TCS")
    desk.engine.submit_signal(signal(desk, "TCS", "sma_cross", 0.35, qty="5"))
    quote(desk, "TCS")
    quote(desk, "TCS")
    desk.engine.exit("TCS", "time_exit")
    quote(desk, "TCS", "99")
    quote(desk, "TCS", "99")
    reject_one(desk, "bad1")
    return closed


def test_every_family_is_exposed_before_any_activity() -> None:
    _, metrics = attached()
    metrics.sample()
    scrape = Scrape(metrics)
    assert scrape.names >= REQUIRED, REQUIRED - scrape.names
    assert all(name.startswith("trader_") for name in scrape.names)
    for state in TRADING_STATES:
        assert scrape.value("trader_trading_state", state=state) == (state == "ACTIVE")
    for breaker in ("rejections", "execution_failures", "equity", "data_health"):
        assert scrape.value("trader_breaker_tripped", breaker=breaker) == 0


def test_a_session_is_measured_from_the_desk_itself() -> None:
    desk, metrics = attached()
    engine = desk.engine
    closed = trade_a_session(desk)
    metrics.sample(engine.now() + 5_000_000_000)  # sampled 5 s after the last quote
    scrape = Scrape(metrics)
    state = engine.risk_state()

    assert state.heat > 0
    assert scrape.value("trader_portfolio_heat_rupees") == float(state.heat)
    assert scrape.value("trader_portfolio_heat_pct_of_cap") == pytest.approx(
        float(state.heat * 100 / engine.limits.heat_cap)
    )
    equity = engine.equity()
    assert scrape.value("trader_equity_rupees") == float(equity)
    assert scrape.value("trader_daily_pnl_rupees") == float(state.daily_pnl)
    capital = engine.limits.capital  # the high-water mark: the desk only lost so far
    assert equity < capital
    assert scrape.value("trader_drawdown_pct") == pytest.approx(
        float((capital - equity) * 100 / capital)
    )
    assert scrape.value("trader_positions", symbol="INFY") == 10
    assert scrape.value("trader_positions", symbol="TCS") == 0
    assert scrape.value("trader_feed_staleness_ms") == 5000
    assert scrape.value("trader_events_processed_total") == engine.events_processed

    [trip] = closed
    trade = trip.trade  # type: ignore[attr-defined]
    labels = {"strategy": "sma_cross", "side": "BUY", "exit_reason": "time_exit"}
    assert scrape.value("trader_trades_total", **labels) == 1
    # histograms with negative buckets carry no _sum (OpenMetrics): check the bucket
    pnl_bps = trade.net_pnl * 10_000 / (trade.entry_price * trade.quantity)
    assert D(-200) < pnl_bps <= D(-100)
    assert scrape.bucket_of("trader_trade_pnl_bps") == -100
    slippage = trip.slippage_bps  # type: ignore[attr-defined]
    assert D(2) < slippage <= D(5)
    assert scrape.bucket_of("trader_slippage_bps", side="BUY") == 5
    assert scrape.value("trader_slippage_bps_count", side="SELL") == 0
    assert scrape.value("trader_signal_strength_count", strategy="breakout") == 1
    assert scrape.value("trader_signal_strength_sum", strategy="sma_cross") == 0.35
    assert scrape.value("trader_decisions_total", status="APPROVED") == 2
    assert scrape.value("trader_order_rejections_total", reason="INVALID_PRICE") == 1

    # entries rest as protective limits, the strategy's exit goes at market; the paper
    # venue's 1 ms latency is the submit -> first fill time on the engine clock
    assert scrape.value("trader_execution_latency_ms_count", order_type="LIMIT") == 2
    assert scrape.value("trader_execution_latency_ms_sum", order_type="LIMIT") == 2.0
    assert scrape.value("trader_execution_latency_ms_count", order_type="MARKET") == 1
    for stage in ("decision", "risk", "persistence", "execution"):
        assert scrape.value("trader_decision_stage_latency_ms_count", stage=stage) == 2
    assert scrape.value("trader_decision_stage_latency_ms_count", stage="model") == 0


def test_kill_switch_and_trading_state_follow_the_controls_at_once() -> None:
    desk, metrics = attached()
    desk.kill_switch.engage("test")
    scrape = Scrape(metrics)  # no sample needed: the risk event refreshed the controls
    assert scrape.value("trader_kill_switch_engaged") == 1
    assert scrape.value("trader_trading_state", state="HALTED") == 1
    assert scrape.value("trader_trading_state", state="ACTIVE") == 0

    quote(desk, "INFY")
    desk.engine.submit_signal(signal(desk, "INFY", "breakout", 0.5))
    scrape = Scrape(metrics)
    assert scrape.value("trader_decisions_total", status="REFUSED") == 1
    assert scrape.value("trader_entry_refusals_total", reason="KILL_SWITCH") == 1

    desk.kill_switch.release()
    metrics.sample()
    scrape = Scrape(metrics)
    assert scrape.value("trader_kill_switch_engaged") == 0
    assert scrape.value("trader_trading_state", state="ACTIVE") == 1


def test_a_tripped_breaker_shows_and_pauses() -> None:
    desk, metrics = attached()
    for n in range(desk.engine.limits.max_rejections):
        reject_one(desk, f"bad{n}")
    scrape = Scrape(metrics)
    assert scrape.value("trader_breaker_tripped", breaker="rejections") == 1
    assert scrape.value("trader_breaker_tripped", breaker="equity") == 0
    assert scrape.value("trader_trading_state", state="REDUCING") == 1
    rejected = desk.engine.limits.max_rejections
    assert scrape.value("trader_order_rejections_total", reason="INVALID_PRICE") == rejected


def test_no_label_carries_an_identifier() -> None:
    desk, metrics = attached()
    trade_a_session(desk)
    desk.engine.exit("INFY", f"operator flatten of {desk.oms.book.plan_of_open_trade('INFY')}")
    quote(desk, "INFY", "99")
    quote(desk, "INFY", "99")
    metrics.sample()
    scrape = Scrape(metrics)
    ids = set()
    for order in desk.oms.orders.values():
        ids |= {order.client_order_id, order.plan_id, order.venue_order_id, *order.fill_ids}
    ids.discard("")
    values = scrape.label_values()
    assert not any(i in v for i in ids for v in values)
    assert not any(re.search(r"[0-9a-f]{12,}", v) for v in values)
    assert scrape.value("trader_trades_total", strategy="breakout", side="BUY", exit_reason="other")
    series = [s for s in scrape.samples if not s.name.endswith(("_bucket", "_created"))]
    assert len(series) < 120  # a handful of series per family, whatever was traded


def test_open_vocabularies_stop_growing_at_their_limit() -> None:
    vocabulary = LabelVocabulary(limit=2)
    assert vocabulary("time exit") == "time_exit"
    assert vocabulary("stop") == "stop"
    assert vocabulary("target") == "other"  # full
    assert vocabulary("time exit") == "time_exit"  # known values still pass
    assert LabelVocabulary()("q3f9c2a1b0d4e5f6a7b8") == "other"
    assert LabelVocabulary()("") == "none"
    assert len(LabelVocabulary()("x" * 300)) == 40

    desk, metrics = attached(label_limit=1)
    trade_a_session(desk)
    desk.engine.exit("INFY", "another_reason")
    quote(desk, "INFY", "99")
    quote(desk, "INFY", "99")
    scrape = Scrape(metrics)  # one value each: breakout and time_exit came first
    assert scrape.value("trader_signal_strength_count", strategy="other") == 1  # sma_cross
    trades = {(s.labels["strategy"], s.labels["exit_reason"]): s.value
              for s in scrape.samples if s.name == "trader_trades_total"}  # fmt: skip
    assert trades == {("other", "time_exit"): 1, ("breakout", "other"): 1}


def test_stage_timer_loop_lag_and_reconnects() -> None:
    _, metrics = attached()
    with metrics.stage_timer("model"):
        pass
    metrics.observe_stage("features", 0.2)
    metrics.set_loop_lag(12.5)
    metrics.ws_reconnected()
    metrics.ws_reconnected()
    scrape = Scrape(metrics)
    assert scrape.value("trader_decision_stage_latency_ms_count", stage="model") == 1
    assert scrape.value("trader_decision_stage_latency_ms_sum", stage="features") == 0.2
    assert scrape.value("trader_engine_loop_lag_ms") == 12.5
    assert scrape.value("trader_ws_reconnects_total") == 2
    with pytest.raises(ValueError, match="unknown decision stage"):
        metrics.observe_stage("order_id_q123", 1.0)
    with pytest.raises(ValueError, match="unknown decision stage"), metrics.stage_timer("x"):
        pass


def test_each_desk_has_its_own_registry() -> None:
    first, one = attached()
    _, two = attached()
    quote(first, "INFY")
    first.engine.submit_signal(signal(first, "INFY", "breakout", 0.5))
    assert Scrape(one).value("trader_signal_strength_count", strategy="breakout") == 1
    assert "breakout" not in Scrape(two).label_values()
    assert not [n for n in REGISTRY._names_to_collectors if n.startswith("trader_")]


def test_attach_once_and_sample_after_attach() -> None:
    desk, metrics = attached()
    with pytest.raises(RuntimeError, match="already attached"):
        metrics.attach(desk)
    with pytest.raises(RuntimeError, match="attach"):
        DeskMetrics().sample()


def test_the_trading_states_are_the_risk_controls_own() -> None:
    assert set(TRADING_STATES) == {s.value for s in TradingState}
    assert set(STAGES) >= {"features", "model", "decision", "risk", "execution"}


def _exposed_names() -> set[str]:
    _, metrics = attached()
    metrics.sample()
    return Scrape(metrics).names


def test_the_grafana_dashboard_queries_metrics_that_exist() -> None:
    dashboard = json.loads((ROOT / "deploy/grafana/quantdesk.json").read_text())
    exprs = [t["expr"] for p in dashboard["panels"] for t in p.get("targets", [])]
    exprs += [v["definition"] for v in dashboard["templating"]["list"] if "definition" in v]
    used = {
        re.sub(r"_(bucket|sum|count)$", "", name)
        for expr in exprs
        for name in re.findall(r"\btrader_[a-z_]+", expr)
    }
    assert used <= _exposed_names(), used - _exposed_names()
    assert used >= REQUIRED, REQUIRED - used  # a panel for every family
    ids = [p["id"] for p in dashboard["panels"]]
    assert len(ids) == len(set(ids))


def test_the_scrape_config_covers_the_api_and_the_standalone_port() -> None:
    yaml = pytest.importorskip("yaml")
    config = yaml.safe_load((ROOT / "deploy/prometheus.yml").read_text())
    targets = {
        (job["metrics_path"], target)
        for job in config["scrape_configs"]
        for group in job["static_configs"]
        for target in group["targets"]
    }
    assert targets == {("/metrics", "127.0.0.1:8000"), ("/metrics", "127.0.0.1:9108")}


def test_every_bar_handed_to_the_engine_is_counted_whoever_hands_it() -> None:
    """Paper hands bars to `on_bar` one by one; backtests through `run_feed`: both count."""
    from decimal import Decimal

    from quantdesk.domain.market import Bar

    desk = paper_desk()
    engine = desk.engine
    minute = 60 * 10**9
    price = Decimal(100)

    def bar(i: int) -> Bar:
        return Bar("X", engine.now() + i * minute, price, price, price, price, Decimal(1), minute)

    engine.on_bar(bar(0))
    engine.on_bar(bar(1))
    assert engine.events_processed == 2
    engine.run_feed([bar(2), bar(3), bar(4)])
    assert engine.events_processed == 5
