"""Settings from the environment (prefix `QD_`), validated once at start.

One frozen model per component, composed into `Settings`; unknown fields and unknown
`QD_` variables are refused, because a mistyped `QD_SAFEMODE=false` that is silently
ignored is worse than a refusal. `config_sha` fingerprints the effective config minus
secrets so every signal and decision can name the exact config that produced it.
"""

from __future__ import annotations

import difflib
import hashlib
import json
import os
from collections.abc import Mapping
from decimal import Decimal
from enum import Enum, StrEnum
from pathlib import Path
from typing import Any, Literal, get_args
from urllib.parse import urlsplit, urlunsplit
from zoneinfo import ZoneInfo, ZoneInfoNotFoundError

from pydantic import BaseModel, ConfigDict, Field, SecretStr, ValidationError, field_validator
from pydantic_settings import BaseSettings, SettingsConfigDict

from quantdesk.domain.enums import Mode, Severity

ENV_PREFIX = "QD_"
NESTED = "__"
DEFAULT_DATABASE_URL = "sqlite:///./var/quantdesk.db"
UNFINGERPRINTED = frozenset(  # how the desk is watched, not what it trades
    {"log", "startup_timeout_s", "api_host", "api_port", "metrics_port"}
)


class ConfigError(ValueError):
    """Invalid configuration; the message names each offending variable."""


class Env(StrEnum):
    DEV = "dev"
    PROD = "prod"


class RiskLimits(BaseModel):
    """Hard limits in rupees and counts; the risk gate enforces them."""

    model_config = ConfigDict(frozen=True, extra="forbid")

    capital: Decimal = Field(default=Decimal(1_000_000), gt=0)
    heat_cap: Decimal = Field(default=Decimal(20_000), gt=0)
    daily_loss_limit: Decimal = Field(default=Decimal(15_000), gt=0)
    max_trades_per_day: int = Field(default=10, gt=0)
    max_open_trades: int = Field(default=3, gt=0)
    risk_per_trade_pct: Decimal = Field(default=Decimal("0.5"), gt=0, le=100)
    max_symbol_exposure: Decimal = Field(default=Decimal(300_000), gt=0)
    max_sector_exposure: Decimal = Field(default=Decimal(500_000), gt=0)
    min_reward_risk: Decimal = Field(default=Decimal("1.5"), ge=0)
    market_protection_pct: Decimal = Field(default=Decimal(2), gt=0, le=20)  # entry collar
    max_loss_per_trade: Decimal = Field(default=Decimal(10_000), gt=0)  # at full confidence
    derisk_drawdown_pct: Decimal = Field(default=Decimal(10), gt=0, le=100)  # size floor here
    derisk_grace_pct: Decimal = Field(default=Decimal(1), ge=0, lt=100)  # full size above
    stale_data_ms: int = Field(default=90_000, gt=0)  # a 1-minute bar plus slack
    entry_cutoff: str = Field(default="15:10", pattern=r"^\d{2}:\d{2}$")
    square_off: str = Field(default="15:25", pattern=r"^\d{2}:\d{2}$")
    # circuit breakers
    max_rejections: int = Field(default=5, gt=0)
    rejection_window_min: int = Field(default=10, gt=0)
    max_consecutive_failures: int = Field(default=3, gt=0)
    equity_floor_pct: Decimal = Field(default=Decimal(90), gt=0, le=100)  # of capital
    intraday_drawdown_pct: Decimal = Field(default=Decimal(3), gt=0, le=100)
    feed_stale_s: int = Field(default=120, gt=0)
    feed_quiet_s: int = Field(default=60, ge=0)  # fresh data this long before data resumes

    @field_validator("heat_cap")
    @classmethod
    def _heat_within_capital(cls, value: Decimal, info: Any) -> Decimal:
        capital = info.data.get("capital")
        if capital is not None and value > capital:
            raise ValueError(f"heat cap {value} exceeds capital {capital}")
        return value

    @field_validator("daily_loss_limit")
    @classmethod
    def _loss_within_capital(cls, value: Decimal, info: Any) -> Decimal:
        capital = info.data.get("capital")
        if capital is not None and value > capital:
            raise ValueError(f"daily loss limit {value} exceeds capital {capital}")
        return value


