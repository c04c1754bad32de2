"""A small in-process bus: the engine publishes, recorders/metrics/API subscribe.

Handlers run synchronously inside the engine's event, so they must be quick; slow
consumers (Redis, websockets, files) buffer on their own side.
"""

from __future__ import annotations

from collections import defaultdict
from collections.abc import Callable
from typing import Any

Handler = Callable[[Any], None]


class Bus:
    __slots__ = ("_handlers",)

    def __init__(self) -> None:
        self._handlers: defaultdict[str, list[Handler]] = defaultdict(list)

    def subscribe(self, topic: str, handler: Handler) -> None:
        self._handlers[topic].append(handler)

    def has_subscribers(self, topic: str) -> bool:
        return bool(self._handlers.get(topic))

    def publish(self, topic: str, event: Any) -> None:
        for handler in self._handlers.get(topic, ()):
            handler(event)
