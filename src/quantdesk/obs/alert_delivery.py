"""Alert delivery off the engine thread: a bounded queue and one daemon worker.

Bus handlers run inside the engine's single thread and a webhook can take seconds or
hang, so the engine side only appends to the queue. The worker saves the cooldowns
(`Cooldowns.flush`, before each send: a send that hangs must not lose them) and calls
every sender in turn; a sender's failure is caught, logged without its secrets
(`alert_senders.failure`) and counted, and the other senders still get the alert.
Delivery is not retried: a retried alert would arrive late and out of order.

When the queue is full the least severe alert loses: the oldest queued alert of the
lowest level makes room for a more severe one, else the new alert itself is dropped, so
a kill switch is never pushed out by fill messages. Drops are counted in `dropped`.
"""

from __future__ import annotations

import logging
import threading
import time
from collections import deque
from collections.abc import Callable, Sequence

from quantdesk.domain.enums import Severity
from quantdesk.obs.alert_cooldown import Cooldowns
from quantdesk.obs.alert_model import Alert, rank
from quantdesk.obs.alert_senders import Sender, failure

log = logging.getLogger(__name__)
IDLE_WAIT_S = 1.0  # also how often held-back counts reach the database
CLOSE_GRACE_S = 1.0
Queued = tuple[Alert, int]  # the alert, how many of its key were held back before it


class AlertDelivery:
    """Counters, readable from any thread: `sent` and `failed` (one per sender and
    alert), `dropped` (queue full, put after close, still queued at the close deadline)."""

    def __init__(
        self,
        senders: Sequence[Sender],
        cooldowns: Cooldowns,
        *,
        origin: str,
        max_queue: int,
        now: Callable[[], int],
    ) -> None:
        if max_queue < 1:
            raise ValueError(f"max_queue must be at least 1, got {max_queue}")
        self.senders = tuple(senders)
        self.cooldowns = cooldowns
        self.origin = origin
        self.max_queue = max_queue
        self.now = now
        self.sent = self.failed = self.dropped = 0
        self._queue: deque[Queued] = deque()
        self._lock = threading.Lock()
        self._wake = threading.Event()
        self._closing = threading.Event()
        self._deadline = float("inf")
        self._worker = threading.Thread(target=self._run, name="qd-alerts", daemon=True)
        if self.senders:
            self._worker.start()

    @property
    def queued(self) -> int:
        return len(self._queue)

    def put(self, alert: Alert, held_back: int) -> bool:
        """Engine thread: never blocks. False when the alert was dropped."""
        with self._lock:
            if self._closing.is_set() or not self.senders:
                self.dropped += 1
                return False
            if len(self._queue) >= self.max_queue and not self._make_room(alert.level):
                self.dropped += 1
                return False
            self._queue.append((alert, held_back))
            self._wake.set()
            return True

    def close(self, timeout: float) -> None:
        """Deliver what is queued for up to `timeout` seconds, save the cooldowns, stop.
        Returns within `timeout` plus `CLOSE_GRACE_S` (a send on the wire must time out
        first: keep the senders' timeout below that sum)."""
        if not self._closing.is_set():
            self._deadline = time.monotonic() + timeout
            self._closing.set()
            self._wake.set()
        if self._worker.is_alive():
            self._worker.join(max(0.0, self._deadline - time.monotonic()) + CLOSE_GRACE_S)
        if not self._worker.is_alive():
            self.cooldowns.flush(self.now())
            for sender in self.senders:
                sender.close()

    def _make_room(self, level: Severity) -> bool:
        lowest = min(self._queue, key=lambda queued: rank(queued[0].level))
        if rank(lowest[0].level) >= rank(level):
            return False
        self._queue.remove(lowest)  # min() returns the first, i.e. the oldest, of them
        self.dropped += 1
        return True

    # worker thread -------------------------------------------------------------------

    def _run(self) -> None:
        try:
            self._deliver_until_closed()
        finally:
            with self._lock:
                self.dropped += len(self._queue)
                self._queue.clear()

    def _deliver_until_closed(self) -> None:
        while not (self._closing.is_set() and time.monotonic() > self._deadline):
            item = self._take()
            self.cooldowns.flush(self.now())
            if item is None:
                if self._closing.is_set():
                    return
                self._wake.wait(IDLE_WAIT_S)
                continue
            alert, held_back = item
            text = alert.text(self.origin, held_back)
            for sender in self.senders:
                self._send(sender, alert, text)

    def _take(self) -> Queued | None:
        with self._lock:
            item = self._queue.popleft() if self._queue else None
            if not self._queue:
                self._wake.clear()
            return item

    def _send(self, sender: Sender, alert: Alert, text: str) -> None:
        try:
            sender.send(text)
        except Exception as exc:
            with self._lock:
                self.failed += 1
            log.warning(
                "alert %s not delivered by %s: %s", alert.key, sender.name, failure(sender, exc)
            )
            return
        with self._lock:
            self.sent += 1
