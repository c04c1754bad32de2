"""Paper runs trade on the NSE calendar of their data's own dates, skip shut markets,
keep their calendar for replay, and recall a kill switch engaged before a restart."""

from __future__ import annotations

import asyncio
import json
from datetime import UTC, date, datetime, timedelta
from decimal import Decimal
from pathlib import Path

from sqlalchemy import select

from quantdesk.config import CalendarSettings, Settings
from quantdesk.domain import actions
from quantdesk.domain.market import Bar
from quantdesk.domain.time import IST, from_datetime, ist_date
from quantdesk.runners.paper import PaperSpec, run_paper
from quantdesk.runners.replay import recorded_lines, replay
from quantdesk.storage import migrate
from quantdesk.storage.db import make_engine
from quantdesk.storage.journal import Journal, Provenance
from quantdesk.storage.models import AuditLogRow, DecisionRow
from quantdesk.venues.paper import PaperVenueConfig

D = Decimal
MINUTE = 60 * 10**9
# Fri 23 Jan 2026, Mon 26 Jan (Republic Day: NSE shut), Tue 27 Jan
DAYS = (date(2026, 1, 23), date(2026, 1, 26), date(2026, 1, 27))


def closing_half_hours() -> list[Bar]:
    """15:00-15:29 IST of each day: a zig-zag that makes SMA(2/5) cross both ways."""
    bars = []
    for day in DAYS:
        start = from_datetime(datetime(day.year, day.month, day.day, 15, 0, tzinfo=IST))
        for i in range(30):
            close = D(100) + D((i % 6) - 3 if i % 12 < 6 else 3 - (i % 6))
            high, low = close + 1, close - 1
            bars.append(Bar("ZIG", start + i * MINUTE, close, high, low, close, D(1000), MINUTE))
    return bars


def settings_for(tmp_path: Path, override: Path | None = None) -> Settings:
    return Settings(
        database_url=f"sqlite:///{tmp_path / 'qd.db'}",
        calendar=CalendarSettings(holiday_store=tmp_path / "holidays.json", override_file=override),
    )


def run(tmp_path: Path, settings: Settings, name: str = "run", speed: float = 6000.0):
    spec = PaperSpec(
        strategy="sma_cross",
        symbol="ZIG",
        params={"fast": "2", "slow": "5", "qty": "3"},
        speed=speed,
        venue=PaperVenueConfig(latency_ms=50),
    )
    run_dir = tmp_path / name
    # Without skipping shut markets this would wait 17.5 h and a weekend / 6000 = 50 s.
    coro = run_paper(spec, settings, iter(closing_half_hours()), run_dir)
    return asyncio.run(asyncio.wait_for(coro, timeout=20)), run_dir


def decisions(settings: Settings) -> list[DecisionRow]:
    with make_engine(settings.database_url).connect() as c:
        return list(c.execute(select(DecisionRow)).all())  # type: ignore[arg-type]


def audit(settings: Settings, action: str) -> list[dict[str, str]]:
    with make_engine(settings.database_url).connect() as c:
        query = select(AuditLogRow.payload).where(AuditLogRow.action == action)
        return [payload for (payload,) in c.execute(query)]


def test_the_run_follows_the_nse_calendar_of_its_data(tmp_path: Path) -> None:
    settings = settings_for(tmp_path)
    result, run_dir = run(tmp_path, settings)
    assert result.bars == 90
    rows = decisions(settings)
    approved = [r for r in rows if r.status == "APPROVED"]
    assert approved, "the zig-zag must produce entries before the cut-off"
    for row in approved:
        when = row.ts.replace(tzinfo=None) + timedelta(hours=5, minutes=30)
        assert when.date() != date(2026, 1, 26), "an entry on Republic Day"
        assert when.time() < datetime(2026, 1, 1, 15, 10).time(), "an entry after 15:10"
    refused = {reason for r in rows if r.status == "REFUSED" for reason in r.reasons}
    assert {"HOLIDAY", "ENTRY_CUTOFF"} <= refused
    squared = sorted(p["day"] for p in audit(settings, actions.EOD_SQUARE_OFF))
    assert squared == ["2026-01-23", "2026-01-27"]  # once per trading day, none on the holiday
    assert (run_dir / "calendar").is_dir()
    assert replay(run_dir, settings).lines == recorded_lines(run_dir)


def test_replay_uses_the_calendar_the_run_traded_on(tmp_path: Path) -> None:
    override = tmp_path / "overrides.toml"
    override.write_text("")
    settings = settings_for(tmp_path, override)
    _, run_dir = run(tmp_path, settings)
    traded_27th = on_27th(decisions(settings), "APPROVED")
    assert traded_27th, "the first run must trade the 27th"
    # announced after the run: today's file would shut the 27th, the recorded copy does not
    override.write_text('[[holiday]]\ndate = 2026-01-27\nname = "Announced late"\n')
    assert replay(run_dir, settings).lines == recorded_lines(run_dir)
    # ...while a new run on the same data does see it: no new entry on the 27th
    run(tmp_path, settings, name="again")
    assert on_27th(decisions(settings), "APPROVED") == traded_27th
    refused = on_27th(decisions(settings), "REFUSED")
    assert any("HOLIDAY" in r.reasons for r in refused)


def on_27th(rows: list[DecisionRow], status: str) -> list[DecisionRow]:
    return [
        r
        for r in rows
        if r.status == status and ist_date(from_datetime(r.ts.replace(tzinfo=UTC))) == DAYS[2]
    ]


def test_a_kill_switch_engaged_before_a_restart_still_holds(tmp_path: Path) -> None:
    settings = settings_for(tmp_path)
    db = make_engine(settings.database_url)
    migrate.upgrade(db)
    journal = Journal(db, Provenance("2026-01-22-PAPER-SESSION", settings.config_sha))
    journal.record_action(
        ts=0,
        actor="risk",
        action=actions.RISK_STATE,
        payload={
            "state": "HALTED",
            "kill_switch": "1",
            "operator_pause": "",
            "breakers": "rejections",
            "reasons": "5 rejections in 10 min",
        },
    )
    journal.flush()
    _, run_dir = run(tmp_path, settings)
    rows = decisions(settings)
    assert rows and all(r.status == "REFUSED" for r in rows)
    assert all("KILL_SWITCH" in r.reasons and "PAUSED" in r.reasons for r in rows)
    manifest = json.loads((run_dir / "run.json").read_text())
    assert manifest["risk_memory"]["kill_switch"] == "1"
    assert replay(run_dir, settings).lines == recorded_lines(run_dir)
