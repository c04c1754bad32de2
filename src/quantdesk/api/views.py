"""Domain objects -> API response models (exact decimals stay Decimal, times ISO UTC)."""

from __future__ import annotations

from typing import Any

from quantdesk.api import models as m
from quantdesk.api.service import DeskService
from quantdesk.domain.time import iso_utc


def positions(service: DeskService) -> list[m.PositionOut]:
    engine = service.desk.engine
    out = []
    for symbol, p in sorted(service.desk.oms.book.positions.items()):
        if not p.quantity:
            continue
        mark = engine.last_price(symbol)
        out.append(
            m.PositionOut(
                symbol=symbol,
                quantity=p.quantity,
                avg_price=p.avg_price,
                mark=mark,
                unrealised_pnl=p.unrealised_pnl(mark) if mark is not None else 0,
                realised_pnl=p.realised_pnl,
            )
        )
    return out


def order(o: Any) -> m.OrderOut:
    return m.OrderOut(
        client_order_id=o.client_order_id,
        venue_order_id=o.venue_order_id,
        plan_id=o.plan_id,
        leg=o.leg,
        symbol=o.symbol,
        side=o.side.value,
        order_type=o.order_type.value,
        status=o.status.value,
        quantity=o.quantity,
        filled_quantity=o.filled_quantity,
        limit_price=o.limit_price,
        trigger_price=o.trigger_price,
    )


def trade(closed: Any) -> m.TradeOut:
    t = closed.trade
    return m.TradeOut(
        trade_id=t.trade_id,
        plan_id=closed.plan_id,
        symbol=t.symbol,
        side=t.side.value,
        quantity=t.quantity,
        entry_price=t.entry_price,
        exit_price=t.exit_price,
        entry_time=iso_utc(t.entry_ts),
        exit_time=iso_utc(t.exit_ts),
        net_pnl=t.net_pnl,
        exit_reason=t.exit_reason,
    )


def risk(service: DeskService) -> m.RiskOut:
    """`risk.summary.RiskSummary` field for field: the API shows what the risk layer says."""
    return m.RiskOut.model_validate(service.risk(), from_attributes=True)


def state(service: DeskService) -> m.StateOut:
    engine = service.desk.engine
    r = service.risk()
    return m.StateOut(
        mode=service.mode.value,
        safe_mode=service.settings.safe_mode,
        session_id=service.session_id,
        config_sha=service.settings.config_sha,
        clock=iso_utc(engine.now()),
        equity=engine.equity(),
        daily_pnl=r.daily_pnl,
        heat=r.heat,
        heat_pct=r.heat_pct,
        risk_banner_color=r.risk_banner_color,
        trading_state=r.trading_state,
        kill_switch=r.kill_switch,
        agent_running=service.agent.running,
        positions=positions(service),
        open_orders=[order(o) for o in service.desk.oms.open_orders()],
        equity_curve=[m.EquityPoint(time=iso_utc(ts), equity=e) for ts, e in service.equity_curve],
    )


def agent(service: DeskService) -> m.AgentOut:
    a = service.agent
    return m.AgentOut(
        running=a.running,
        strategies=[s.name for s in service.desk.engine.strategies],
        bars_seen=a.bars_seen,
        signals_seen=a.signals_seen,
        last_signal_time=iso_utc(a.last_signal_ts) if a.last_signal_ts is not None else None,
    )
