"""Alerts: what the desk publishes becomes the right alert; min level, cooldowns (also across
a restart), a failing sender and a full queue never reach the engine."""

from __future__ import annotations

import logging
import threading
from datetime import date
from decimal import Decimal

import pytest
from sqlalchemy import select

from quantdesk.config import RiskLimits
from quantdesk.domain.enums import Mode, Severity
from quantdesk.domain.errors import Rejected
from quantdesk.domain.risk_event import RiskEvent
from quantdesk.domain.time import NS_PER_DAY, NS_PER_S
from quantdesk.engine.bus import Bus
from quantdesk.obs.alert_cooldown import Cooldowns
from quantdesk.obs.alert_rules import EquityWatch, risk_alert
from quantdesk.obs.alerts import Alert, AlertRouter
from quantdesk.risk.controls import RiskControls
from quantdesk.risk.live_gate import ModeSwitch, confirmation_phrase
from quantdesk.storage import migrate
from quantdesk.storage.models import AlertCooldownRow
from tests.testkit.desk import decision, scripted_desk
from tests.testkit.paper import open_brackets, paper_desk, quote

D = Decimal
T0 = 1_764_000_000_000_000_000
HOUR = 3600 * NS_PER_S


class Clock:
    def __init__(self, t: int = T0) -> None:
        self.t = t

    def __call__(self) -> int:
        return self.t


class Recorder:
    """A sender that keeps what it was given; optionally fails, or waits for a gate."""

    name = "recorder"

    def __init__(self, fail: bool = False, gate: threading.Event | None = None) -> None:
        self.fail = fail
        self.gate = gate
        self.texts: list[str] = []
        self.entered = threading.Event()
        self.closed = False

    def send(self, text: str) -> None:
        self.entered.set()
        if self.gate is not None:
            assert self.gate.wait(5)
        if self.fail:
            raise RuntimeError("service on fire")
        self.texts.append(text)

    def scrub(self, text: str) -> str:
        return text

    def close(self) -> None:
        self.closed = True


class Capturing(AlertRouter):
    """Remembers every alert raised, whatever became of it."""

    def __init__(self, *args, **kwargs) -> None:
        super().__init__(*args, **kwargs)
        self.raised: list[Alert] = []

    def raise_alert(self, alert: Alert) -> bool:
        self.raised.append(alert)
        return super().raise_alert(alert)

    def raised_keys(self) -> list[tuple[str, Severity]]:
        return [(a.key, a.level) for a in self.raised]


def router(
    *senders, min_level=Severity.INFO, cooldown_s=3600, clock=None, engine=None, **kw
) -> Capturing:
    cooldowns = Cooldowns(cooldown_s, engine)
    clock = clock or Clock()
    cooldowns.load(clock())
    return Capturing(
        senders or (Recorder(),),
        cooldowns,
        min_level=min_level,
        equity=EquityWatch(D(1_000_000), D(2), D(100_000)),
        now=clock,
        **kw,
    )


def alert(key: str = "k", level: Severity = Severity.WARNING, ts: int = T0) -> Alert:
    return Alert(key, level, "title", "detail", ts)


# -- what maps to what, from the producers themselves ---------------------------------


