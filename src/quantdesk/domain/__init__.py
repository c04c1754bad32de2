"""Value types and events of the trading domain. Standard library only."""

from quantdesk.domain.enums import CapTier, Mode, OrderType, Severity, Side, TimeInForce
from quantdesk.domain.fill import Fill
from quantdesk.domain.instrument import Instrument
from quantdesk.domain.market import Bar, Quote
from quantdesk.domain.order import Order, OrderStatus
from quantdesk.domain.position import Position
from quantdesk.domain.risk_event import RiskEvent
from quantdesk.domain.signal import Decision, DecisionStatus, Signal
from quantdesk.domain.trade import Trade

__all__ = [
    "Bar",
    "CapTier",
    "Decision",
    "DecisionStatus",
    "Fill",
    "Instrument",
    "Mode",
    "Order",
    "OrderStatus",
    "OrderType",
    "Position",
    "Quote",
    "RiskEvent",
    "Severity",
    "Side",
    "Signal",
    "TimeInForce",
    "Trade",
]
