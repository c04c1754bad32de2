"""Persistence on SQLite and PostgreSQL: migrations, the audit chain, idempotency."""

from __future__ import annotations

from decimal import Decimal

import pytest
from alembic.autogenerate import compare_metadata
from alembic.runtime.migration import MigrationContext
from sqlalchemy import Engine, inspect, select
from sqlalchemy.exc import IntegrityError

from quantdesk.domain import (
    Decision,
    DecisionStatus,
    Fill,
    Order,
    OrderType,
    Position,
    RiskEvent,
    Severity,
    Side,
    Signal,
)
from quantdesk.domain.errors import DuplicatePlan
from quantdesk.domain.ids import client_order_id
from quantdesk.domain.order import OrderAccepted, OrderFilled, OrderSubmitted
from quantdesk.storage import migrate
from quantdesk.storage.db import session_factory
from quantdesk.storage.journal import Journal, Provenance
from quantdesk.storage.models import (
    AuditLogRow,
    Base,
    DecisionRow,
    FillRow,
    OrderRow,
    PositionRow,
    RiskEventRow,
    SignalRow,
    TradeRow,
)
from quantdesk.storage.queries import audit_tail, trade_chain

D = Decimal
T0 = 1_764_000_000_000_000_000  # ns
SESSION = Provenance(session_id="2026-11-25-PAPER-SESSION", config_sha="ab" * 32)
TABLES = {
    "instruments",
    "candles",
    "signals",
    "decisions",
    "orders",
    "fills",
    "positions",
    "trades",
    "risk_events",
    "audit_log",
}


@pytest.fixture
def migrated(any_engine: Engine) -> Engine:
    migrate.upgrade(any_engine)
    return any_engine


def test_migrations_run_up_and_down_cleanly(any_engine: Engine) -> None:
    migrate.upgrade(any_engine)
    assert set(inspect(any_engine).get_table_names()) >= TABLES
    assert migrate.current_revision(any_engine) == migrate.head_revision(any_engine)
    migrate.downgrade(any_engine, "base")
    assert set(inspect(any_engine).get_table_names()) & TABLES == set()
    assert migrate.current_revision(any_engine) is None
    migrate.upgrade(any_engine)
    assert set(inspect(any_engine).get_table_names()) >= TABLES


def test_models_and_migration_head_agree(migrated: Engine) -> None:
    with migrated.connect() as connection:
        context = MigrationContext.configure(connection, opts={"compare_type": True})
        assert compare_metadata(context, Base.metadata) == []


def _signal() -> Signal:
    return Signal(
        "intraday_breakout",
        "RELIANCE",
        Side.BUY,
        T0,
        entry=D("2450.05"),
        stop_loss=D("2431.60"),
        targets=(D("2480.10"), D("2505.55")),
        strength=0.71,
        rationale="daily up, 15m breakout",
        features={"atr": 12.4},
    )


def _decision(signal: Signal, quantity: str = "12") -> Decision:
    return Decision(
        plan_id=signal.plan_id,
        correlation_id=signal.correlation_id,
        symbol=signal.symbol,
        side=signal.side,
        quantity=D(quantity),
        ts=T0 + 1,
        status=DecisionStatus.APPROVED,
        entry_price=signal.entry,
        stop_loss=signal.stop_loss,
        targets=signal.targets,
        risk_amount=D("221.40"),
    )


def _filled_order(plan: str, leg: str, side: Side, qty: str, price: str, ts: int) -> Order:
    order = Order(
        client_order_id(plan, leg),
        "RELIANCE",
        side,
        OrderType.MARKET,
        D(qty),
        plan_id=plan,
        leg=leg,
    )
    order.apply(OrderSubmitted(ts))
    order.apply(OrderAccepted(ts, f"V-{leg}"))
    order.apply(
        OrderFilled(
            ts,
            Fill(
                f"X-{leg}",
                order.client_order_id,
                "RELIANCE",
                side,
                D(qty),
                D(price),
                ts,
                fee=D("11.03"),
            ),
        )
    )
    return order