def test_breaker_trips_and_recovery_from_the_risk_controls() -> None:
    events: list[RiskEvent] = []
    limits = RiskLimits()
    controls = RiskControls(limits, emit=lambda c, s, m: events.append(RiskEvent(T0, c, s, m)))
    for n in range(limits.max_rejections):
        controls.on_rejection(T0 + n)
    for n in range(limits.max_consecutive_failures):
        controls.on_execution(T0 + n, failed=True)
    controls.on_equity(T0, D(1_000_000))
    controls.on_equity(T0 + 1, D(950_000))  # 5% from the day's peak
    controls.on_market_data(T0)
    stale = T0 + (limits.feed_stale_s + 1) * NS_PER_S
    controls.check_feed(stale)
    for s in range(limits.feed_quiet_s + 2):  # fresh data through the quiet period
        controls.on_market_data(stale + s * NS_PER_S)
    controls.resume(stale + HOUR)

    mapped = [risk_alert(e) for e in events]
    got = [(a.key, a.level) for a in mapped if a is not None]
    assert got == [
        ("breaker:rejections", Severity.CRITICAL),  # the rejection storm
        ("breaker:execution_failures", Severity.CRITICAL),
        ("breaker:equity", Severity.CRITICAL),
        ("data_stale", Severity.CRITICAL),
        ("data_stale:recovered", Severity.WARNING),
        ("trading_state", Severity.WARNING),  # the operator's resume: entries again
    ]
    assert {e.code for e in events} >= {"TRADING_REDUCING", "BREAKER_RECOVERED"}
    storm = next(a for a in mapped if a is not None)
    assert storm.title == "Rejection storm: entries paused"
    assert "5 rejections within 10 min" in storm.detail


@pytest.mark.parametrize(
    ("code", "severity", "symbol", "expected"),
    [
        ("NAKED_POSITION", Severity.CRITICAL, "INFY", ("risk:NAKED_POSITION:INFY", "CRITICAL")),
        (
            "CALENDAR_REFRESH_FAILED",
            Severity.WARNING,
            None,
            ("risk:CALENDAR_REFRESH_FAILED", "WARNING"),
        ),
        ("KILL_SWITCH", Severity.CRITICAL, None, None),  # the engage action tells it
        ("ORDER_REJECTED", Severity.WARNING, "INFY", None),  # lifecycle + breaker tell it
        ("TRADING_HALTED", Severity.WARNING, None, None),
        ("QUOTE_CLEAN", Severity.INFO, None, None),
    ],
)
def test_other_risk_events(code, severity, symbol, expected) -> None:
    mapped = risk_alert(RiskEvent(T0, code, severity, "what happened", symbol))
    assert (None if mapped is None else (mapped.key, mapped.level.value)) == expected


def test_kill_switch_engage_and_flat_from_a_paper_desk() -> None:
    desk = paper_desk()
    r = router()
    r.attach(desk.engine.bus)
    open_brackets(desk, ["INFY", "TCS"])
    r.raised.clear()  # the entries' own lifecycle messages

    desk.kill_switch.engage("news", actor="ops")
    for symbol in ("INFY", "TCS"):
        quote(desk, symbol, "99")
    desk.engine.drain(None)
    desk.kill_switch.release(actor="ops")

    lifecycle = [k for k in r.raised_keys() if k[0].startswith("trade:")]
    assert [k for k in r.raised_keys() if not k[0].startswith("trade:")] == [
        ("kill_switch", Severity.CRITICAL),
        ("kill_switch:flat", Severity.WARNING),
        ("trading_state", Severity.WARNING),  # entries allowed again
        ("kill_switch:release", Severity.WARNING),
    ]
    assert ("trade:p0:closed", Severity.INFO) in lifecycle
    engage = r.raised[0]
    assert engage.detail == "by ops: news; cancelling orders, flattening INFY 10, TCS 10"
    closed = next(a for a in r.raised if a.key == "trade:p0:closed")
    assert closed.title == "Trade closed (kill_switch): INFY"
    r.close(1)


def test_live_gate_granted_and_refused() -> None:
    engine, _, _ = scripted_desk()
    r = router()
    r.attach(engine.bus)
    switch = ModeSwitch(Mode.PAPER, engine.record_action)
    day = date(2025, 11, 24)
    ask = {"safe_mode": False, "configured_key": "k3y-s3cret", "session_day": day}
    switch.request_live(**ask, given_key="wrong", phrase=confirmation_phrase(day))
    switch.request_live(**ask, given_key="k3y-s3cret", phrase=confirmation_phrase(day))
    assert r.raised_keys() == [
        ("live_gate:refused", Severity.WARNING),
        ("live_gate", Severity.CRITICAL),
    ]
    assert "API key missing or wrong" in r.raised[0].detail
    assert r.raised[1].detail == "by operator for 2025-11-24: real orders from now on"
    assert not any("k3y-s3cret" in a.detail for a in r.raised)
    r.close(1)


