"""The pre-trade gate: `can_enter(intent, state) -> Verdict(allowed, reasons)`.

Pure: the verdict depends only on its two arguments, so a refusal can be replayed and
explained from the audit row alone. Every failing check adds its own reason code (all
of them, not just the first: an operator fixing one limit should see the next).
Exits, stop moves and flattening never come here.
"""

from __future__ import annotations

from collections.abc import Callable, Mapping
from dataclasses import dataclass, field
from decimal import Decimal
from enum import StrEnum
from typing import TYPE_CHECKING

from quantdesk.domain.enums import Mode, Side
from quantdesk.domain.time import ist_date

if TYPE_CHECKING:
    from quantdesk.config import RiskLimits
    from quantdesk.risk.calendar import TradingCalendar

NS_PER_MS = 1_000_000


class Block(StrEnum):
    KILL_SWITCH = "KILL_SWITCH"
    PAUSED = "PAUSED"
    SAFE_MODE = "SAFE_MODE"
    MARKET_CLOSED = "MARKET_CLOSED"
    ENTRY_CUTOFF = "ENTRY_CUTOFF"
    HOLIDAY = "HOLIDAY"
    EVENT_BLACKOUT = "EVENT_BLACKOUT"
    HEAT_CAP = "HEAT_CAP"
    DAILY_LOSS = "DAILY_LOSS"
    MAX_TRADES_DAY = "MAX_TRADES_DAY"
    MAX_OPEN_TRADES = "MAX_OPEN_TRADES"
    SYMBOL_EXPOSURE = "SYMBOL_EXPOSURE"
    SECTOR_EXPOSURE = "SECTOR_EXPOSURE"
    STALE_DATA = "STALE_DATA"
    NO_MARKET_DATA = "NO_MARKET_DATA"
    BAD_QUOTE = "BAD_QUOTE"
    REWARD_RISK = "REWARD_RISK"
    STOP_WRONG_SIDE = "STOP_WRONG_SIDE"
    OPPOSITE_POSITION = "OPPOSITE_POSITION"


@dataclass(frozen=True, slots=True)
class EntryIntent:
    symbol: str
    side: Side
    quantity: Decimal
    price: Decimal  # expected entry (limit, or last price for market orders)
    stop_loss: Decimal | None
    targets: tuple[Decimal, ...]
    ts: int
    mode: Mode
    sector: str | None = None

    @property
    def risk(self) -> Decimal:
        """Rupees lost if the stop is hit; without a stop the whole notional is at risk."""
        if self.stop_loss is None:
            return self.quantity * self.price
        return self.quantity * abs(self.price - self.stop_loss)


@dataclass(frozen=True, slots=True)
class OpenRisk:
    """One open position as the gate sees it."""

    quantity: Decimal  # absolute
    heat: Decimal  # rupees to the stop from the current price (notional without a stop)
    exposure: Decimal  # notional at the current price
    sector: str | None = None
    side: Side | None = None  # BUY for a long (or a working buy entry)


@dataclass(frozen=True, slots=True)
class MarketHealth:
    """Freshness and firewall verdict of the symbol's latest market data."""

    last_ts: int  # when the latest bar ended or quote arrived
    firewall: str | None = None  # the quote firewall's reason, None when clean


@dataclass(frozen=True, slots=True)
class RiskState:
    limits: RiskLimits | None = None  # None: no numeric limits (research)
    kill_switch: bool = False
    paused: tuple[str, ...] = ()  # why entries are paused (operator, breakers)
    safe_mode: bool = True
    calendar: TradingCalendar | None = None  # None: the market never closes (24x7 data)
    positions: Mapping[str, OpenRisk] = field(default_factory=dict)
    daily_pnl: Decimal = Decimal(0)  # realised + unrealised today
    trades_today: int = 0
    market: Mapping[str, MarketHealth] = field(default_factory=dict)

    @property
    def heat(self) -> Decimal:
        return sum((p.heat for p in self.positions.values()), Decimal(0))


@dataclass(frozen=True, slots=True)
class Verdict:
    allowed: bool
    reasons: tuple[str, ...] = ()


ALLOWED = Verdict(True)
Gate = Callable[[EntryIntent, RiskState], Verdict]


