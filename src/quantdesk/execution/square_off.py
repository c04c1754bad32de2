"""EOD square-off: at 15:25 IST every intraday position closed, every order cancelled.

Exactly once per trading day, driven by the engine clock (never `datetime.now()`).
Restart-safe: the days already squared off are restored from the audit log, and a
process that comes back after the square-off time with positions still open squares
off at once instead of waiting for a 15:25 that will not come again today.
"""

from __future__ import annotations

from collections.abc import Callable
from datetime import date
from typing import TYPE_CHECKING

from quantdesk.domain import actions
from quantdesk.domain.time import ist_date, ist_day_minute

if TYPE_CHECKING:
    from quantdesk.execution.order_manager import OrderManager
    from quantdesk.risk.calendar import TradingCalendar

Record = Callable[[str, dict[str, str]], None]
ACTION = actions.EOD_SQUARE_OFF


class SquareOff:
    def __init__(
        self,
        oms: OrderManager,
        calendar: TradingCalendar,
        record: Record,
        at: str = "15:25",
        done_days: set[str] | None = None,
    ) -> None:
        self.oms = oms
        self.calendar = calendar
        self.record = record
        self.at = at
        self.done_days: set[str] = set(done_days or ())  # ISO dates
        self._due: int | None = None  # next square-off time (ns) not yet done
        self._due_day: date | None = None
        self._checked_day: int | None = None

    def __call__(self, now: int) -> None:
        """Engine clock hook: one integer comparison on most calls."""
        day_number = ist_day_minute(now)[0]
        if day_number != self._checked_day:
            self._checked_day = day_number
            self._plan(ist_date(now))
        if self._due is not None and now >= self._due:
            self._square_off(now)

    def _plan(self, day: date) -> None:
        self._due, self._due_day = None, None
        holding = any(p.quantity for p in self.oms.book.positions.values())
        if day.isoformat() in self.done_days and not holding:
            return  # done today; a restart still holding positions squares off again
        due = self.calendar.square_off_ts(day, self.at)
        if due is not None:
            self._due, self._due_day = due, day

    def _square_off(self, now: int) -> None:
        assert self._due_day is not None
        day = self._due_day.isoformat()
        self._due = None
        self.done_days.add(day)
        positions = {s: str(p.quantity) for s, p in self.oms.book.positions.items() if p.quantity}
        self.record(
            ACTION, {"day": day, "positions": ",".join(f"{s}={q}" for s, q in positions.items())}
        )
        self.oms.cancel_all(None, "eod_square_off")
        for symbol in positions:
            self.oms.flatten(symbol, "eod_square_off")