def test_trade_lifecycle_placed_filled_partial_target_then_target() -> None:
    engine, venue, oms = scripted_desk()
    r = router()
    r.attach(engine.bus)
    entry = oms.execute(decision(qty="10", stop="95", targets=("105", "110")), D("100"))
    engine.drain(None)
    venue.fill(entry.client_order_id, "10", "100.05")
    engine.drain(None)
    tp1, tp2 = (next(o for o in oms.open_orders() if o.leg == leg) for leg in ("tp1", "tp2"))
    venue.fill(tp1.client_order_id, "5", "105")
    engine.drain(None)
    venue.fill(tp2.client_order_id, "5", "110")
    engine.drain(None)

    assert r.raised_keys() == [
        ("trade:p1:placed", Severity.INFO),
        ("trade:p1:filled", Severity.INFO),
        ("trade:p1:tp1", Severity.INFO),
        ("trade:p1:target", Severity.INFO),
    ]
    placed, filled, tp1_hit, target = r.raised
    assert placed.title == "Order placed: INFY" and placed.detail == "BUY 10 MARKET"
    assert filled.detail == "BUY 10 MARKET; filled 10 @ 100.05"
    assert tp1_hit.title == "Target 1 hit: INFY"
    assert tp1_hit.detail == "SELL 5 LIMIT 105 (tp1); filled 5 @ 105; 5 of 10 still open"
    assert target.title == "Target hit: INFY"
    assert target.detail == "long 10: entry 100.05, exit 107.5; net P&L 74.50 (fees 0.00)"
    r.close(1)


def test_stop_hit_and_rejected_entry() -> None:
    engine, venue, oms = scripted_desk()
    r = router()
    r.attach(engine.bus)
    entry = oms.execute(decision(qty="10", stop="95", plan="p1"), D("100"))
    engine.drain(None)
    venue.fill(entry.client_order_id, "10", "100")
    engine.drain(None)
    stop = next(o for o in oms.open_orders() if o.leg == "stop")
    venue.fill(stop.client_order_id, "10", "94.95")
    engine.drain(None)
    venue.submit_script.append(Rejected("MARGIN", "insufficient funds"))
    oms.execute(decision(qty="3", plan="p2"), D("100"))
    engine.drain(None)

    assert r.raised_keys()[2:] == [
        ("trade:p1:stop", Severity.INFO),
        ("trade:p2:rejected", Severity.WARNING),
    ]
    stopped, rejected = r.raised[2:]
    assert stopped.title == "Stop hit: INFY"
    assert stopped.detail == "long 10: entry 100, exit 94.95; net P&L -50.50 (fees 0.00)"
    assert rejected.detail == "BUY 3 MARKET; MARGIN: insufficient funds"
    r.close(1)


def test_drawdown_and_low_balance_from_the_runners_equity() -> None:
    watch = EquityWatch(D(1_000_000), D(2), D(100_000))
    assert watch.check(T0, D(1_000_000)) == []
    assert watch.check(T0 + 1, D(1_010_000)) == []  # a new peak
    assert watch.check(T0 + 2, D(990_000)) == []  # 2.00% of capital: not beyond
    (drawdown,) = watch.check(T0 + 3, D("989999.99"))
    assert (drawdown.key, drawdown.level) == ("drawdown", Severity.WARNING)
    assert drawdown.title == "Drawdown 2.00% of capital today"  # 2.000001, shown rounded
    assert "equity 989999.99 is 20000.01 below today's peak 1010000.00" in drawdown.detail
    assert watch.check(T0 + NS_PER_DAY, D(989_000)) == []  # a new IST day, a new peak
    keys = [a.key for a in watch.check(T0 + NS_PER_DAY + 1, D("99999.5"))]
    assert keys == ["drawdown", "low_balance"]


