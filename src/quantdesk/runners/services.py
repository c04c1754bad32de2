"""What runs beside a paper/live desk: the operator API and the Redis fan-out.

Started after the desk is built and before the first bar, stopped after the close-out, so
the dashboard sees the whole session including the final flattening.
"""

from __future__ import annotations

import logging
from dataclasses import dataclass, field
from typing import TYPE_CHECKING

from quantdesk.api.app import create_app
from quantdesk.api.security import RateLimiter
from quantdesk.api.server import ApiServer
from quantdesk.api.service import DeskService
from quantdesk.obs.redis_fanout import RedisFanout

if TYPE_CHECKING:
    from sqlalchemy import Engine as Database

    from quantdesk.config import Settings
    from quantdesk.desk import Desk

log = logging.getLogger(__name__)


@dataclass(frozen=True)
class ApiOptions:
    host: str = "127.0.0.1"
    port: int = 8000


@dataclass
class Services:
    service: DeskService
    api: ApiServer | None = None
    fanout: RedisFanout | None = None
    extra: list[object] = field(default_factory=list)

    async def stop(self) -> None:
        if self.api is not None:
            await self.api.stop()
        if self.fanout is not None:
            self.fanout.close(timeout=2.0)


async def start_services(
    desk: Desk,
    settings: Settings,
    session: str,
    database: Database,
    api: ApiOptions | None,
) -> Services:
    service = DeskService(desk, settings, session, database)
    services = Services(service)
    if settings.redis_url:
        services.fanout = RedisFanout(settings.redis_url)
        services.fanout.attach(desk.engine.bus)
    if api is not None:
        limiter = RateLimiter(burst=settings.api_rate_burst, per_second=settings.api_rate_per_s)
        services.api = ApiServer(create_app(service, limiter=limiter), api.host, api.port)
        await services.api.start()
        log.info("operator API on http://%s:%d/", api.host, services.api.port)
    return services
