from __future__ import annotations

import pytest

from quantdesk.config import ConfigError, Settings, load_settings, mask_url
from quantdesk.domain import Mode


def test_defaults_are_safe_paper_on_embedded_sqlite() -> None:
    settings = load_settings({})
    assert settings.mode is Mode.PAPER
    assert settings.safe_mode is True
    assert settings.database_url.startswith("sqlite:///./var/")
    assert settings.timezone == "Asia/Kolkata"
    assert settings.label == "SESSION"


def test_live_defaults_to_canary_label() -> None:
    assert load_settings({}, mode="LIVE").label == "CANARY"
    assert load_settings({}, mode="LIVE", session_label="DESK2").label == "DESK2"


@pytest.mark.parametrize(
    ("env", "variable", "fragment"),
    [
        ({"QD_MODE": "LIVEISH"}, "QD_MODE", "'BACKTEST', 'PAPER' or 'LIVE'"),
        ({"QD_RISK__CAPITAL": "-1"}, "QD_RISK__CAPITAL", "greater than 0"),
        ({"QD_RISK__HEAT_CAP": "-5"}, "QD_RISK__HEAT_CAP", "greater than 0"),
        ({"QD_RISK__HEAT_CAP": "2000000"}, "QD_RISK__HEAT_CAP", "exceeds capital"),
        ({"QD_RISK__DAILY_LOSS_LIMIT": "0"}, "QD_RISK__DAILY_LOSS_LIMIT", "greater than 0"),
        ({"QD_RISK__MAX_OPEN_TRADES": "0"}, "QD_RISK__MAX_OPEN_TRADES", "greater than 0"),
        ({"QD_RISK__RISK_PER_TRADE_PCT": "101"}, "QD_RISK__RISK_PER_TRADE_PCT", "less than"),
        ({"QD_TIMEZONE": "Mars/Olympus"}, "QD_TIMEZONE", "unknown time zone"),
        ({"QD_DATABASE_URL": "mysql://x"}, "QD_DATABASE_URL", "supported"),
        ({"QD_ENV": "prod"}, "QD_API_KEY", "required when QD_ENV=prod"),
        ({"QD_SAFEMODE": "false"}, "QD_SAFEMODE", "did you mean QD_SAFE_MODE?"),
    ],
)
def test_invalid_values_name_the_variable(monkeypatch, env, variable, fragment) -> None:
    for key, value in env.items():
        monkeypatch.setenv(key, value)
    with pytest.raises(ConfigError) as caught:
        load_settings()
    message = str(caught.value)
    line = next(line for line in message.splitlines() if line.strip().startswith(variable + ":"))
    assert fragment in line


def test_heat_cap_may_equal_capital(monkeypatch) -> None:
    monkeypatch.setenv("QD_RISK__CAPITAL", "50000")
    monkeypatch.setenv("QD_RISK__HEAT_CAP", "50000")
    monkeypatch.setenv("QD_RISK__DAILY_LOSS_LIMIT", "5000")
    assert load_settings().risk.heat_cap == 50000


def test_environment_values_are_read(monkeypatch) -> None:
    monkeypatch.setenv("QD_SAFE_MODE", "false")
    monkeypatch.setenv("QD_RISK__MAX_TRADES_PER_DAY", "4")
    settings = load_settings()
    assert settings.safe_mode is False
    assert settings.risk.max_trades_per_day == 4


def test_sha_ignores_secrets_and_key_order() -> None:
    base = Settings(mode="PAPER", risk={"capital": "500000", "heat_cap": "10000"})
    reordered = Settings(risk={"heat_cap": "10000", "capital": "500000"}, mode="PAPER")
    with_key = Settings(
        mode="PAPER", risk={"capital": "500000", "heat_cap": "10000"}, api_key="s3cret"
    )
    other_key = Settings(
        api_key="different", mode="PAPER", risk={"heat_cap": "10000", "capital": "500000"}
    )
    assert base.config_sha == reordered.config_sha == with_key.config_sha == other_key.config_sha
    assert len(base.config_sha) == 64


def test_sha_sees_every_non_secret_change() -> None:
    base = Settings()
    assert Settings(safe_mode=False).config_sha != base.config_sha
    assert Settings(risk={"max_open_trades": 4}).config_sha != base.config_sha
    assert Settings(mode="BACKTEST").config_sha != base.config_sha


def test_sha_is_stable_across_equal_decimal_spellings() -> None:
    assert Settings(risk={"capital": "1000000.00"}).config_sha == Settings().config_sha


def test_database_password_never_shown_or_hashed() -> None:
    one = Settings(database_url="postgresql+psycopg://qd:hunter2@db:5432/qd")
    two = Settings(database_url="postgresql+psycopg://qd:other@db:5432/qd")
    assert one.config_sha == two.config_sha
    assert "hunter2" not in str(one.public_view())
    assert (
        mask_url("postgresql+psycopg://qd:hunter2@db:5432/qd")
        == "postgresql+psycopg://qd:***@db:5432/qd"
    )


def test_api_key_masked_in_display() -> None:
    settings = Settings(api_key="s3cret-value")
    assert settings.display_view()["api_key"] == "****"
    assert "s3cret-value" not in repr(settings)
    assert "api_key" not in settings.public_view()
