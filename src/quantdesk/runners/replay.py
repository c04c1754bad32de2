"""Replay a recorded run and prove it is the same run: identical decision/order log.

A profile (a JSON file with `params`, `risk` and `venue` overrides) replays the same
events under another configuration; two profiles run side by side and the first line
where their logs part is reported.
"""

from __future__ import annotations

import json
from dataclasses import dataclass, field
from decimal import Decimal
from pathlib import Path
from typing import Any

from quantdesk.config import RiskLimits, Settings
from quantdesk.domain.time import ist_date
from quantdesk.engine.clock import SimulatedClock
from quantdesk.engine.decision_log import Divergence, first_divergence
from quantdesk.engine.recorder import read_bars, read_manifest
from quantdesk.execution.book import ClosedTrade
from quantdesk.runners.closeout import close_out
from quantdesk.runners.paper import PaperSpec, build_paper_desk, start_paper_desk
from quantdesk.runners.paper_calendar import recorded_calendar
from quantdesk.runners.slippage_job import apply_model, from_manifest
from quantdesk.storage.risk_memory import RiskMemory
from quantdesk.venues.paper import PaperVenueConfig

RECORDED = "recorded"


class ReplayError(ValueError):
    """The run or profile cannot be replayed; the message says why."""


@dataclass
class ReplayResult:
    profile: str
    log_sha256: str
    lines: list[str]
    trades: list[ClosedTrade] = field(default_factory=list)

    @property
    def net_pnl(self) -> Decimal:
        return sum((t.trade.net_pnl for t in self.trades), Decimal(0))


def recorded_lines(run_dir: Path) -> list[str]:
    path = run_dir / "decision_log.txt"
    return path.read_text(encoding="utf-8").splitlines() if path.exists() else []


def load_profile(path: Path | None) -> tuple[str, dict[str, Any]]:
    if path is None or str(path) == RECORDED:
        return RECORDED, {}
    if not path.exists():
        raise ReplayError(f"profile {path} does not exist")
    try:
        data = json.loads(path.read_text())
    except json.JSONDecodeError as exc:
        raise ReplayError(f"profile {path}: invalid JSON ({exc})") from None
    unknown = set(data) - {"params", "risk", "venue"}
    if unknown:
        raise ReplayError(f"profile {path}: unknown sections {sorted(unknown)}")
    return path.stem, data


def replay(run_dir: Path, settings: Settings, profile: Path | None = None) -> ReplayResult:
    manifest = read_manifest(run_dir)
    name, overrides = load_profile(profile)
    risk = {**manifest["config"]["risk"], **overrides.get("risk", {})}
    spec = PaperSpec(
        strategy=manifest["strategy"],
        symbol=manifest["symbol"],
        params={**manifest["params"], **overrides.get("params", {})},
        venue=PaperVenueConfig(**{**manifest["venue"], **overrides.get("venue", {})}),
    )
    replay_settings = settings.model_copy(update={"risk": RiskLimits(**risk)})
    bars = read_bars(run_dir)
    if not bars:
        raise ReplayError(f"{run_dir} recorded no bars")
    clock = SimulatedClock(bars[0].ts)
    calendar = recorded_calendar(run_dir, ist_date(bars[0].ts))
    memory = RiskMemory(state=manifest.get("risk_memory"))
    scope = str(manifest.get("id_scope", ""))
    desk = build_paper_desk(
        spec, replay_settings, clock, None, calendar, memory.squared_off_days, scope
    )
    apply_model(desk, from_manifest(manifest.get("slippage_model", {})))
    result = ReplayResult(name, "", [])
    desk.engine.bus.subscribe("trade", result.trades.append)
    start_paper_desk(desk, memory)
    desk.engine.run_feed(bars)
    close_out(desk, {b.symbol: b for b in bars})
    result.log_sha256 = desk.engine.log.sha256
    result.lines = desk.engine.log.lines
    return result


def divergence(a: list[str], b: list[str]) -> Divergence | None:
    return first_divergence(a, b)
