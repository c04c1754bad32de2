"""The decision/order log: what the desk decided and sent, as canonical lines.

Replay must reproduce it byte for byte; its SHA-256 is the run's fingerprint and the
first differing line is where two runs diverged.
"""

from __future__ import annotations

import hashlib
from collections.abc import Callable, Iterable


class DecisionLog:
    __slots__ = ("_hash", "_keep", "count", "lines", "sink")

    def __init__(self, keep_lines: bool = True) -> None:
        self._hash = hashlib.sha256()
        self._keep = keep_lines
        self.lines: list[str] = []
        self.count = 0
        self.sink: Callable[[str], None] | None = None  # e.g. the run recorder's log file

    def add(self, *fields: object) -> None:
        line = "|".join(map(str, fields))
        self._hash.update(line.encode() + b"\n")
        self.count += 1
        if self._keep:
            self.lines.append(line)
        if self.sink is not None:
            self.sink(line)

    @property
    def sha256(self) -> str:
        return self._hash.hexdigest()


Divergence = tuple[int, str | None, str | None]


def first_divergence(a: Iterable[str], b: Iterable[str]) -> Divergence | None:
    """(index, line in a, line in b) of the first difference, or None when identical."""
    left, right = list(a), list(b)
    for index in range(max(len(left), len(right))):
        x = left[index] if index < len(left) else None
        y = right[index] if index < len(right) else None
        if x != y:
            return index, x, y
    return None
