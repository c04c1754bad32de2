"""The operator API: read the desk, steer it, watch it live, from one FastAPI app.

Endpoints are `async def` on purpose: they then run on the event loop that also runs the
engine, between two engine events (see `api.service`). Mutating endpoints pass the
API-key check and the per-client rate limit (`api.deps`) and are audited.
"""

from __future__ import annotations

from importlib import resources
from typing import Protocol

from fastapi import FastAPI, Request, WebSocket
from fastapi.encoders import jsonable_encoder
from fastapi.exceptions import RequestValidationError
from fastapi.responses import FileResponse, JSONResponse
from fastapi.staticfiles import StaticFiles

from quantdesk.api import routes_control, routes_read, routes_universe
from quantdesk.api.security import RateLimiter
from quantdesk.api.service import DeskService
from quantdesk.api.ws import Hub

STATIC = resources.files("quantdesk.api") / "static"


class Metrics(Protocol):
    def exposition(self) -> bytes: ...


def create_app(
    service: DeskService, metrics: Metrics | None = None, limiter: RateLimiter | None = None
) -> FastAPI:
    app = FastAPI(
        title="quantdesk operator API",
        version="1",
        description="Read and steer a running desk. Money, prices and quantities are exact "
        "decimal strings. Mutating calls and /audit need X-API-Key when QD_ENV=prod.",
    )
    app.state.service = service
    app.state.metrics = metrics
    app.state.limiter = limiter or RateLimiter()
    app.state.hub = hub = Hub(service.desk.engine.bus, service.desk.engine.now)
    app.add_exception_handler(RequestValidationError, _invalid)  # type: ignore[arg-type]
    app.include_router(routes_read.router)
    app.include_router(routes_control.router)
    app.include_router(routes_universe.router)

    @app.websocket("/ws")
    async def ws(socket: WebSocket) -> None:
        """Every signal, decision, order update, fill, trade, risk event; a heartbeat."""
        await hub.serve(socket)

    @app.get("/", include_in_schema=False)
    async def dashboard() -> FileResponse:
        return FileResponse(str(STATIC / "index.html"))

    app.mount("/static", StaticFiles(directory=str(STATIC)), name="static")
    return app


async def _invalid(request: Request, exc: RequestValidationError) -> JSONResponse:
    """422 (never a 500 for a bad body): FastAPI's documented `detail` list, plus a
    `message` with one readable line per problem for people and curl."""
    problems = []
    for error in exc.errors():
        where = ".".join(str(p) for p in error["loc"] if p != "body") or "body"
        problems.append(f"{where}: {error['msg']}")
    detail = [{k: e[k] for k in ("loc", "msg", "type")} for e in exc.errors()]
    body = {"detail": jsonable_encoder(detail), "message": "; ".join(problems)}
    return JSONResponse(body, status_code=422)
