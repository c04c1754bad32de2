"""`quality_command` over bar files with planted defects (tests/fixtures/quality/README.md):
the calendar is the desk's own (exchange-calendars + the fixture override file)."""

from __future__ import annotations

import gzip
import json
import shutil
from pathlib import Path

import pytest
import typer
from typer.testing import CliRunner

from quantdesk.commands.quality import quality_command
from quantdesk.data.bars import iter_bars, write_bars

FIXTURES = Path(__file__).parents[1] / "fixtures" / "quality"
CLEAN, GAPPY, SPLIT = FIXTURES / "CLEANCO.csv", FIXTURES / "GAPPY.csv", FIXTURES / "SPLITCO.csv"

app = typer.Typer()
app.command()(quality_command)
runner = CliRunner()


@pytest.fixture(autouse=True)
def calendar_inputs(tmp_path, monkeypatch) -> None:
    monkeypatch.setenv("QD_CALENDAR__OVERRIDE_FILE", str(FIXTURES / "overrides.toml"))
    monkeypatch.setenv("QD_CALENDAR__HOLIDAY_STORE", str(tmp_path / "no_stored_list.json"))
    monkeypatch.setenv("COLUMNS", "250")  # rich tables must not fold what we assert on


def run(*args: str | Path):
    return runner.invoke(app, [str(a) for a in args], catch_exceptions=False)


def report_of(*args: str | Path) -> tuple[int, dict]:
    result = run(*args, "--json")
    return result.exit_code, json.loads(result.stdout)


def found(report: dict) -> set[tuple[str, str]]:
    return {(f["kind"], f["time"]) for f in report["worst"]}


def test_clean_file_passes_with_full_coverage() -> None:
    result = run(CLEAN)
    assert result.exit_code == 0, result.output
    assert "CLEANCO (1m): ok" in result.output and "100.00% (750/750 minutes" in result.output
    code, document = report_of(CLEAN)
    [report] = document["reports"]
    assert code == 0 and document["quarantined"] == []
    assert report["findings"] == 0 and report["coverage"]["fraction"] == 1.0


def test_every_planted_defect_is_found_at_its_time() -> None:
    code, document = report_of(GAPPY)
    [report] = document["reports"]
    assert code == 1 and document["quarantined"] == ["GAPPY"] and report["quarantined"]
    day, holiday, friday = "2026-01-14T", "2026-01-15T", "2026-01-16T"
    assert found(report) == {
        ("OUT_OF_SESSION", f"{day}09:07:00+05:30"),
        ("MISSING_MINUTES", f"{day}10:30:00+05:30"),
        ("DUPLICATE", f"{day}11:00:00+05:30"),
        ("CONFLICTING_DUPLICATE", f"{day}11:30:00+05:30"),
        ("OUT_OF_ORDER", f"{day}11:45:00+05:30"),
        ("OHLC_VIOLATION", f"{day}12:00:00+05:30"),
        ("OUTLIER", f"{day}13:00:00+05:30"),
        ("PLACEHOLDER_BAR", f"{day}14:00:00+05:30"),
        ("OUT_OF_SESSION", f"{day}15:40:00+05:30"),
        ("NON_TRADING_DAY", f"{holiday}09:15:00+05:30"),
        ("MISSING_MINUTES", f"{friday}15:20:00+05:30"),
    }
    assert report["counts"]["MISSING_MINUTES"] == 11  # 10:30, and 15:20-15:29 on Friday
    assert report["coverage"] == {
        "unit": "minutes",
        "expected": 750,
        "present": 738,  # 750 - 11 missing - the placeholder
        "fraction": round(738 / 750, 6),
        "expected_days": 2,
        "present_days": 2,
    }
    assert report["reasons"] == ["1 CONFLICTING_DUPLICATE", "1 OHLC_VIOLATION", "1 OUT_OF_ORDER"]


def test_tables_name_the_quarantine_and_its_reasons() -> None:
    result = run(CLEAN, GAPPY)
    assert result.exit_code == 1
    assert "CLEANCO (1m): ok" in result.output and "GAPPY (1m): QUARANTINED" in result.output
    assert "1 CONFLICTING_DUPLICATE" in result.output
    assert "2026-01-14 11:30 IST" in result.output
    assert "quarantined: GAPPY" in result.stderr


def test_daily_split_missing_session_and_holiday_placeholder() -> None:
    code, document = report_of(SPLIT, "--timeframe", "1d")
    [report] = document["reports"]
    assert code == 1 and report["timeframe"] == "1d"
    assert {(f["kind"], f["time"][:10]) for f in report["worst"]} == {
        ("POSSIBLE_CORPORATE_ACTION", "2026-02-09"),
        ("MISSING_SESSION", "2026-02-03"),
        ("NON_TRADING_DAY", "2026-01-15"),
    }
    action = report["worst"][0]
    assert action["severity"] == "CRITICAL" and action["value"] == 0.5
    assert "split 1:2 or bonus 1:1" in action["message"]
    assert report["reasons"] == ["1 POSSIBLE_CORPORATE_ACTION"]
    assert (report["coverage"]["present"], report["coverage"]["expected"]) == (39, 40)


def test_parquet_and_gzip_files_report_the_same(tmp_path) -> None:
    parquet = tmp_path / "CLEANCO.parquet"
    write_bars(parquet, iter_bars(CLEAN))
    packed = tmp_path / "GAPPY.csv.gz"
    with GAPPY.open("rb") as source, gzip.open(packed, "wb") as target:
        shutil.copyfileobj(source, target)
    code, document = report_of(parquet, packed)
    clean, gappy = document["reports"]
    assert code == 1 and document["quarantined"] == ["GAPPY"]
    assert clean["findings"] == 0 and clean["coverage"]["present"] == 750
    _, plain = report_of(GAPPY)
    assert gappy["counts"] == plain["reports"][0]["counts"]


def test_unreadable_files_exit_2_naming_the_line(tmp_path) -> None:
    bad = tmp_path / "BAD.csv"
    bad.write_text(CLEAN.read_text().replace("2450.00,", "n/a,", 1))
    result = run(bad)
    assert result.exit_code == 2 and "BAD.csv line 2: open is not a number" in result.output
    assert run(tmp_path / "MISSING.csv").exit_code == 2
