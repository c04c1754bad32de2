"""What an alert is and how it reads on a phone: one line of news, the numbers, the IST
time. Money and prices are exact decimal strings, as everywhere else in the desk; only
averages that have no finite decimal form are rounded, and say so with a `~`."""

from __future__ import annotations

from dataclasses import dataclass
from decimal import Decimal

from quantdesk.domain.enums import Severity
from quantdesk.domain.time import IST, to_datetime

Level = Severity  # INFO < WARNING < CRITICAL
_RANK = {Severity.INFO: 0, Severity.WARNING: 1, Severity.CRITICAL: 2}
_AVERAGE_DIGITS = 8
_AVERAGE_QUANTUM = Decimal("0.0001")
_PAISE = Decimal("0.01")


def rank(level: Severity) -> int:
    """Order of levels, for `min_level` and for letting a worse alert through a cooldown."""
    return _RANK[level]


@dataclass(frozen=True, slots=True)
class Alert:
    """`key` names the condition, not the occurrence: alerts sharing a key share a
    cooldown (`breaker:rejections`, `trade:<plan>:filled`)."""

    key: str
    level: Severity
    title: str
    detail: str
    ts: int  # UTC epoch ns of what happened

    def text(self, origin: str, suppressed: int = 0) -> str:
        lines = [f"{self.level.value}: {self.title}"]
        if self.detail:
            lines.append(self.detail)
        lines.append(f"{ist_stamp(self.ts)} · {origin}")
        if suppressed:
            plural = "s" if suppressed > 1 else ""
            lines.append(f"({suppressed} similar alert{plural} held back since the last one)")
        return "\n".join(lines)


def ist_stamp(ts: int) -> str:
    return to_datetime(ts).astimezone(IST).strftime("%Y-%m-%d %H:%M:%S IST")


def num(value: Decimal) -> str:
    """Plain notation, never `1E+3`, never a float."""
    return format(value, "f")


def money(value: Decimal) -> str:
    """Rupees with at least two places and no trailing zeros past them (P&L carries
    twelve places internally): still exact, only zeros change."""
    trimmed = value.normalize()
    exponent = trimmed.as_tuple().exponent
    if isinstance(exponent, int) and exponent > -2:
        return num(trimmed.quantize(_PAISE))
    return num(trimmed)


def average(value: Decimal) -> str:
    """An average price (notional / quantity) may not terminate: show four places then."""
    exponent = value.as_tuple().exponent
    if isinstance(exponent, int) and exponent >= -_AVERAGE_DIGITS:
        return num(value)
    return "~" + num(value.quantize(_AVERAGE_QUANTUM))
