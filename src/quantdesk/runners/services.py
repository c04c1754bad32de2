"""What runs beside a paper/live desk: the operator API (with `/metrics`), the event streams
(in the run folder's `streams/`), Prometheus metrics (on their own port when headless) and
the Redis fan-out.

Started after the desk is built and before the first bar, stopped after the close-out, so
the dashboard sees the whole session including the final flattening.
"""

from __future__ import annotations

import logging
import time
from dataclasses import dataclass, field
from pathlib import Path
from typing import TYPE_CHECKING

from quantdesk.api.app import create_app
from quantdesk.api.security import RateLimiter
from quantdesk.api.server import ApiServer
from quantdesk.api.service import DeskService
from quantdesk.obs.alerts import AlertRouter
from quantdesk.obs.metrics import DeskMetrics
from quantdesk.obs.metrics_server import MetricsServer, start_metrics_server
from quantdesk.obs.redis_fanout import RedisFanout
from quantdesk.obs.stream_writer import StreamWriter
from quantdesk.obs.streams import DeskStreams

if TYPE_CHECKING:
    from sqlalchemy import Engine as Database

    from quantdesk.config import Settings
    from quantdesk.desk import Desk
    from quantdesk.domain.market import Bar

log = logging.getLogger(__name__)


@dataclass(frozen=True)
class ApiOptions:
    host: str = "127.0.0.1"
    port: int = 8000


HEALTH_EVERY_S = 1.0


@dataclass
class Services:
    service: DeskService
    api: ApiServer | None = None
    fanout: RedisFanout | None = None
    streams: DeskStreams | None = None
    metrics: DeskMetrics | None = None
    metrics_server: MetricsServer | None = None
    alerts: AlertRouter | None = None
    _last_health: float = field(default=0.0, repr=False)

    def on_bar(self, bar: Bar) -> None:
        """Per bar: the API's view; at most once a wall second, metrics and Redis health."""
        self.service.on_bar(bar)
        if time.monotonic() - self._last_health < HEALTH_EVERY_S:
            return
        self._last_health = time.monotonic()
        if self.metrics is not None:
            self.metrics.set_loop_lag(self.service.loop_lag_ms)
            self.metrics.sample()
        if self.alerts is not None:
            engine = self.service.desk.engine
            self.alerts.on_equity(engine.now(), engine.equity())
        if self.fanout is None:
            return
        engine = self.service.desk.engine
        risk = self.service.risk()
        self.fanout.publish_health(
            engine.now(),
            session_id=self.service.session_id,
            equity=engine.equity(),
            heat_pct=risk.heat_pct,
            trading_state=risk.trading_state,
            loop_lag_ms=self.service.loop_lag_ms,
            events_processed=engine.events_processed,
        )

    async def stop(self) -> None:
        if self.alerts is not None:
            self.alerts.close(timeout=5.0)
        if self.metrics_server is not None:
            self.metrics_server.close()
        if self.streams is not None:
            self.streams.close()
            self.streams.writer.close()
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
    run_dir: Path,
    metrics_port: int | None = None,
) -> Services:
    service = DeskService(desk, settings, session, database)
    services = Services(service)
    writer = StreamWriter(run_dir / "streams", stamp={"session_id": session})
    services.streams = DeskStreams(desk, writer, session)
    services.streams.attach()
    services.alerts = AlertRouter.from_settings(settings, database, origin=session)
    services.alerts.attach(desk.engine.bus)
    services.metrics = DeskMetrics()
    services.metrics.attach(desk)
    services.metrics.sample()
    if settings.redis_url:
        services.fanout = RedisFanout(settings.redis_url)
        services.fanout.attach(desk.engine.bus)
    if api is not None:
        limiter = RateLimiter(burst=settings.api_rate_burst, per_second=settings.api_rate_per_s)
        app = create_app(service, metrics=services.metrics, limiter=limiter)
        services.api = ApiServer(app, api.host, api.port)
        await services.api.start()
        log.info("operator API on http://%s:%d/", api.host, services.api.port)
    elif metrics_port is not None:  # headless: metrics still scrapeable
        services.metrics_server = start_metrics_server(services.metrics, "127.0.0.1", metrics_port)
        log.info("metrics on %s", services.metrics_server.url)
    return services
