"""The data-health breaker's clock: a silent feed sends no event, so something must look.

An engine timer every `every_s` of engine time asks the risk controls whether the feed has
gone quiet, only while the session is open and counting from the open (an exchange that
is shut is not a broken feed). Installed by the paper and live runners; backtests read
files, which cannot stall.
"""

from __future__ import annotations

from typing import TYPE_CHECKING

from quantdesk.risk.breakers import NS_PER_S

if TYPE_CHECKING:
    from quantdesk.engine.engine import Engine
    from quantdesk.risk.calendar import TradingCalendar


class FeedWatch:
    def __init__(self, engine: Engine, calendar: TradingCalendar | None, every_s: int = 10) -> None:
        if every_s <= 0:
            raise ValueError(f"every_s must be positive, got {every_s}")
        self.engine = engine
        self.calendar = calendar
        self.every_ns = every_s * NS_PER_S
        self.checks = 0
        self.running = False

    def start(self) -> None:
        self.running = True
        self.engine.schedule(self.engine.now() + self.every_ns, self._tick, None)

    def stop(self) -> None:
        """The queued tick runs once more and does not come back (so a drain can end)."""
        self.running = False

    def _tick(self, _: object) -> None:
        if not self.running:
            return
        now = self.engine.now()
        if self.calendar is None:
            self.engine.risk.check_feed(now)
            self.checks += 1
        else:
            session = self.calendar.session_of(now)
            if session is not None:
                self.engine.risk.check_feed(now, not_before=session.open_ns)
                self.checks += 1
        self.engine.schedule(now + self.every_ns, self._tick, None)
