"""The slippage model in a run: loaded once at start and recorded in the run manifest.

Recomputing it (`quantdesk slippage recompute`, daily after the close) happens outside
the engine loop: a model that changed mid-run would make the run impossible to replay.
"""

from __future__ import annotations

from decimal import Decimal
from typing import Any

from quantdesk.desk import Desk
from quantdesk.storage.slippage import SlippageModel


def apply_model(desk: Desk, model: SlippageModel) -> None:
    """Sizing budgets it; the paper venue charges it on taker fills."""
    desk.engine.slippage_model = dict(model)
    venue_model = getattr(desk.venue, "slippage_model", None)
    if isinstance(venue_model, dict):
        venue_model.clear()
        venue_model.update({f"{s}:{side}": bps for (s, side), bps in model.items()})


def to_manifest(model: SlippageModel) -> dict[str, str]:
    return {f"{s}:{side}": str(bps) for (s, side), bps in sorted(model.items())}


def from_manifest(data: dict[str, Any]) -> SlippageModel:
    model: SlippageModel = {}
    for key, bps in data.items():
        symbol, _, side = key.rpartition(":")
        model[(symbol, side)] = Decimal(bps)
    return model
