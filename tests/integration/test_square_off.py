"""EOD square-off at 15:25 IST: once a day, on the engine clock, restart-safe."""

from __future__ import annotations

from decimal import Decimal

from quantdesk.domain.market import Bar
from tests.testkit.calendar import WeekdayCalendar, ist
from tests.testkit.paper import open_brackets, paper_desk

D = Decimal
MINUTE = 60 * 10**9


def bar(symbol: str, ts: int, price: str = "100") -> Bar:
    p = D(price)
    return Bar(symbol, ts, p, p, p, p, D(10**6), MINUTE)


def actions(desk) -> list[str]:
    return [line.split("|")[2] for line in desk.engine.log.lines if line.startswith("action|")]


def test_positions_are_closed_and_orders_cancelled_at_1525_exactly_once() -> None:
    desk = paper_desk(WeekdayCalendar(), start=ist("2026-11-25T15:00:00"))
    open_brackets(desk, ["INFY", "TCS"])
    assert desk.oms.book.quantity("INFY") == 10

    desk.engine.on_bar(bar("INFY", ist("2026-11-25T15:23:00")))  # ends 15:24: not yet
    assert "eod.square_off" not in actions(desk)
    desk.engine.on_bar(bar("INFY", ist("2026-11-25T15:24:00")))  # ends 15:25: now
    assert actions(desk).count("eod.square_off") == 1
    for minute in (25, 26, 27):  # exits fill at the next bars' opens
        desk.engine.on_bar(bar("INFY", ist(f"2026-11-25T15:{minute}:00")))
        desk.engine.on_bar(bar("TCS", ist(f"2026-11-25T15:{minute}:00")))
    desk.engine.drain(None)

    assert desk.oms.book.quantity("INFY") == 0 and desk.oms.book.quantity("TCS") == 0
    assert desk.oms.open_orders() == []
    assert actions(desk).count("eod.square_off") == 1  # later bars do not repeat it


def test_a_restart_at_1526_with_positions_open_squares_off_immediately() -> None:
    # the process died at 15:20 holding positions; it comes back at 15:26
    desk = paper_desk(WeekdayCalendar(), start=ist("2026-11-25T15:19:00"))
    open_brackets(desk, ["INFY"])
    restarted_at = ist("2026-11-25T15:26:00")
    desk.engine.on_bar(bar("INFY", restarted_at - MINUTE))  # the first bar after restart
    assert actions(desk).count("eod.square_off") == 1
    for later in (restarted_at, restarted_at + MINUTE):  # the exit fills at a next open
        desk.engine.on_bar(bar("INFY", later))
    desk.engine.drain(None)
    assert desk.oms.book.quantity("INFY") == 0
    assert actions(desk).count("eod.square_off") == 1


def test_a_day_already_squared_off_is_not_repeated_after_a_flat_restart() -> None:
    desk = paper_desk(WeekdayCalendar(), start=ist("2026-11-25T15:30:00"))
    assert desk.square_off is not None
    desk.square_off.done_days.add("2026-11-25")  # restored from the audit log
    desk.engine.on_bar(bar("INFY", ist("2026-11-25T15:30:00")))
    assert "eod.square_off" not in actions(desk)


def test_weekends_have_no_square_off() -> None:
    desk = paper_desk(WeekdayCalendar(), start=ist("2026-11-28T15:00:00"))  # Saturday
    desk.engine.on_bar(bar("INFY", ist("2026-11-28T15:30:00")))
    assert "eod.square_off" not in actions(desk)