def _run_chain(journal: Journal) -> str:
    """signal -> decision -> entry order -> fill -> exit order -> fill -> closed trade."""
    signal = _signal()
    journal.record_signal(signal)
    journal.record_decision(_decision(signal), mode="PAPER")
    position = Position("RELIANCE")
    trades = []
    for leg, side, price, ts in (
        ("entry", Side.BUY, "2450.10", T0 + 2),
        ("tp2", Side.SELL, "2505.55", T0 + 3),
    ):
        order = _filled_order(signal.plan_id, leg, side, "12", price, ts)
        journal.record_order(order, ts, signal.correlation_id)
        [fill] = [e.fill for e in order.events if isinstance(e, OrderFilled)]
        trade_uid = position.open_trade_id
        trades += position.apply(fill)
        if position.open_trade is not None:  # the trade row exists before its fills
            journal.record_open_trade(
                position.open_trade, signal.plan_id, ts, signal.correlation_id
            )
        journal.record_fill(fill, trade_uid or position.open_trade_id, signal.correlation_id)
        journal.save_position("NSE", position, ts)
    [trade] = trades
    journal.record_trade(
        trade,
        signal.plan_id,
        slippage_bps=D("0.2041"),
        latency_ms=41.5,
        correlation_id=signal.correlation_id,
    )
    journal.flush()
    return trade.trade_id


@pytest.mark.parametrize("batch_size", [1, 10_000])
def test_audit_chain_round_trip(migrated: Engine, batch_size: int) -> None:
    trade_uid = _run_chain(Journal(migrated, SESSION, batch_size=batch_size))
    chain = trade_chain(migrated, trade_uid)
    signal = _signal()
    assert chain.signal.correlation_id == signal.correlation_id
    assert chain.signal.targets == ["2480.10", "2505.55"]
    assert chain.decision.client_plan_id == signal.plan_id
    assert [o.leg for o in chain.orders] == ["entry", "tp2"]
    assert [o.status for o in chain.orders] == ["FILLED", "FILLED"]
    assert [f.price for f in chain.fills] == [D("2450.10"), D("2505.55")]
    assert chain.trade.status == "CLOSED"
    assert chain.trade.pnl == D("665.40")  # (2505.55 - 2450.10) x 12, exact
    assert chain.trade.fees == D("22.06") and chain.trade.net_pnl == D("643.34")
    assert chain.trade.slippage_bps == D("0.2041") and chain.trade.latency_ms == 41.5
    assert chain.trade.entry_ts.tzinfo is not None
    actions = [row.action for row in chain.audit]
    assert actions == [
        "signal",
        "decision.approved",
        "order.filled",
        "trade.open",
        "fill",
        "order.filled",
        "fill",
        "trade.closed",
    ]
    for row in [
        *chain.audit,
        chain.signal,
        chain.decision,
        chain.trade,
        *chain.orders,
        *chain.fills,
    ]:
        assert (row.session_id, row.config_sha) == (SESSION.session_id, SESSION.config_sha)
    with session_factory(migrated)() as db:
        saved = db.scalars(select(PositionRow)).one()
        assert saved.quantity == 0 and saved.realised_pnl == D("665.40")
        assert len(db.scalars(select(TradeRow)).all()) == 1


def test_write_through_commits_before_returning(migrated: Engine) -> None:
    """Nothing lost on a crash: with batch_size=1 each record is durable on return."""
    journal = Journal(migrated, SESSION)
    signal = _signal()
    journal.record_signal(signal)
    rows = audit_tail(migrated, SESSION.session_id)
    assert [r.action for r in rows] == ["signal"]


def test_open_trade_is_visible_before_it_closes(migrated: Engine) -> None:
    journal = Journal(migrated, SESSION)
    signal = _signal()
    journal.record_signal(signal)
    journal.record_decision(_decision(signal), mode="PAPER")
    order = _filled_order(signal.plan_id, "entry", Side.BUY, "12", "2450.10", T0 + 2)
    journal.record_order(order, T0 + 2)
    [fill] = [e.fill for e in order.events if isinstance(e, OrderFilled)]
    position = Position("RELIANCE")
    position.apply(fill)
    journal.record_open_trade(position.open_trade, signal.plan_id, T0 + 2)
    journal.record_fill(fill, position.open_trade_id)
    with session_factory(migrated)() as db:
        trade = db.scalars(select(TradeRow)).one()
        assert (trade.status, trade.quantity, trade.exit_price) == ("OPEN", 12, None)
        assert db.scalars(select(FillRow)).one().trade_uid == trade.trade_uid