# -- min level, cooldown, restart ---------------------------------------------------


def test_min_level_filters_below_it() -> None:
    recorder = Recorder()
    r = router(recorder, min_level=Severity.WARNING)
    assert not r.raise_alert(alert("a", Severity.INFO))
    assert r.raise_alert(alert("b", Severity.WARNING))
    assert r.raise_alert(alert("c", Severity.CRITICAL))
    r.close(2)
    assert r.filtered == 1 and r.sent == 2
    assert [t.split("\n")[0] for t in recorder.texts] == ["WARNING: title", "CRITICAL: title"]


def test_cooldown_holds_back_a_repeat_then_lets_it_through_with_the_count() -> None:
    clock = Clock()
    recorder = Recorder()
    r = router(recorder, clock=clock, cooldown_s=3600)
    assert r.raise_alert(alert("breaker:rejections"))
    clock.t += HOUR - 1
    assert not r.raise_alert(alert("breaker:rejections"))
    assert not r.raise_alert(alert("breaker:rejections"))
    assert r.raise_alert(alert("other"))  # another key has its own cooldown
    clock.t += 1
    assert r.raise_alert(alert("breaker:rejections"))
    r.close(2)
    assert r.suppressed == 2
    assert len(recorder.texts) == 3
    assert recorder.texts[-1].endswith("(2 similar alerts held back since the last one)")


def test_a_worse_alert_passes_a_running_cooldown() -> None:
    r = router()
    assert r.raise_alert(alert("drawdown", Severity.WARNING))
    assert r.raise_alert(alert("drawdown", Severity.CRITICAL))
    assert not r.raise_alert(alert("drawdown", Severity.WARNING))
    assert not r.raise_alert(alert("drawdown", Severity.CRITICAL))
    r.close(2)


def test_cooldown_survives_a_restart(any_engine) -> None:
    """A SQLite file in tmp_path (and PostgreSQL when it is up): a new router and store
    on the same database is the restart."""
    migrate.upgrade(any_engine)
    clock = Clock()
    first = router(clock=clock, engine=any_engine)
    assert first.raise_alert(alert("kill_switch", Severity.CRITICAL))
    first.close(2)

    clock.t += HOUR // 2
    second_sender = Recorder()
    second = router(second_sender, clock=clock, engine=any_engine)  # a new process
    assert not second.raise_alert(alert("kill_switch", Severity.CRITICAL))
    second.close(2)
    with any_engine.connect() as connection:
        row = connection.execute(select(AlertCooldownRow.__table__)).one()
    assert (row.key, row.last_sent_ts, row.level, row.count_suppressed) == (
        "kill_switch",
        T0,
        "CRITICAL",
        1,
    )

    clock.t += HOUR // 2
    third_sender = Recorder()
    third = router(third_sender, clock=clock, engine=any_engine)
    assert third.raise_alert(alert("kill_switch", Severity.CRITICAL))
    third.close(2)
    assert second_sender.texts == []
    assert third_sender.texts[0].endswith("(1 similar alert held back since the last one)")


def test_ended_cooldowns_are_deleted_but_a_held_back_count_waits_a_day(sqlite_engine) -> None:
    migrate.upgrade(sqlite_engine)
    saved = Cooldowns(3600, sqlite_engine)
    assert saved.admit("quiet", Severity.WARNING, T0) == 0
    assert saved.admit("noisy", Severity.WARNING, T0) == 0
    assert saved.admit("noisy", Severity.WARNING, T0 + 1) is None
    assert saved.flush(T0 + 1)
    assert Cooldowns(3600, sqlite_engine).load(T0 + HOUR - 1) == 2
    later = Cooldowns(3600, sqlite_engine)
    assert later.load(T0 + HOUR) == 1  # "quiet" ended with nothing held back: deleted
    assert later.admit("noisy", Severity.WARNING, T0 + HOUR) == 1  # reports the count
    assert Cooldowns(3600, sqlite_engine).load(T0 + HOUR + NS_PER_DAY) == 0


