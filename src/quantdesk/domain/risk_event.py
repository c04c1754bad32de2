"""Something the risk layer must remember: a refusal, a breaker, a broken invariant."""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass, field

from quantdesk.domain.enums import Severity


@dataclass(frozen=True, slots=True)
class RiskEvent:
    ts: int
    code: str  # machine-readable reason, e.g. HEAT_CAP, ILLEGAL_TRANSITION
    severity: Severity
    message: str
    symbol: str | None = None
    details: Mapping[str, str] = field(default_factory=dict)
