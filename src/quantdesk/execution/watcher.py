"""OrderWatcher: the bracket invariants, checked after every fill and order close.

1. Never a double exit: what the children filled never exceeds what the entry filled
   (a stop and a target both filling the same quantity). A venue that breaks it leaves
   us with an unintended opposite position: CRITICAL RiskEvent, and it is flattened.
2. Never a naked position: while a bracketed trade is open, working stop orders cover
   its whole open quantity. If not (a stop rejected or cancelled under us): RiskEvent,
   and the stop is placed again.
"""

from __future__ import annotations

from dataclasses import dataclass
from decimal import Decimal

from quantdesk.domain.order import Order
from quantdesk.execution.bracket import Bracket


@dataclass(frozen=True, slots=True)
class Breach:
    code: str  # DOUBLE_EXIT or NAKED_POSITION
    plan_id: str
    symbol: str
    message: str
    shortfall: Decimal  # overfill (double exit) or uncovered quantity (naked)


_PROTECTIVE = ("stop", "exit")  # a working stop, or a working exit closing the position


def check_bracket(bracket: Bracket, children: list[Order]) -> Breach | None:
    # exits count positive; a repair trading back in the entry's direction counts negative
    exit_side = bracket.side.opposite
    exited = sum(
        (o.filled_quantity if o.side is exit_side else -o.filled_quantity for o in children),
        Decimal(0),
    )

    if exited > bracket.entry_filled:
        over = exited - bracket.entry_filled
        return Breach(
            "DOUBLE_EXIT",
            bracket.plan_id,
            bracket.symbol,
            f"children filled {exited} against an entry of {bracket.entry_filled}",
            over,
        )
    open_qty = bracket.entry_filled - exited
    if open_qty <= 0:
        return None
    covered = sum(
        (o.remaining for o in children if o.status.is_open and o.leg.split(".")[0] in _PROTECTIVE),
        Decimal(0),
    )
    if covered < open_qty:
        return Breach(
            "NAKED_POSITION",
            bracket.plan_id,
            bracket.symbol,
            f"stops cover {covered} of an open {open_qty}",
            open_qty - covered,
        )
    return None
