"""Restart recovery: the order manager comes back from the database and reconciles
with the venue (which outlives the process) without duplicating or losing anything."""

from __future__ import annotations

from dataclasses import replace
from decimal import Decimal

import pytest
from sqlalchemy import select

from quantdesk.domain.order import OrderStatus
from quantdesk.storage import migrate
from quantdesk.storage.db import make_engine, session_factory
from quantdesk.storage.journal import Journal, Provenance
from quantdesk.storage.models import FillRow, OrderRow, TradeRow
from quantdesk.storage.restore import load_state
from quantdesk.venues.base import OrderSnapshot
from tests.testkit.desk import decision, scripted_desk

S = OrderStatus
D = Decimal
SESSION = Provenance("2026-11-25-PAPER-SESSION", "ab" * 32)


@pytest.fixture
def db(tmp_path):
    engine = make_engine(f"sqlite:///{tmp_path / 'qd.db'}")
    migrate.upgrade(engine)
    return engine


def start(db, venue=None):
    """A desk process: engine + order manager writing through to the database."""
    journal = Journal(db, SESSION)
    engine, fresh_venue, oms = scripted_desk(journal=journal)
    if venue is not None:  # the broker outlives our process
        venue.engine = engine
        oms.venue = venue
        engine.venue = venue
    return engine, venue or fresh_venue, oms, journal


def restart(db, venue):
    engine, venue, oms, _journal = start(db, venue)
    state = load_state(db, venue.name)
    oms.restore(state.orders, state.decisions, state.positions, state.open_trade_plans)
    return engine, oms


def place(oms, journal, **kwargs):
    plan = decision(**kwargs)
    from quantdesk.domain.signal import Signal

    signal = Signal("test", plan.symbol, plan.side, plan.ts)
    journal.record_signal(signal)
    plan = replace(plan, correlation_id=signal.correlation_id)
    journal.record_decision(plan, "PAPER")
    return oms.execute(plan, D("100"))


def rows(db, model):
    with session_factory(db)() as s:
        return s.scalars(select(model)).all()


def test_order_in_flight_survives_a_restart_without_a_duplicate(db) -> None:
    engine, venue, oms, journal = start(db)
    entry = place(oms, journal, qty="10", stop="95", targets=("105", "110"))
    engine.drain(None)
    assert entry.status is S.ACCEPTED
    # -- the process dies here; the venue still holds the order --
    venue.query_script.append(OrderSnapshot(entry.client_order_id, "V1", S.ACCEPTED, D(0), None))
    engine2, oms2 = restart(db, venue)
    engine2.drain(None)
    restored = oms2.orders[entry.client_order_id]
    assert restored.status is S.ACCEPTED
    assert venue.submitted == [entry.client_order_id]  # nothing sent twice
    venue.known[entry.client_order_id] = restored
    venue.fill(entry.client_order_id, "10", "100")
    engine2.drain(None)
    assert oms2.book.quantity("INFY") == 10
    legs = sorted(o.leg for o in oms2.open_orders())
    assert legs == ["stop", "tp1", "tp2"]  # the bracket carried on in the new process
    assert len(rows(db, FillRow)) == 1


def test_open_bracket_is_rebuilt_and_its_stop_closes_the_same_trade(db) -> None:
    engine, venue, oms, journal = start(db)
    entry = place(oms, journal, qty="10", stop="95", targets=("105", "110"))
    engine.drain(None)
    venue.fill(entry.client_order_id, "10", "100", fee="2")
    engine.drain(None)
    venue.fill(next(o for o in oms.open_orders() if o.leg == "tp1").client_order_id, "5", "105")
    engine.drain(None)
    [stop] = [o for o in oms.open_orders() if o.leg.startswith("stop")]
    [trade_uid] = [t.trade_uid for t in rows(db, TradeRow)]
    # -- crash --
    for o in oms.open_orders():
        venue.query_script.append(OrderSnapshot(o.client_order_id, "V", S.ACCEPTED, D(0), None))
    engine2, oms2 = restart(db, venue)
    engine2.drain(None)
    assert oms2.book.quantity("INFY") == 5
    restored_stop = oms2.orders[stop.client_order_id]
    assert (restored_stop.status, restored_stop.trigger_price) == (S.ACCEPTED, D("100"))
    venue.known[stop.client_order_id] = restored_stop
    venue.fill(stop.client_order_id, "5", "100")
    engine2.drain(None)
    assert oms2.book.quantity("INFY") == 0 and oms2.open_orders() == []
    [trade] = rows(db, TradeRow)
    assert trade.trade_uid == trade_uid and trade.status == "CLOSED"
    assert trade.pnl == D(25) and trade.fees == D(2) and trade.exit_reason == "stop"


def test_submitted_order_the_venue_never_saw_is_resent_with_the_same_id(db) -> None:
    _engine, venue, oms, journal = start(db)
    entry = place(oms, journal, qty="3")
    # crash before the ack was processed: the database says SUBMITTED
    assert [r.status for r in rows(db, OrderRow)] == ["SUBMITTED"]
    venue.known.clear()
    venue.query_script.append(None)  # the venue has no such order
    engine2, oms2 = restart(db, venue)
    engine2.drain(None)
    assert oms2.orders[entry.client_order_id].status is S.ACCEPTED
    assert venue.submitted == [entry.client_order_id, entry.client_order_id]


def test_working_stop_missing_at_the_venue_is_placed_again(db) -> None:
    engine, venue, oms, journal = start(db)
    entry = place(oms, journal, qty="10", stop="95")
    engine.drain(None)
    venue.fill(entry.client_order_id, "10", "100")
    engine.drain(None)
    [stop] = oms.open_orders()
    venue.query_script.append(None)  # the venue lost it
    engine2, oms2 = restart(db, venue)
    risk = []
    engine2.bus.subscribe("risk", risk.append)
    engine2.drain(None)
    assert [e.code for e in risk] == ["ORDER_MISSING_AT_VENUE", "NAKED_POSITION"]
    [new_stop] = oms2.open_orders()
    assert new_stop.client_order_id != stop.client_order_id and new_stop.quantity == 10
