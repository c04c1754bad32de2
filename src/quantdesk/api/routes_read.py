"""Read endpoints: health, state, risk, signals, orders, positions, trades, audit, metrics."""

from __future__ import annotations

from typing import Annotated

from fastapi import APIRouter, Query, Request
from fastapi.responses import Response
from sqlalchemy import text

from quantdesk.api import models as m
from quantdesk.api import views
from quantdesk.api.deps import Auditor, Service
from quantdesk.domain.time import iso_utc
from quantdesk.storage.queries import audit_tail

router = APIRouter(tags=["read"])
EXPOSITION = "text/plain; version=0.0.4; charset=utf-8"


@router.get("/health", response_model=m.Health)
async def health(service: Service, request: Request) -> m.Health:
    engine = service.desk.engine
    checks = {"engine": m.Check(ok=True, detail=f"{engine.events_processed} events")}
    if service.database is not None:
        try:
            with service.database.connect() as connection:
                connection.execute(text("SELECT 1"))
            checks["database"] = m.Check(ok=True, detail=service.database.dialect.name)
        except Exception as exc:  # readiness reports a failure, it does not raise one
            checks["database"] = m.Check(ok=False, detail=type(exc).__name__)
    clients = len(request.app.state.hub.clients)
    checks["bus"] = m.Check(ok=True, detail=f"in-process, {clients} websocket clients")
    return m.Health(
        live=True,
        ready=all(c.ok for c in checks.values()),
        checks=checks,
        feed_age_ms=service.feed_age_ms(),
        loop_lag_ms=service.loop_lag_ms,
    )


@router.get("/state", response_model=m.StateOut)
async def state(service: Service) -> m.StateOut:
    return views.state(service)


@router.get("/risk", response_model=m.RiskOut)
async def risk(service: Service) -> m.RiskOut:
    return views.risk(service)


@router.get("/signals", response_model=list[m.SignalOut])
async def signals(
    service: Service, limit: Annotated[int, Query(ge=1, le=200)] = 50
) -> list[m.SignalOut]:
    out = []
    for rank, seen in enumerate(service.ranked_signals()[:limit], start=1):
        s, d = seen.signal, seen.decision
        out.append(
            m.SignalOut(
                rank=rank,
                time=iso_utc(s.ts),
                strategy=s.strategy,
                symbol=s.symbol,
                side=s.side.value,
                strength=s.strength,
                rationale=s.rationale,
                decision=d.status.value if d else None,
                reasons=list(d.reasons) if d else [],
            )
        )
    return out


@router.get("/orders", response_model=list[m.OrderOut])
async def orders(service: Service) -> list[m.OrderOut]:
    return [views.order(o) for o in service.desk.oms.open_orders()]


@router.get("/positions", response_model=list[m.PositionOut])
async def positions(service: Service) -> list[m.PositionOut]:
    return views.positions(service)


@router.get("/trades", response_model=list[m.TradeOut])
async def trades(
    service: Service, limit: Annotated[int, Query(ge=1, le=500)] = 100
) -> list[m.TradeOut]:
    return [views.trade(t) for t in list(service.trades)[-limit:]]


@router.get("/audit", response_model=list[m.AuditOut])
async def audit(
    service: Service,
    _: Auditor,
    session: Annotated[str | None, Query(max_length=64)] = None,
    limit: Annotated[int, Query(ge=1, le=1000)] = 50,
) -> list[m.AuditOut]:
    if service.database is None:
        return []
    return [
        m.AuditOut(
            id=r.id,
            time=r.ts.isoformat(),
            session_id=r.session_id,
            actor=r.actor,
            action=r.action,
            entity=r.entity,
            entity_id=r.entity_id,
            correlation_id=r.correlation_id,
            payload=dict(r.payload),
        )
        for r in audit_tail(service.database, session, limit)
    ]


@router.get("/metrics", response_class=Response)
async def metrics(request: Request) -> Response:
    """Prometheus exposition format."""
    source = request.app.state.metrics
    if source is None:
        return Response(b"", media_type=EXPOSITION)
    return Response(source.exposition(), media_type=EXPOSITION)
