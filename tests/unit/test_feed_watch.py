"""A silent feed trips the data-health breaker during the session, never overnight."""

from __future__ import annotations

from datetime import date

from quantdesk.engine.feed_watch import FeedWatch
from quantdesk.risk.calendar import TradingCalendar
from quantdesk.risk.market_days import MarketDay
from tests.testkit.calendar import ist
from tests.testkit.paper import paper_desk, quote

S = 1_000_000_000


def watched(start: str):
    calendar = TradingCalendar(None, announced=[MarketDay(date(2026, 11, 26), "Holiday")])
    desk = paper_desk(calendar=calendar, start=ist(start))
    watch = FeedWatch(desk.engine, calendar, every_s=10)
    watch.start()
    codes: list[str] = []
    desk.engine.bus.subscribe("risk", lambda e: codes.append(e.code))
    return desk, watch, codes


def test_silence_in_session_trips_and_fresh_data_recovers_after_the_quiet_period() -> None:
    desk, _, codes = watched("2026-11-25T10:00:00")
    engine = desk.engine
    quote(desk, "INFY", "100")
    engine.drain(engine.now() + 131 * S)  # over 120 s of silence, seen at the next check
    assert "BREAKER_DATA_HEALTH" in codes
    assert engine.risk.paused == ("breaker:data_health",)
    for _ in range(7):  # 60 s of fresh data, every 10 s
        quote(desk, "INFY", "100", after_ms=10_000)
    assert engine.risk.paused == ()
    assert "BREAKER_RECOVERED" in codes


def test_nights_and_holidays_are_not_a_dead_feed() -> None:
    desk, watch, codes = watched("2026-11-25T15:29:00")
    engine = desk.engine
    quote(desk, "INFY", "100")
    # from 15:29 Wednesday through the Thursday holiday to 09:15:30 Friday
    engine.drain(ist("2026-11-27T09:15:30"))
    assert codes == [] and not engine.risk.paused
    assert watch.checks <= 10  # checked only while a session was open
    engine.drain(ist("2026-11-27T09:17:30"))  # the open was 135 s ago, still nothing
    assert "BREAKER_DATA_HEALTH" in codes


def test_stop_lets_a_drain_finish() -> None:
    desk, watch, _ = watched("2026-11-25T10:00:00")
    watch.stop()
    desk.engine.drain(None)  # would never end if the watch kept rescheduling
    assert desk.engine.queue.next_ts() is None