class CalendarSettings(BaseModel):
    """Where the NSE calendar's layers come from (see `risk.calendar`)."""

    model_config = ConfigDict(frozen=True, extra="forbid")

    override_file: Path | None = None  # TOML [[holiday]] [[session]] [[event]]
    holiday_store: Path = Path("var/nse_holidays.json")  # last good broker list
    holiday_url: str = "https://api.upstox.com/v2/market/holidays"
    refresh_holidays: bool = False  # the 08:00 IST job needs the network and a token


class AlertSettings(BaseModel):
    """Slack and Telegram senders are each off until configured."""

    model_config = ConfigDict(frozen=True, extra="forbid")

    slack_webhook_url: SecretStr | None = None
    telegram_bot_token: SecretStr | None = None
    telegram_chat_id: str | None = None
    telegram_api_url: str = "https://api.telegram.org"
    min_level: Severity = Severity.WARNING
    cooldown_s: int = Field(default=3600, ge=0)  # per alert key, survives restarts
    timeout_s: float = Field(default=5.0, gt=0)
    drawdown_pct: Decimal = Field(default=Decimal(2), gt=0, le=100)  # of capital, intraday
    low_balance: Decimal = Field(default=Decimal(100_000), ge=0)  # rupees of equity


class UpstoxSettings(BaseModel):
    """The Upstox REST client (`venues.upstox`); unused until a token is set."""

    model_config = ConfigDict(frozen=True, extra="forbid")

    base_url: str = "https://api.upstox.com"
    order_base_url: str = "https://api-hft.upstox.com"  # v3 place/modify/cancel host
    access_token: SecretStr | None = None
    timeout_s: float = Field(default=5.0, gt=0)
    rate_limit_retries: int = Field(default=5, ge=0)
    max_inline_wait_s: float = Field(default=5.0, ge=0)
    orders_per_second: int = Field(default=10, gt=0)
    orders_per_minute: int = Field(default=500, gt=0)
    reads_per_second: int = Field(default=50, gt=0)
    reads_per_minute: int = Field(default=500, gt=0)


class LogSettings(BaseModel):
    """How the desk logs; not part of the config fingerprint (it trades the same)."""

    model_config = ConfigDict(frozen=True, extra="forbid")

    format: Literal["auto", "json", "console"] = "auto"  # auto: JSON unless on a terminal
    level: Literal["DEBUG", "INFO", "WARNING", "ERROR"] = "INFO"


class Settings(BaseSettings):
    model_config = SettingsConfigDict(
        env_prefix=ENV_PREFIX,
        env_nested_delimiter=NESTED,
        env_file=".env",
        extra="forbid",
        frozen=True,
    )

    mode: Mode = Mode.PAPER
    safe_mode: bool = True
    env: Env = Env.DEV
    database_url: str = DEFAULT_DATABASE_URL
    redis_url: str | None = None
    api_host: str = "127.0.0.1"  # the operator API beside paper/live; 0.0.0.0 exposes it
    api_port: int = Field(default=8000, ge=0, le=65535)
    metrics_port: int = Field(default=9108, ge=0, le=65535)  # /metrics when run without the API
    api_rate_per_s: float = Field(default=2.0, gt=0)  # mutating calls per client, refill
    api_rate_burst: int = Field(default=10, gt=0)
    api_key: SecretStr | None = Field(default=None, validate_default=True)
    session_label: str | None = Field(default=None, pattern=r"^[A-Za-z0-9_]{1,32}$")
    timezone: str = "Asia/Kolkata"
    risk: RiskLimits = RiskLimits()
    calendar: CalendarSettings = CalendarSettings()
    alerts: AlertSettings = AlertSettings()
    log: LogSettings = LogSettings()
    upstox: UpstoxSettings = UpstoxSettings()
    startup_timeout_s: float = Field(default=30.0, gt=0)  # fail fast, naming the stage

    @field_validator("timezone")
    @classmethod
    def _known_timezone(cls, value: str) -> str:
        try:
            ZoneInfo(value)
        except (ZoneInfoNotFoundError, ValueError) as exc:
            raise ValueError(f"unknown time zone {value!r}") from exc
        return value

    @field_validator("database_url")
    @classmethod
    def _supported_database(cls, value: str) -> str:
        if not value.startswith(("sqlite", "postgresql")):
            raise ValueError("only sqlite:/// and postgresql+psycopg:// URLs are supported")
        return value

    @field_validator("api_key")
    @classmethod
    def _prod_needs_key(cls, value: SecretStr | None, info: Any) -> SecretStr | None:
        if info.data.get("env") is Env.PROD and (value is None or not value.get_secret_value()):
            raise ValueError("required when QD_ENV=prod (every mutating call needs it)")
        return value

    @property
    def label(self) -> str:
        """Session label: `CANARY` in LIVE, `SESSION` otherwise, unless configured."""
        if self.session_label:
            return self.session_label
        return "CANARY" if self.mode is Mode.LIVE else "SESSION"

    @property
    def config_sha(self) -> str:
        view = {k: v for k, v in self.public_view().items() if k not in UNFINGERPRINTED}
        canonical = json.dumps(view, sort_keys=True, separators=(",", ":"))
        return hashlib.sha256(canonical.encode()).hexdigest()

    def public_view(self) -> dict[str, Any]:
        """The effective config with secrets removed and passwords in URLs masked."""
        return _canonical(self)  # type: ignore[no-any-return]

    def display_view(self) -> dict[str, Any]:
        """Like `public_view` but shows that a secret is set (masked) instead of hiding it."""
        view = self.public_view()
        view["api_key"] = "****" if self.api_key else "(not set)"
        return view


