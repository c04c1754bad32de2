"""The `/ws` push: every bus event as its JSON message, plus a heartbeat.

Bus handlers run inside the engine's event and must not wait for a browser: each event is
serialized once and put on every client's bounded queue; a client too slow to keep up
loses its oldest messages (counted, and told in the next heartbeat) instead of slowing
the desk. A heartbeat every second carries the engine clock and the drop count, so a
dashboard can show "stale" when heartbeats stop.
"""

from __future__ import annotations

import asyncio
import contextlib
import logging
from collections.abc import Callable
from typing import Any

from fastapi import WebSocket, WebSocketDisconnect

from quantdesk.engine.bus import Bus
from quantdesk.obs.events import TOPICS, encode, heartbeat, to_message

log = logging.getLogger(__name__)
QUEUE = 1_000


class _Client:
    def __init__(self) -> None:
        self.queue: asyncio.Queue[bytes] = asyncio.Queue(QUEUE)
        self.dropped = 0

    def offer(self, data: bytes) -> None:
        if self.queue.full():
            with contextlib.suppress(asyncio.QueueEmpty):
                self.queue.get_nowait()
            self.dropped += 1
        self.queue.put_nowait(data)


class Hub:
    def __init__(self, bus: Bus, now: Callable[[], int], beat_s: float = 1.0) -> None:
        self.now = now
        self.beat_s = beat_s
        self.clients: set[_Client] = set()
        self.sent = 0
        for topic in TOPICS:
            bus.subscribe(topic, self._forward(topic))

    def _forward(self, topic: str) -> Callable[[Any], None]:
        def handler(event: Any) -> None:
            if not self.clients:
                return
            try:
                data = encode(to_message(topic, event))
            except (TypeError, ValueError) as exc:
                log.warning("ws: cannot serialize %s event: %s", topic, exc)
                return
            for client in self.clients:
                client.offer(data)

        return handler

    async def serve(self, socket: WebSocket) -> None:
        await socket.accept()
        client = _Client()
        self.clients.add(client)
        beat = asyncio.create_task(self._beat(client))
        try:
            while True:
                data = await client.queue.get()
                await socket.send_text(data.decode())
                self.sent += 1
        except WebSocketDisconnect:
            pass
        except Exception as exc:  # a dead socket surfaces differently per server: all end here
            log.debug("ws: client gone: %s", exc)
        finally:
            beat.cancel()
            self.clients.discard(client)

    async def _beat(self, client: _Client) -> None:
        while True:
            client.offer(encode(heartbeat(self.now(), dropped=client.dropped)))
            await asyncio.sleep(self.beat_s)
