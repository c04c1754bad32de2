"""Mutating endpoints: pause, resume, flatten (kill switch), cancel-all, mode, the agent."""

from __future__ import annotations

from fastapi import APIRouter

from quantdesk.api import models as m
from quantdesk.api import views
from quantdesk.api.deps import KeyHeader, Operator, Service

router = APIRouter(tags=["control"])


@router.post("/pause", response_model=m.ActionResult)
async def pause(service: Service, actor: Operator, body: m.PauseIn | None = None) -> m.ActionResult:
    reason = (body or m.PauseIn()).reason
    paused = service.pause(reason, actor)
    return m.ActionResult(ok=True, action="pause", detail=reason, still_blocking=list(paused))


@router.post("/resume", response_model=m.ActionResult)
async def resume(
    service: Service, actor: Operator, body: m.ResumeIn | None = None
) -> m.ActionResult:
    still = service.resume(actor, (body or m.ResumeIn()).release_kill_switch)
    detail = "entries allowed" if not still else "resumed; still blocking"
    return m.ActionResult(ok=not still, action="resume", detail=detail, still_blocking=list(still))


@router.post("/flatten", response_model=m.ActionResult)
async def flatten(
    service: Service, actor: Operator, body: m.FlattenIn | None = None
) -> m.ActionResult:
    service.flatten((body or m.FlattenIn()).reason, actor)
    flat = service.desk.kill_switch.is_flat()
    detail = "flat" if flat else "kill switch engaged; exits working"
    return m.ActionResult(ok=True, action="flatten", detail=detail)


@router.post("/orders/cancel-all", response_model=m.ActionResult)
async def cancel_all(service: Service, actor: Operator) -> m.ActionResult:
    count = service.cancel_all(actor)
    return m.ActionResult(ok=True, action="cancel-all", detail=f"{count} orders cancelling")


@router.post("/mode", response_model=m.ModeOut)
async def mode(
    service: Service, actor: Operator, body: m.ModeIn, key: KeyHeader = None
) -> m.ModeOut:
    """LIVE needs SAFE_MODE off, the API key and the typed phrase `GO LIVE <IST date>`."""
    verdict = service.request_mode(body.mode, body.confirmation, key)
    return m.ModeOut(
        mode=service.mode.value, granted=verdict.granted, reasons=list(verdict.reasons)
    )


@router.get("/agent/status", response_model=m.AgentOut, tags=["agent"])
async def agent_status(service: Service) -> m.AgentOut:
    return views.agent(service)


@router.post("/agent/start", response_model=m.AgentOut, tags=["agent"])
async def agent_start(service: Service, actor: Operator) -> m.AgentOut:
    service.start_agent(actor)
    return views.agent(service)


@router.post("/agent/stop", response_model=m.AgentOut, tags=["agent"])
async def agent_stop(service: Service, actor: Operator) -> m.AgentOut:
    service.stop_agent(actor)
    return views.agent(service)


@router.post("/agent/run-once", response_model=m.AgentOut, tags=["agent"])
async def agent_run_once(service: Service, actor: Operator) -> m.AgentOut:
    """Strategies see the next bar, then stop again (only while the agent is stopped)."""
    service.run_once(actor)
    return views.agent(service)