def test_cooldowns_without_the_table_still_work_in_memory(sqlite_engine, caplog) -> None:
    r = router(engine=sqlite_engine)  # not migrated: no alert_cooldowns table
    assert r.raise_alert(alert("a"))
    assert not r.raise_alert(alert("a"))
    r.close(2)
    assert r.sent == 1
    assert "alert cooldowns not saved" in caplog.text


# -- nothing reaches the engine -------------------------------------------------------


def test_a_raising_sender_never_reaches_the_publisher(caplog) -> None:
    bus = Bus()
    broken, working = Recorder(fail=True), Recorder()
    r = router(broken, working)
    r.attach(bus)
    bus.publish("risk", RiskEvent(T0, "BREAKER_REJECTIONS", Severity.CRITICAL, "5 rejections"))
    r.close(2)
    assert (r.failed, r.sent) == (1, 1)
    assert len(working.texts) == 1  # the other sender still delivered
    assert "alert breaker:rejections not delivered by recorder: RuntimeError" in caplog.text
    assert broken.closed and working.closed


def test_events_of_an_unexpected_shape_are_skipped_and_counted(caplog) -> None:
    bus = Bus()
    r = router()
    r.attach(bus)
    bus.publish("action", "not a tuple")
    bus.publish("risk", object())
    bus.publish("order", None)
    bus.publish("trade", 42)
    r.on_equity(T0, "a string")  # type: ignore[arg-type]
    assert r.errors == 5
    assert caplog.text.count("alerts skip") == 5
    r.close(1)


def test_a_full_queue_drops_the_least_severe_and_counts_it() -> None:
    gate = threading.Event()
    recorder = Recorder(gate=gate)
    r = router(recorder, max_queue=3)
    assert r.raise_alert(alert("held", Severity.WARNING))
    assert recorder.entered.wait(5)  # the worker is stuck in that send
    for n in range(3):
        assert r.raise_alert(alert(f"info{n}", Severity.INFO))
    assert not r.raise_alert(alert("info3", Severity.INFO))  # full of equals: the new one goes
    assert r.raise_alert(alert("kill", Severity.CRITICAL))  # pushes out the oldest INFO
    assert r.dropped == 2 and r.queued == 3
    gate.set()
    r.close(5)
    assert [t.split("\n")[0] for t in recorder.texts] == [
        "WARNING: title",
        "INFO: title",
        "INFO: title",
        "CRITICAL: title",
    ]
    assert r.sent == 4 and r.dropped == 2


def test_close_stops_taking_alerts_and_a_router_without_senders_does_nothing() -> None:
    r = router()
    r.close(1)
    assert not r.raise_alert(alert("late"))
    assert r.dropped == 1
    silent = AlertRouter([], Cooldowns(3600))
    bus = Bus()
    silent.attach(bus)
    assert not bus.has_subscribers("risk")
    assert not silent.raise_alert(alert("x", Severity.CRITICAL))
    silent.close(0.1)


def test_alert_text_is_short_with_ist_time_and_exact_numbers(caplog) -> None:
    caplog.set_level(logging.DEBUG)
    text = Alert("k", Severity.CRITICAL, "Kill switch engaged", "by ops: news", T0).text(
        "quantdesk PAPER SESSION", 3
    )
    assert text == (
        "CRITICAL: Kill switch engaged\n"
        "by ops: news\n"
        "2025-11-24 21:30:00 IST · quantdesk PAPER SESSION\n"
        "(3 similar alerts held back since the last one)"
    )
