"""The pre-trade gate: every hard block has its own reason, exits never come here."""

from __future__ import annotations

from datetime import date, datetime
from decimal import Decimal

import pytest

from quantdesk.config import RiskLimits
from quantdesk.domain.enums import Mode, Side
from quantdesk.domain.time import IST, from_datetime
from quantdesk.risk.gate import (
    Block,
    EntryIntent,
    MarketHealth,
    OpenRisk,
    RiskState,
    allow_all,
    can_enter,
)

D = Decimal


def ist(text: str) -> int:
    return from_datetime(datetime.fromisoformat(text).replace(tzinfo=IST))


NOON = ist("2026-11-25T12:00:00")


class Calendar:
    """NSE-like: weekdays trade 09:15-15:30 IST except listed holidays."""

    def __init__(self, holidays: set[date] = frozenset(), blackout: tuple[int, int] | None = None):
        self.holidays = holidays
        self.blackout = blackout

    def is_trading_day(self, day: date) -> bool:
        return day.weekday() < 5 and day not in self.holidays

    def entry_window(self, day: date, cutoff: str = "15:10") -> tuple[int, int] | None:
        if not self.is_trading_day(day):
            return None
        return ist(f"{day}T09:15:00"), ist(f"{day}T{cutoff}:00")

    def session_of(self, ts: int) -> object | None:
        day = datetime.fromtimestamp(ts / 1e9, IST).date()
        if not self.is_trading_day(day):
            return None
        return object() if ist(f"{day}T09:15:00") <= ts < ist(f"{day}T15:30:00") else None

    def blackout_at(self, ts: int, symbol: str) -> object | None:
        if self.blackout and self.blackout[0] <= ts < self.blackout[1]:
            return "RBI policy"
        return None


def intent(**changes: object) -> EntryIntent:
    values: dict[str, object] = {
        "symbol": "INFY",
        "side": Side.BUY,
        "quantity": D(10),
        "price": D(1500),
        "stop_loss": D(1480),
        "targets": (D(1530), D(1560)),
        "ts": NOON,
        "mode": Mode.PAPER,
        "sector": "IT",
    }
    values.update(changes)
    return EntryIntent(**values)  # type: ignore[arg-type]


def state(**changes: object) -> RiskState:
    values: dict[str, object] = {
        "limits": RiskLimits(),
        "calendar": Calendar(),
        "market": {"INFY": MarketHealth(NOON - 1)},
    }
    values.update(changes)
    return RiskState(**values)  # type: ignore[arg-type]


def test_a_sound_entry_in_session_is_allowed() -> None:
    verdict = can_enter(intent(), state())
    assert verdict.allowed and verdict.reasons == ()


@pytest.mark.parametrize(
    ("intent_changes", "state_changes", "reason"),
    [
        ({}, {"kill_switch": True}, Block.KILL_SWITCH),
        ({}, {"paused": ("operator:manual",)}, Block.PAUSED),
        ({"mode": Mode.LIVE}, {"safe_mode": True}, Block.SAFE_MODE),
        ({"ts": ist("2026-11-25T09:00:00")}, {}, Block.MARKET_CLOSED),
        ({"ts": ist("2026-11-25T15:40:00")}, {}, Block.MARKET_CLOSED),
        ({"ts": ist("2026-11-25T15:10:00")}, {}, Block.ENTRY_CUTOFF),
        ({"ts": ist("2026-11-28T12:00:00")}, {}, Block.HOLIDAY),  # a Saturday
        ({}, {"calendar": Calendar(holidays={date(2026, 11, 25)})}, Block.HOLIDAY),
        ({}, {"calendar": Calendar(blackout=(NOON - 10, NOON + 10))}, Block.EVENT_BLACKOUT),
        ({"quantity": D(900)}, {}, Block.HEAT_CAP),  # 19,000 held + 900 x 20 > 20,000
        ({}, {"daily_pnl": D(-15_000)}, Block.DAILY_LOSS),
        ({}, {"trades_today": 10}, Block.MAX_TRADES_DAY),
        ({}, {"market": {"INFY": MarketHealth(NOON - 91 * 10**9)}}, Block.STALE_DATA),
        ({}, {"market": {"INFY": MarketHealth(NOON, "CROSSED")}}, Block.BAD_QUOTE),
        ({}, {"market": {"TCS": MarketHealth(NOON)}}, Block.NO_MARKET_DATA),
        ({"targets": (D(1510),)}, {}, Block.REWARD_RISK),  # 10 reward for 20 risk
        ({"stop_loss": D(1505)}, {}, Block.STOP_WRONG_SIDE),  # price ran through the stop
        ({"side": Side.SELL, "targets": (D(1400),)}, {}, Block.STOP_WRONG_SIDE),
        (
            {"side": Side.SELL, "stop_loss": D(1520), "targets": (D(1460),)},
            {"positions": {"INFY": OpenRisk(D(10), D(200), D(15000), "IT", Side.BUY)}},
            Block.OPPOSITE_POSITION,
        ),
    ],
)
def test_each_hard_block_names_its_reason(
    intent_changes: dict[str, object], state_changes: dict[str, object], reason: Block
) -> None:
    if reason is Block.HEAT_CAP:
        state_changes = {"positions": {"TCS": OpenRisk(D(100), D(19_000), D(1), "IT")}}
    verdict = can_enter(intent(**intent_changes), state(**state_changes))
    assert not verdict.allowed
    assert reason in verdict.reasons