def test_duplicate_plan_is_refused_not_duplicated(migrated: Engine) -> None:
    journal = Journal(migrated, SESSION)
    signal = _signal()
    journal.record_signal(signal)
    journal.record_decision(_decision(signal), mode="PAPER")
    with pytest.raises(DuplicatePlan):
        journal.record_decision(_decision(signal, quantity="99"), mode="PAPER")
    # a fresh writer (a restarted process) is refused by the database itself
    with pytest.raises(DuplicatePlan):
        Journal(migrated, SESSION).record_decision(_decision(signal, quantity="7"), mode="PAPER")
    rows = audit_tail(migrated, SESSION.session_id)
    assert [r.action for r in rows] == ["signal", "decision.approved"]
    with session_factory(migrated)() as db:
        [decision] = db.scalars(select(DecisionRow)).all()
        assert decision.quantity == 12


def test_order_rows_are_unique_by_client_order_id(migrated: Engine) -> None:
    journal = Journal(migrated, SESSION)
    signal = _signal()
    journal.record_signal(signal)
    journal.record_decision(_decision(signal), "PAPER")
    order = Order(
        client_order_id(signal.plan_id, "entry"),
        "RELIANCE",
        Side.BUY,
        OrderType.LIMIT,
        D(12),
        plan_id=signal.plan_id,
        limit_price=D("2450.05"),
    )
    journal.record_order(order, T0)
    order.apply(OrderSubmitted(T0 + 1))
    journal.record_order(order, T0 + 1)
    with session_factory(migrated)() as db:
        [row] = db.scalars(select(OrderRow)).all()
        assert row.status == "SUBMITTED" and row.limit_price == D("2450.05")


def test_fill_reported_twice_is_stored_once(migrated: Engine) -> None:
    journal = Journal(migrated, SESSION)
    signal = _signal()
    journal.record_signal(signal)
    journal.record_decision(_decision(signal), "PAPER")
    order = _filled_order(signal.plan_id, "entry", Side.BUY, "12", "2450.10", T0)
    journal.record_order(order, T0)
    [fill] = [e.fill for e in order.events if isinstance(e, OrderFilled)]
    journal.record_fill(fill, None)
    journal.record_fill(fill, None)
    Journal(migrated, SESSION).record_fill(fill, None)  # after a restart too
    with session_factory(migrated)() as db:
        assert len(db.scalars(select(FillRow)).all()) == 1


def test_exact_decimals_survive_storage(migrated: Engine) -> None:
    journal = Journal(migrated, SESSION)
    signal = Signal(
        "s", "BTCUSDT", Side.BUY, T0, entry=D("98765.43210987"), stop_loss=D("0.00000001")
    )
    journal.record_signal(signal)
    with session_factory(migrated)() as db:
        row = db.scalars(select(SignalRow)).one()
        assert row.entry == D("98765.43210987") and row.stop_loss == D("0.00000001")


def test_secrets_never_reach_audit_payloads(migrated: Engine) -> None:
    journal = Journal(migrated, SESSION)
    journal.record_action(
        ts=T0,
        actor="operator",
        action="operator.mode",
        payload={
            "api_key": "s3cret",
            "upstox": {"access_token": "tok-9f8e"},
            "confirm": "GO LIVE 2026-11-25",
        },
    )
    journal.record_risk_event(
        RiskEvent(T0, "LIVE_GATE", Severity.WARNING, "refused", details={"password": "pw-77a1"})
    )
    with session_factory(migrated)() as db:
        payloads = [str(r.payload) for r in db.scalars(select(AuditLogRow))]
        payloads += [str(r.details) for r in db.scalars(select(RiskEventRow))]
    text = " ".join(payloads)
    assert "s3cret" not in text and "tok-9f8e" not in text and "pw-77a1" not in text
    assert "GO LIVE 2026-11-25" in text


def test_audit_tail_filters_by_session(migrated: Engine) -> None:
    for session in ("2026-11-24-PAPER-SESSION", "2026-11-25-PAPER-SESSION"):
        Journal(migrated, Provenance(session, "cd" * 32)).record_action(
            ts=T0, actor="operator", action="operator.pause", payload={}
        )
    rows = audit_tail(migrated, "2026-11-24-PAPER-SESSION")
    assert [r.session_id for r in rows] == ["2026-11-24-PAPER-SESSION"]
    assert len(audit_tail(migrated)) == 2


def test_foreign_keys_are_enforced(migrated: Engine) -> None:
    """A fill cannot name an order or a trade that does not exist, on either backend."""
    journal = Journal(migrated, SESSION)
    orphan = Fill("X-1", "q-missing", "RELIANCE", Side.BUY, D(1), D(100), T0)
    with pytest.raises(IntegrityError):
        journal.record_fill(orphan, "t-missing")
