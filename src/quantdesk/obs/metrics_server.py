"""A standalone `/metrics` endpoint for headless runs (no operator API to serve it).

prometheus-client's own WSGI app over the desk's registry, on a small threaded wsgiref
server in a daemon thread: a scrape only reads the registry, never the engine, so it is
safe beside the engine's thread. Binds to loopback by default; port 0 picks a free port
(read it back from `.port`).
"""

from __future__ import annotations

import threading
from socketserver import ThreadingMixIn
from types import TracebackType
from typing import Protocol
from wsgiref.simple_server import WSGIRequestHandler, WSGIServer, make_server

from prometheus_client import CollectorRegistry, make_wsgi_app

DEFAULT_PORT = 9108


class HasRegistry(Protocol):
    registry: CollectorRegistry


class _ThreadingServer(ThreadingMixIn, WSGIServer):
    daemon_threads = True  # a hung scraper never holds the process open


class _QuietHandler(WSGIRequestHandler):
    def log_message(self, format: str, *args: object) -> None:
        """Every scrape on stderr would drown the desk's own log."""


class MetricsServer:
    """A running metrics endpoint; `close()` (or leaving a `with` block) stops it."""

    def __init__(self, server: WSGIServer, thread: threading.Thread) -> None:
        self._server = server
        self._thread = thread
        self.host = str(server.server_address[0])
        self.port = int(server.server_address[1])

    @property
    def url(self) -> str:
        return f"http://{self.host}:{self.port}/metrics"

    def close(self) -> None:
        """Stop serving and release the port; waits for the serving thread (idempotent)."""
        if self._thread.is_alive():
            self._server.shutdown()
            self._thread.join(timeout=5)
        self._server.server_close()

    def __enter__(self) -> MetricsServer:
        return self

    def __exit__(
        self,
        kind: type[BaseException] | None,
        error: BaseException | None,
        traceback: TracebackType | None,
    ) -> None:
        self.close()


def start_metrics_server(
    metrics: HasRegistry, host: str = "127.0.0.1", port: int = DEFAULT_PORT
) -> MetricsServer:
    """Serve `metrics.registry` at http://host:port/metrics; raises OSError if the port is
    taken (a second headless desk needs its own port)."""
    app = make_wsgi_app(metrics.registry)
    server = make_server(host, port, app, _ThreadingServer, handler_class=_QuietHandler)
    thread = threading.Thread(
        target=server.serve_forever, kwargs={"poll_interval": 0.2}, name="metrics-server"
    )
    thread.daemon = True
    thread.start()
    return MetricsServer(server, thread)
