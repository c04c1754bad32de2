"""Fan-out of bus events to Redis, for dashboards and other services (`QD_REDIS_URL`).

Channels (with the default prefix `qd`; `prefix` renames all of them at once):

| bus topic                    | Redis channel  |
|------------------------------|----------------|
| signal                       | `qd.signals`   |
| decision                     | `qd.decisions` |
| order, fill, trade           | `qd.orders`    |
| risk, action                 | `qd.risk`      |
| heartbeat (`publish_health`) | `qd.health`    |

Each payload is the JSON of `obs.events.to_message` (its `type` field tells the topics of
one channel apart). Every message is also appended with XADD to the stream `qd.events`
(fields `channel`, `type`, `data`), capped at about `STREAM_MAXLEN` entries (approximate
MAXLEN trimming, so Redis trims whole nodes cheaply): pub/sub forgets what nobody was
listening to, so a late subscriber reads the stream to catch up (XREVRANGE for the
latest state, XREAD from an id to follow).

Why a queue and a thread: bus handlers run inside the engine's single thread and must
never wait on the network. A handler only serializes the event (a snapshot: orders are
mutable) and appends it to a bounded queue; a daemon worker publishes batches through a
pipeline. When Redis is down the worker keeps the unsent batch, retries with capped
exponential backoff and lets the queue overflow, dropping the oldest messages first.
Nothing here raises into the engine: failures are logged and counted (`dropped`,
`errors`, `skipped`). A connection lost in the middle of a batch means the whole batch is
sent again, so after a reconnect a subscriber may see the part that got through repeated:
consumers that care dedupe on the ids inside (fill_id, client_order_id + status, plan_id).
"""

from __future__ import annotations

import logging
import threading
import time
from collections import deque
from collections.abc import Callable, Mapping
from typing import Any, Protocol

import redis
from redis.backoff import NoBackoff
from redis.retry import Retry

from quantdesk.config import mask_url
from quantdesk.obs.events import TOPICS, encode, heartbeat, to_message

log = logging.getLogger(__name__)

CHANNELS: Mapping[str, str] = {
    "signal": "signals",
    "decision": "decisions",
    "order": "orders",
    "fill": "orders",
    "trade": "orders",
    "risk": "risk",
    "action": "risk",
    "heartbeat": "health",
}
STREAM = "events"
STREAM_MAXLEN = 100_000
BATCH = 500
BACKOFF_S = (0.05, 5.0)  # first retry delay, cap
IDLE_WAIT_S = 0.5
CLOSE_GRACE_S = 1.0

Item = tuple[str, str, bytes]  # channel, message type, JSON
_UNAVAILABLE = (redis.ConnectionError, redis.TimeoutError, OSError)


class EventSource(Protocol):
    """What `attach` needs of the engine's bus (`engine.bus.Bus`)."""

    def subscribe(self, topic: str, handler: Callable[[Any], None]) -> None: ...


