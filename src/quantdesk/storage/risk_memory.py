"""What the risk controls recall after a restart, read back from the journal.

The kill switch, an operator's pause and the breakers only an operator may clear come
from the latest `risk.state` action, whatever the day: a restart must never be a way
around them. The day's counters (entries sent, realised P&L) and the days already squared
off come from the day's own rows, so a process that restarts at 14:00 does not get a
fresh allowance of trades or losses, nor square off twice.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import date
from decimal import Decimal

from sqlalchemy import Engine, func, select

from quantdesk.domain.actions import EOD_SQUARE_OFF, RISK_STATE
from quantdesk.domain.time import IST_OFFSET_NS, NS_PER_DAY, to_datetime
from quantdesk.storage.db import session_factory
from quantdesk.storage.models import AuditLogRow, DecisionRow, TradeRow

_EPOCH_ORDINAL = date(1970, 1, 1).toordinal()


@dataclass(frozen=True)
class RiskMemory:
    state: dict[str, str] | None = None  # RiskControls.memory() as last saved
    trades_today: int = 0
    realised_today: Decimal = Decimal(0)
    squared_off_days: set[str] = field(default_factory=set)


def load_risk_memory(engine: Engine, day: date) -> RiskMemory:
    start = (day.toordinal() - _EPOCH_ORDINAL) * NS_PER_DAY - IST_OFFSET_NS
    begin, end = to_datetime(start), to_datetime(start + NS_PER_DAY)
    with session_factory(engine)() as db:
        state = db.scalars(
            select(AuditLogRow.payload)
            .where(AuditLogRow.action == RISK_STATE)
            .order_by(AuditLogRow.id.desc())
            .limit(1)
        ).first()
        trades = db.scalar(
            select(func.count(DecisionRow.id)).where(
                DecisionRow.status == "APPROVED", DecisionRow.ts >= begin, DecisionRow.ts < end
            )
        )
        realised = db.scalars(
            select(TradeRow.net_pnl).where(
                TradeRow.status == "CLOSED", TradeRow.exit_ts >= begin, TradeRow.exit_ts < end
            )
        ).all()
        squared = db.scalars(
            select(AuditLogRow.payload).where(AuditLogRow.action == EOD_SQUARE_OFF)
        ).all()
    return RiskMemory(
        state={str(k): str(v) for k, v in state.items()} if state else None,
        trades_today=int(trades or 0),
        realised_today=sum(realised, Decimal(0)),
        squared_off_days={str(p["day"]) for p in squared if "day" in p},
    )
