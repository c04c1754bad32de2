"""The `quantdesk` command as an operator uses it (in-process, real SQLite file)."""

from __future__ import annotations

import json

import pytest
from typer.testing import CliRunner

from quantdesk.cli import app
from quantdesk.config import load_settings
from quantdesk.storage.db import make_engine
from quantdesk.storage.journal import Journal, Provenance
from tests.conftest import REDIS_URL, require_service

runner = CliRunner()


@pytest.fixture
def db_url(tmp_path, monkeypatch) -> str:
    url = f"sqlite:///{tmp_path / 'var' / 'qd.db'}"
    monkeypatch.setenv("QD_DATABASE_URL", url)
    monkeypatch.setenv("COLUMNS", "250")  # rich tables must not fold what we assert on
    return url


def run(*args: str):
    return runner.invoke(app, list(args), catch_exceptions=False)


def test_upgrade_then_doctor_is_healthy(db_url) -> None:
    assert run("db", "upgrade").exit_code == 0
    current = run("db", "current")
    assert "up to date" in current.output
    doctor = run("doctor")
    assert doctor.exit_code == 0, doctor.output
    assert "-PAPER-SESSION" in doctor.output and "at head" in doctor.output


def test_doctor_fails_when_database_is_behind(db_url) -> None:
    run("db", "upgrade")
    assert run("db", "downgrade", "base").exit_code == 0
    doctor = run("doctor")
    assert doctor.exit_code == 1
    assert "quantdesk db upgrade" in doctor.output


def test_doctor_fails_when_configured_redis_is_down(db_url, monkeypatch) -> None:
    run("db", "upgrade")
    monkeypatch.setenv("QD_REDIS_URL", "redis://127.0.0.1:1/0")
    doctor = run("doctor")
    assert doctor.exit_code == 1 and "unreachable" in doctor.output


def test_doctor_sees_a_running_redis(db_url, monkeypatch) -> None:
    require_service("Redis", REDIS_URL)
    run("db", "upgrade")
    monkeypatch.setenv("QD_REDIS_URL", REDIS_URL)
    doctor = run("doctor")
    assert doctor.exit_code == 0 and "reachable" in doctor.output


def test_config_show_masks_secrets_and_prints_sha(db_url, monkeypatch) -> None:
    monkeypatch.setenv("QD_API_KEY", "s3cret-abc")
    shown = run("config", "show")
    assert shown.exit_code == 0
    assert "s3cret-abc" not in shown.output and "****" in shown.output
    assert load_settings().config_sha in shown.output.replace("\n", "")
    as_json = run("config", "show", "--json")
    assert "s3cret-abc" not in as_json.output and '"config_sha"' in as_json.output


def test_invalid_config_exits_2_naming_the_variable(db_url, monkeypatch) -> None:
    monkeypatch.setenv("QD_RISK__MAX_TRADES_PER_DAY", "-3")
    result = runner.invoke(app, ["doctor"])
    assert result.exit_code == 2
    assert "QD_RISK__MAX_TRADES_PER_DAY" in result.output


def test_audit_tail_by_session(db_url) -> None:
    run("db", "upgrade")
    engine = make_engine(db_url)
    for session in ("2026-11-24-PAPER-SESSION", "2026-11-25-LIVE-CANARY"):
        Journal(engine, Provenance(session, "ef" * 32)).record_action(
            ts=1_764_000_000_000_000_000,
            actor="operator",
            action="operator.pause",
            payload={"why": session},
        )
    engine.dispose()
    tail = run("audit", "tail", "--session", "2026-11-25-LIVE-CANARY")
    assert tail.exit_code == 0
    assert "2026-11-25-LIVE-CANARY" in tail.output and "2026-11-24-PAPER" not in tail.output
    assert "operator.pause" in tail.output
    lines = run("audit", "tail", "--json", "--limit", "5").output.strip().splitlines()
    assert [json.loads(line)["session_id"] for line in lines] == [
        "2026-11-24-PAPER-SESSION",
        "2026-11-25-LIVE-CANARY",
    ]
