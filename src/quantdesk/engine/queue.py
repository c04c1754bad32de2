"""Events ordered by (timestamp, sequence): ties resolve in the order they were queued.

Items are `(ts, seq, callback, payload)` tuples in a heap; running an event is
`callback(payload)`. Market data from files does not go through the heap one bar at a
time: the engine merges its feed with the heap (see `Engine.run_feed`), which is the
same ordering at a fraction of the cost.
"""

from __future__ import annotations

import heapq
from collections.abc import Callable
from typing import Any

Callback = Callable[[Any], None]


class EventQueue:
    __slots__ = ("_heap", "_seq")

    def __init__(self) -> None:
        self._heap: list[tuple[int, int, Callback, Any]] = []
        self._seq = 0

    def __len__(self) -> int:
        return len(self._heap)

    def push(self, ts: int, callback: Callback, payload: Any = None) -> None:
        heapq.heappush(self._heap, (ts, self._seq, callback, payload))
        self._seq += 1

    def next_ts(self) -> int | None:
        return self._heap[0][0] if self._heap else None

    def pop(self) -> tuple[int, Callback, Any]:
        ts, _, callback, payload = heapq.heappop(self._heap)
        return ts, callback, payload
