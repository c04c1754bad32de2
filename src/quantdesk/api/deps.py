"""Request dependencies: the desk service, and who the operator is (key + rate limit)."""

from __future__ import annotations

from typing import Annotated

from fastapi import Depends, Header, Request

from quantdesk.api.security import HEADER, check_key, enforce_rate
from quantdesk.api.service import DeskService

KeyHeader = Annotated[str | None, Header(alias=HEADER)]


def service_of(request: Request) -> DeskService:
    service: DeskService = request.app.state.service
    return service


async def operator(request: Request, key: KeyHeader = None) -> str:
    """Mutating calls: the key rules of `api.security`, then the per-client rate limit."""
    actor = check_key(service_of(request).settings, key, required=True)
    enforce_rate(request.app.state.limiter, request)
    return actor


async def auditor(request: Request, key: KeyHeader = None) -> str:
    return check_key(service_of(request).settings, key, required=True)


Service = Annotated[DeskService, Depends(service_of)]
Operator = Annotated[str, Depends(operator)]
Auditor = Annotated[str, Depends(auditor)]
