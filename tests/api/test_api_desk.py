"""The API shows the desk as it is and steers it: state, risk banner, flatten, mode gate."""

from __future__ import annotations

from decimal import Decimal

from quantdesk.domain.time import ist_date
from tests.api.conftest import KEY, Api
from tests.testkit.paper import open_brackets, quote

D = Decimal
AUTH = {"X-API-Key": KEY}


def test_state_reports_positions_orders_and_heat_exactly(dev: Api) -> None:
    open_brackets(dev.desk, ["INFY", "TCS"])
    state = dev.client.get("/state").json()
    assert state["mode"] == "PAPER" and state["session_id"] == "2026-11-25-PAPER-SESSION"
    assert state["config_sha"] == dev.settings.config_sha
    assert {p["symbol"]: D(p["quantity"]) for p in state["positions"]} == {
        "INFY": 10,
        "TCS": 10,
    }
    assert D(state["heat"]) == dev.desk.engine.risk_state().heat == 2 * 10 * (D("100.05") - 95)
    legs = sorted(o["leg"] for o in state["open_orders"])
    assert legs == ["stop", "stop", "tp1", "tp1", "tp2", "tp2"]
    assert D(state["equity"]) == dev.desk.engine.equity()


def test_the_banner_turns_yellow_then_red_as_heat_rises(dev: Api) -> None:
    assert dev.client.get("/risk").json()["risk_banner_color"] == "green"
    # cap 20,000: each bracket risks 10 x 5.05 = 50.50 of heat; scale up the quantity
    from quantdesk.domain.enums import Side
    from tests.testkit.desk import decision

    dev.desk.oms.execute(decision("INFY", Side.BUY, "2000", stop="95", plan="big"), D(100))
    quote(dev.desk, "INFY")
    quote(dev.desk, "INFY")
    risk = dev.client.get("/risk").json()
    assert D(risk["heat"]) == 2000 * (D("100.05") - 95)  # 10,100 = 50.5% of the cap
    assert risk["risk_banner_color"] == "yellow"
    dev.desk.oms.execute(decision("TCS", Side.BUY, "1000", stop="95", plan="more"), D(100))
    quote(dev.desk, "TCS")
    quote(dev.desk, "TCS")
    assert dev.client.get("/risk").json()["risk_banner_color"] == "red"  # 75.75%


def test_flatten_engages_the_kill_switch_and_the_desk_goes_flat(dev: Api) -> None:
    open_brackets(dev.desk, ["INFY", "TCS", "SBIN"])
    response = dev.client.post("/flatten", json={"reason": "test"}, headers=AUTH)
    assert response.status_code == 200
    for symbol in ("INFY", "TCS", "SBIN"):
        quote(dev.desk, symbol)  # exits fill
    state = dev.client.get("/state").json()
    assert state["positions"] == [] and state["open_orders"] == []
    assert state["kill_switch"] is True and state["trading_state"] == "HALTED"
    resumed = dev.client.post("/resume", json={}, headers=AUTH).json()
    assert resumed["still_blocking"] == ["kill_switch"]  # a plain resume does not release it
    released = dev.client.post("/resume", json={"release_kill_switch": True}, headers=AUTH)
    assert released.json()["ok"] is True
    assert dev.client.get("/risk").json()["trading_state"] == "ACTIVE"


def test_cancel_all_cancels_orders_but_a_held_position_keeps_a_stop(dev: Api) -> None:
    open_brackets(dev.desk, ["INFY"])
    assert dev.client.post("/orders/cancel-all", headers=AUTH).json()["detail"].startswith("3 ")
    quote(dev.desk, "INFY")
    quote(dev.desk, "INFY")
    # targets gone; the watcher re-placed the stop: a position is never left unprotected
    # (the operator flattens to exit)
    orders = dev.client.get("/orders").json()
    assert [(o["leg"].split(".")[0], D(o["trigger_price"])) for o in orders] == [("stop", 95)]
    assert [p["symbol"] for p in dev.client.get("/positions").json()] == ["INFY"]


def test_the_live_gate_refuses_and_audits_every_attempt(dev: Api) -> None:
    day = ist_date(dev.desk.engine.now()).isoformat()
    wrong_phrase = dev.client.post(
        "/mode", json={"mode": "LIVE", "confirmation": "GO LIVE"}, headers=AUTH
    ).json()
    assert wrong_phrase["granted"] is False and wrong_phrase["mode"] == "PAPER"
    assert any("SAFE_MODE" in r for r in wrong_phrase["reasons"])
    assert any(f"GO LIVE {day}" in r for r in wrong_phrase["reasons"])
    right = dev.client.post(
        "/mode", json={"mode": "LIVE", "confirmation": f"GO LIVE {day}"}, headers=AUTH
    ).json()
    assert right["granted"] is False  # SAFE_MODE still on (and this is the paper venue)
    audit = dev.client.get("/audit", params={"limit": 20}).json()
    assert [r["action"] for r in audit].count("mode.live_refused") == 2


def test_agent_stop_keeps_protection_but_silences_strategies(dev: Api) -> None:
    status = dev.client.post("/agent/stop", headers=AUTH).json()
    assert status["running"] is False
    assert dev.desk.engine._by_symbol == {}
    assert dev.client.post("/agent/start", headers=AUTH).json()["running"] is True


def test_openapi_document_lists_every_endpoint(dev: Api) -> None:
    paths = set(dev.client.get("/openapi.json").json()["paths"])
    assert {
        "/health",
        "/state",
        "/risk",
        "/signals",
        "/orders",
        "/positions",
        "/trades",
        "/audit",
        "/pause",
        "/resume",
        "/flatten",
        "/orders/cancel-all",
        "/mode",
        "/agent/status",
        "/agent/start",
        "/agent/stop",
        "/agent/run-once",
        "/metrics",
    } <= paths


def test_health_is_ready_with_the_database(dev: Api) -> None:
    health = dev.client.get("/health").json()
    assert health["live"] and health["ready"]
    assert health["checks"]["database"]["ok"] is True