def test_heat_counts_the_new_trades_risk_against_the_cap() -> None:
    limits = RiskLimits(heat_cap=D(20_000))
    held = {"TCS": OpenRisk(D(100), D(19_800), D(350_000), "IT2")}
    # 10 x (1500 - 1480) = 200 of new risk: 19,800 + 200 = 20,000 is at the cap, allowed
    assert can_enter(intent(), state(limits=limits, positions=held)).allowed
    # one more unit tips it over
    verdict = can_enter(intent(quantity=D(11)), state(limits=limits, positions=held))
    assert verdict.reasons == (Block.HEAT_CAP,)


def test_a_stopless_entry_risks_its_whole_notional() -> None:
    limits = RiskLimits(heat_cap=D(10_000))
    verdict = can_enter(intent(stop_loss=None, targets=()), state(limits=limits))
    assert verdict.reasons == (Block.HEAT_CAP,)  # 10 x 1500 = 15,000 > 10,000


def test_open_trade_cap_allows_adding_to_a_held_symbol_only() -> None:
    limits = RiskLimits(max_open_trades=2)
    held = {s: OpenRisk(D(1), D(0), D(100)) for s in ("TCS", "INFY")}
    assert can_enter(intent(), state(limits=limits, positions=held)).allowed
    other = intent(symbol="WIPRO", sector=None)
    market = {"WIPRO": MarketHealth(NOON)}
    verdict = can_enter(other, state(limits=limits, positions=held, market=market))
    assert verdict.reasons == (Block.MAX_OPEN_TRADES,)


def test_symbol_and_sector_exposure_caps() -> None:
    limits = RiskLimits(max_symbol_exposure=D(20_000), max_sector_exposure=D(30_000))
    held = {
        "INFY": OpenRisk(D(5), D(0), D(7_500), "IT"),
        "TCS": OpenRisk(D(5), D(0), D(10_000), "IT"),
    }
    # new notional 15,000: INFY 7,500 + 15,000 > 20,000; IT 17,500 + 15,000 > 30,000
    verdict = can_enter(intent(), state(limits=limits, positions=held))
    assert set(verdict.reasons) == {Block.SYMBOL_EXPOSURE, Block.SECTOR_EXPOSURE}


def test_every_failing_check_is_reported_not_just_the_first() -> None:
    verdict = can_enter(intent(), state(kill_switch=True, paused=("x",), trades_today=99))
    assert {Block.KILL_SWITCH, Block.PAUSED, Block.MAX_TRADES_DAY} <= set(verdict.reasons)


def test_no_calendar_means_no_session_checks_and_allow_all_allows_everything() -> None:
    saturday_night = ist("2026-11-28T23:00:00")
    market = {"INFY": MarketHealth(saturday_night)}
    assert can_enter(intent(ts=saturday_night), state(calendar=None, market=market)).allowed
    assert allow_all(intent(), state(kill_switch=True)).allowed
