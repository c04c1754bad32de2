"""Serve the API inside the running event loop, beside the engine.

uvicorn's `Server.serve()` is a coroutine: run as a task in the paper/live runner's loop,
requests are handled on the engine's own thread (see `api.service`). Signal handlers stay
with the runner (Ctrl-C stops the desk, which then stops the server).
"""

from __future__ import annotations

import asyncio
import contextlib
import logging

import uvicorn
from fastapi import FastAPI

log = logging.getLogger(__name__)


class ApiServer:
    def __init__(self, app: FastAPI, host: str, port: int) -> None:
        config = uvicorn.Config(
            app, host=host, port=port, log_level="warning", lifespan="off", log_config=None
        )  # log_config=None: uvicorn's lines go through our structured, masked format
        self.server = uvicorn.Server(config)
        self.server.install_signal_handlers = lambda: None  # type: ignore[method-assign]
        self.host, self.port = host, port
        self._task: asyncio.Task[None] | None = None

    async def start(self) -> None:
        """Start serving; returns once the socket listens (raises if it cannot bind)."""
        self._task = asyncio.create_task(self.server.serve())
        while not self.server.started:
            if self._task.done():
                self._task.result()  # the bind error, with its message
                raise RuntimeError(f"API server on {self.host}:{self.port} did not start")
            await asyncio.sleep(0.01)
        if self.port == 0:
            self.port = self.server.servers[0].sockets[0].getsockname()[1]

    async def stop(self) -> None:
        if self._task is None:
            return
        self.server.should_exit = True
        with contextlib.suppress(asyncio.CancelledError, Exception):
            await asyncio.wait_for(self._task, timeout=5)