def _is_secret(annotation: Any) -> bool:
    return annotation is SecretStr or SecretStr in get_args(annotation)


def _canonical(value: Any) -> Any:
    """Plain JSON data; secret fields are left out whether set or not."""
    if isinstance(value, BaseModel):
        fields = type(value).model_fields
        return {
            name: _canonical(getattr(value, name))
            for name, info in fields.items()
            if not _is_secret(info.annotation)
        }
    if isinstance(value, Decimal):
        return format(value.normalize(), "f")
    if isinstance(value, Enum):
        return value.value
    if isinstance(value, Path):
        return value.as_posix()
    if isinstance(value, str) and "://" in value:
        return mask_url(value)
    return value


def mask_url(url: str) -> str:
    """`scheme://user:***@host/db`: a DSN password never reaches a log or a hash."""
    parts = urlsplit(url)
    if parts.password is None:
        return url
    netloc = f"{parts.username or ''}:***@{parts.hostname or ''}"
    if parts.port:
        netloc += f":{parts.port}"
    return urlunsplit(parts._replace(netloc=netloc))


def env_var(loc: tuple[int | str, ...]) -> str:
    return ENV_PREFIX + NESTED.join(str(p) for p in loc).upper()


def known_env_vars() -> set[str]:
    names = set()
    for name, info in Settings.model_fields.items():
        annotation = info.annotation
        if isinstance(annotation, type) and issubclass(annotation, BaseModel):
            names.update(env_var((name, sub)) for sub in annotation.model_fields)
        names.add(env_var((name,)))
    return names


def _unknown_variables(environ: Mapping[str, str]) -> list[str]:
    known = known_env_vars()
    problems = []
    for key in sorted(environ):
        if key.upper().startswith(ENV_PREFIX) and key.upper() not in known:
            hint = difflib.get_close_matches(key.upper(), known, n=1)
            suffix = f" (did you mean {hint[0]}?)" if hint else ""
            problems.append(f"{key}: unknown setting{suffix}")
    return problems


def load_settings(environ: Mapping[str, str] | None = None, **overrides: Any) -> Settings:
    """Build and validate settings; raise `ConfigError` naming every bad variable."""
    problems = _unknown_variables(os.environ if environ is None else environ)
    if problems:
        raise ConfigError("invalid configuration:\n  " + "\n  ".join(problems))
    try:
        return Settings(**overrides)
    except ValidationError as exc:
        lines = [f"{env_var(err['loc'])}: {_clean(err['msg'])}" for err in exc.errors()]
        raise ConfigError("invalid configuration:\n  " + "\n  ".join(lines)) from None


def _clean(message: str) -> str:
    return message.removeprefix("Value error, ")