def allow_all(intent: EntryIntent, state: RiskState) -> Verdict:
    """The `none` risk profile of research backtests; refused in PAPER and LIVE."""
    return ALLOWED


def can_enter(intent: EntryIntent, state: RiskState) -> Verdict:
    reasons: list[str] = []
    if state.kill_switch:
        reasons.append(Block.KILL_SWITCH)
    if state.paused:
        reasons.append(Block.PAUSED)
    if intent.mode is Mode.LIVE and state.safe_mode:
        reasons.append(Block.SAFE_MODE)
    if intent.stop_loss is not None and (
        intent.stop_loss >= intent.price
        if intent.side is Side.BUY
        else intent.stop_loss <= intent.price
    ):
        reasons.append(Block.STOP_WRONG_SIDE)  # a market signal's stop the price ran through
    if state.calendar is not None:
        reasons.extend(_session_blocks(intent, state))
    held = state.positions.get(intent.symbol)
    if held is not None and held.side is not None and held.side is not intent.side:
        # netting against an open bracket would leave its stop working with nothing to
        # protect (and able to open a position); the strategy exits first, exits never wait
        reasons.append(Block.OPPOSITE_POSITION)
    reasons.extend(_market_blocks(intent, state))
    if state.limits is not None:
        reasons.extend(_limit_blocks(intent, state, state.limits))
    return Verdict(False, tuple(reasons)) if reasons else ALLOWED


def _session_blocks(intent: EntryIntent, state: RiskState) -> list[str]:
    calendar = state.calendar
    assert calendar is not None
    day = ist_date(intent.ts)
    if not calendar.is_trading_day(day):
        return [Block.HOLIDAY]
    blocks = []
    cutoff = state.limits.entry_cutoff if state.limits is not None else "15:10"
    window = calendar.entry_window(day, cutoff)
    if window is None or not window[0] <= intent.ts:
        blocks.append(Block.MARKET_CLOSED)
    elif intent.ts >= window[1]:
        session = calendar.session_of(intent.ts)
        blocks.append(Block.ENTRY_CUTOFF if session is not None else Block.MARKET_CLOSED)
    if calendar.blackout_at(intent.ts, intent.symbol) is not None:
        blocks.append(Block.EVENT_BLACKOUT)
    return blocks


def _market_blocks(intent: EntryIntent, state: RiskState) -> list[str]:
    health = state.market.get(intent.symbol)
    if health is None:
        return [Block.NO_MARKET_DATA] if state.market else []
    blocks = []
    if (
        state.limits is not None
        and intent.ts - health.last_ts > state.limits.stale_data_ms * NS_PER_MS
    ):
        blocks.append(Block.STALE_DATA)
    if health.firewall is not None:
        blocks.append(Block.BAD_QUOTE)
    return blocks


def _limit_blocks(intent: EntryIntent, state: RiskState, limits: RiskLimits) -> list[str]:
    blocks = []
    if state.heat + intent.risk > limits.heat_cap:
        blocks.append(Block.HEAT_CAP)
    if state.daily_pnl <= -limits.daily_loss_limit:
        blocks.append(Block.DAILY_LOSS)
    if state.trades_today >= limits.max_trades_per_day:
        blocks.append(Block.MAX_TRADES_DAY)
    open_trades = sum(1 for p in state.positions.values() if p.quantity)
    if intent.symbol not in state.positions and open_trades >= limits.max_open_trades:
        blocks.append(Block.MAX_OPEN_TRADES)
    notional = intent.quantity * intent.price
    held = state.positions.get(intent.symbol)
    if (held.exposure if held else 0) + notional > limits.max_symbol_exposure:
        blocks.append(Block.SYMBOL_EXPOSURE)
    if intent.sector is not None:
        sector = sum(
            (p.exposure for p in state.positions.values() if p.sector == intent.sector),
            Decimal(0),
        )
        if sector + notional > limits.max_sector_exposure:
            blocks.append(Block.SECTOR_EXPOSURE)
    if intent.stop_loss is not None and intent.targets:
        risk = abs(intent.price - intent.stop_loss)
        reward = abs(intent.targets[-1] - intent.price)
        if risk == 0 or reward < risk * limits.min_reward_risk:
            blocks.append(Block.REWARD_RISK)
    return blocks
