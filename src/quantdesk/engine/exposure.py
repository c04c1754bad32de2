"""What the desk has at risk, in the shape the risk gate judges (`risk.gate.OpenRisk`).

Heat is what the stops put at risk from the entry price, plan by plan (a stopless
quantity risks its notional), so a price move never breaches the cap by itself; entries
still working count as if filled at their limit, so two quick signals cannot both slip
under a limit and a fill inside the protective limit cannot take heat over the cap.
"""

from __future__ import annotations

from collections.abc import Callable
from decimal import Decimal
from typing import TYPE_CHECKING

from quantdesk.domain.enums import Side
from quantdesk.risk.gate import OpenRisk

if TYPE_CHECKING:
    from quantdesk.execution.order_manager import OrderManager

ZERO = Decimal(0)
Mark = Callable[[str], Decimal | None]
Sector = Callable[[str], str | None]


def entry_heat(quantity: Decimal, entry: Decimal, stop: Decimal | None, side: Side) -> Decimal:
    if stop is None:
        return quantity * entry
    return max(ZERO, (entry - stop) * side.sign) * quantity


def open_risk(oms: OrderManager, mark: Mark, sector: Sector) -> tuple[dict[str, OpenRisk], Decimal]:
    """(symbol -> OpenRisk, unrealised P&L at the marks) over positions and working entries."""
    positions: dict[str, OpenRisk] = {}
    unrealised = ZERO
    brackets = oms.bracket_heat()
    for symbol, position in oms.book.positions.items():
        quantity = position.quantity
        if not quantity:
            continue
        held = abs(quantity)
        entry = position.avg_price or ZERO
        price = mark(symbol) or entry
        unrealised += position.unrealised_pnl(price)
        side = Side.BUY if quantity > 0 else Side.SELL
        covered, heat = brackets.get(f"{symbol}:{side.value}", (ZERO, ZERO))
        if covered < held:  # what no bracket protects risks its notional
            heat += (held - covered) * entry
        positions[symbol] = OpenRisk(held, heat, held * price, sector(symbol), side)
    for order, stop in oms.working_entries():
        price = order.limit_price or mark(order.symbol) or ZERO
        heat = entry_heat(order.remaining, price, stop, order.side)
        held_risk = positions.get(order.symbol)
        positions[order.symbol] = OpenRisk(
            (held_risk.quantity if held_risk else ZERO) + order.remaining,
            (held_risk.heat if held_risk else ZERO) + heat,
            (held_risk.exposure if held_risk else ZERO) + order.remaining * price,
            sector(order.symbol),
            held_risk.side if held_risk else order.side,
        )
    return positions, unrealised
