"""A real HTTP server on 127.0.0.1 that records POSTs, for Slack- and Telegram-like tests.

It answers 200 `{"ok": true}` by default; `status` changes the answer, `hang_s` makes it
wait that long before answering (released at once by `close`, so a test never waits on
its own server).
"""

from __future__ import annotations

import json
import threading
import time
from dataclasses import dataclass
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from typing import Any


@dataclass(frozen=True)
class Received:
    path: str
    content_type: str
    body: Any  # parsed JSON, or the raw text when it is not JSON


class FakeWebhook:
    def __init__(self) -> None:
        self.requests: list[Received] = []
        self.status = 200
        self.hang_s = 0.0
        self._arrived = threading.Condition()
        self._release = threading.Event()
        self._server = ThreadingHTTPServer(("127.0.0.1", 0), self._handler_class())
        self._server.daemon_threads = True
        self._thread = threading.Thread(
            target=self._server.serve_forever, kwargs={"poll_interval": 0.05}, daemon=True
        )

    def __enter__(self) -> FakeWebhook:
        self._thread.start()
        return self

    def __exit__(self, *exc: object) -> None:
        self.close()

    @property
    def base_url(self) -> str:
        host, port = self._server.server_address[:2]
        return f"http://{host!s}:{port}"

    def url(self, path: str) -> str:
        return self.base_url + path

    def wait_for(self, count: int, timeout: float = 5.0) -> list[Received]:
        deadline = time.monotonic() + timeout
        with self._arrived:
            while len(self.requests) < count:
                left = deadline - time.monotonic()
                if left <= 0:
                    raise AssertionError(f"{len(self.requests)} requests arrived, wanted {count}")
                self._arrived.wait(left)
            return list(self.requests)

    def close(self) -> None:
        self._release.set()
        self._server.shutdown()
        self._server.server_close()

    def _record(self, received: Received) -> None:
        with self._arrived:
            self.requests.append(received)
            self._arrived.notify_all()

    def _handler_class(self) -> type[BaseHTTPRequestHandler]:
        hook = self

        class Handler(BaseHTTPRequestHandler):
            def do_POST(self) -> None:
                raw = self.rfile.read(int(self.headers.get("Content-Length") or 0))
                try:
                    body: Any = json.loads(raw)
                except ValueError:
                    body = raw.decode(errors="replace")
                hook._record(Received(self.path, self.headers.get("Content-Type", ""), body))
                if hook.hang_s:
                    hook._release.wait(hook.hang_s)
                answer = json.dumps({"ok": hook.status < 300}).encode()
                try:
                    self.send_response(hook.status)
                    self.send_header("Content-Type", "application/json")
                    self.send_header("Content-Length", str(len(answer)))
                    self.end_headers()
                    self.wfile.write(answer)
                except OSError:
                    pass  # the client gave up waiting: that is the point of hanging

            def log_message(self, format: str, *args: Any) -> None:
                pass  # paths carry tokens; and the test output stays readable

        return Handler