class RedisFanout:
    """Publishes every bus event to Redis without ever blocking or failing the engine.

    Counters (read them from any thread): `published` messages sent, `dropped` messages
    lost (queue overflow, refused by Redis, still queued at close), `errors` failed
    publish attempts, `skipped` events that have no message form.
    """

    def __init__(self, url: str, *, max_queue: int = 10_000, prefix: str = "qd") -> None:
        if max_queue < 1:
            raise ValueError(f"max_queue must be at least 1, got {max_queue}")
        self.url = mask_url(url)
        self.max_queue = max_queue
        self.channels = {topic: f"{prefix}.{name}" for topic, name in CHANNELS.items()}
        self.stream = f"{prefix}.{STREAM}"
        self.published = 0
        self.dropped = 0
        self.errors = 0
        self.skipped = 0
        # the worker owns reconnection and backoff: redis-py's own retries would stall it
        self._client = redis.Redis.from_url(
            url, socket_connect_timeout=1, socket_timeout=2, retry=Retry(NoBackoff(), 0)
        )
        self._queue: deque[Item] = deque()
        self._lock = threading.Lock()
        self._wake = threading.Event()
        self._closing = threading.Event()
        self._deadline = float("inf")
        self._unknown: set[str] = set()
        self._worker = threading.Thread(target=self._run, name="qd-redis-fanout", daemon=True)
        self._worker.start()

    def attach(self, bus: EventSource) -> None:
        """Subscribe to every bus topic that has a message form."""
        for topic in TOPICS:
            bus.subscribe(topic, self._handler(topic))

    def publish_health(self, ts: int, **fields: Any) -> None:
        """A heartbeat on the health channel (see `obs.events.heartbeat`)."""
        try:
            data = encode(heartbeat(ts, **fields))
        except Exception:
            self._skip("heartbeat", "heartbeat")
            return
        self._enqueue(self.channels["heartbeat"], "heartbeat", data)

    def close(self, timeout: float = 5.0) -> None:
        """Flush what is queued for up to `timeout` seconds, then stop; what is left counts
        as dropped, and so does anything published after close. Returns within `timeout`
        plus at most `CLOSE_GRACE_S` (a send already on the wire must time out first)."""
        if not self._closing.is_set():
            self._deadline = time.monotonic() + timeout
            self._closing.set()
            self._wake.set()
        self._worker.join(max(0.0, self._deadline - time.monotonic()) + CLOSE_GRACE_S)
        if not self._worker.is_alive():
            self._client.close()

    @property
    def queued(self) -> int:
        return len(self._queue)

    # engine thread -------------------------------------------------------------------

    def _handler(self, topic: str) -> Callable[[object], None]:
        channel = self.channels[topic]

        def handle(event: object) -> None:
            try:
                message = to_message(topic, event)
                data = encode(message)
            except Exception:
                self._skip(topic, type(event).__name__)
                return
            self._enqueue(channel, message["type"], data)

        return handle

    def _enqueue(self, channel: str, kind: str, data: bytes) -> None:
        with self._lock:
            if self._closing.is_set():
                self.dropped += 1
                return
            if len(self._queue) >= self.max_queue:
                self._queue.popleft()
                self.dropped += 1
            self._queue.append((channel, kind, data))
            if len(self._queue) == 1:
                self._wake.set()

    def _skip(self, topic: str, kind: str) -> None:
        key = f"{topic}:{kind}"
        with self._lock:
            self.skipped += 1
            first = key not in self._unknown
            self._unknown.add(key)
        if first:  # once per kind: a hot path must not flood the log
            log.warning("redis fan-out skips %s event %s", topic, kind, exc_info=True)

    # worker thread -------------------------------------------------------------------

    def _run(self) -> None:
        try:
            self._publish_until_closed()
        finally:
            with self._lock:
                self.dropped += len(self._queue)
                self._queue.clear()

    def _publish_until_closed(self) -> None:
        failures = 0
        while not (self._closing.is_set() and time.monotonic() > self._deadline):
            batch = self._take()
            if not batch:
                if self._closing.is_set():
                    return
                self._wake.wait(IDLE_WAIT_S)
                continue
            try:
                self._send(batch)
            except _UNAVAILABLE as exc:
                self.errors += 1
                if failures == 0:
                    log.warning("redis fan-out to %s unavailable: %s", self.url, exc)
                failures += 1
                self._put_back(batch)
                self._pause(min(BACKOFF_S[1], BACKOFF_S[0] * 2 ** min(failures - 1, 16)))
                continue
            if failures:
                log.info("redis fan-out to %s back after %d failed attempts", self.url, failures)
            failures = 0

    def _take(self) -> list[Item]:
        with self._lock:
            count = min(BATCH, len(self._queue))
            batch = [self._queue.popleft() for _ in range(count)]
            if not self._queue:
                self._wake.clear()
            return batch

    def _send(self, batch: list[Item]) -> None:
        """Publish a batch in order; raises only when Redis is unreachable (the caller
        keeps the batch). A refusal (e.g. WRONGTYPE) would never succeed: dropped."""
        pipe = self._client.pipeline(transaction=False)
        for channel, kind, data in batch:
            pipe.publish(channel, data)
            pipe.xadd(
                self.stream,
                {"channel": channel, "type": kind, "data": data},
                maxlen=STREAM_MAXLEN,
                approximate=True,
            )
        try:
            pipe.execute()
        except redis.RedisError as exc:
            if isinstance(exc, _UNAVAILABLE):
                raise
            self.errors += 1
            with self._lock:
                self.dropped += len(batch)
            log.error("redis refused %d fan-out messages: %s", len(batch), exc)
            return
        finally:
            pipe.reset()
        self.published += len(batch)

    def _put_back(self, batch: list[Item]) -> None:
        """Unsent messages go back in front, in order; overflow still drops the oldest."""
        with self._lock:
            self._queue.extendleft(reversed(batch))
            while len(self._queue) > self.max_queue:
                self._queue.popleft()
                self.dropped += 1

    def _pause(self, delay: float) -> None:
        """Back off before the next attempt; close() cuts a wait short to flush at once,
        then the flush retries until its deadline."""
        if not self._closing.is_set():
            self._closing.wait(delay)
        else:
            time.sleep(max(0.0, min(delay, self._deadline - time.monotonic())))
