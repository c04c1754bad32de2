"""Audited operator and safety actions: their names, and the event the bus carries."""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass

RISK_STATE = "risk.state"  # RiskControls.memory() after every trading-state change
EOD_SQUARE_OFF = "eod.square_off"


@dataclass(frozen=True, slots=True)
class Action:
    """What `Engine.record_action` journals and publishes on the bus topic "action"."""

    name: str
    payload: Mapping[str, str]
    ts: int  # engine time, epoch ns
