"""`quantdesk doctor`: can this desk start? Configuration, database, services."""

from __future__ import annotations

import shutil
import time
from dataclasses import dataclass
from pathlib import Path

from sqlalchemy import text
from sqlalchemy.engine import make_url

from quantdesk.config import Settings, mask_url
from quantdesk.domain.time import session_id
from quantdesk.storage import migrate
from quantdesk.storage.db import make_engine


@dataclass(frozen=True)
class Check:
    name: str
    ok: bool
    detail: str
    required: bool = True


def run_checks(settings: Settings) -> list[Check]:
    return [
        Check(
            "configuration",
            True,
            f"mode={settings.mode.value} safe_mode={settings.safe_mode} env={settings.env.value} "
            f"config_sha={settings.config_sha[:12]}",
        ),
        Check("session", True, session_id(time.time_ns(), settings.mode, settings.label)),
        _database(settings.database_url),
        _redis(settings.redis_url),
        _disk(settings.database_url),
    ]


def _database(url: str) -> Check:
    try:
        engine = make_engine(url)
        with engine.connect() as connection:
            connection.execute(text("select 1"))
        current, head = migrate.current_revision(engine), migrate.head_revision(engine)
        engine.dispose()
    except Exception as exc:  # any driver error means "not usable", reported as such
        return Check("database", False, f"{mask_url(url)} unreachable: {type(exc).__name__}: {exc}")
    if current != head:
        return Check(
            "database",
            False,
            f"{mask_url(url)} at revision {current}, head is {head}: run `quantdesk db upgrade`",
        )
    return Check("database", True, f"{mask_url(url)} at head {head}")


def _redis(url: str | None) -> Check:
    if not url:
        return Check("redis", True, "not configured: in-process bus", required=False)
    import redis

    try:
        client = redis.Redis.from_url(url, socket_connect_timeout=1, socket_timeout=1)
        client.ping()
        client.close()
    except Exception as exc:  # report, never raise: doctor must finish its list
        return Check("redis", False, f"{mask_url(url)} unreachable: {exc}")  # configured = needed
    return Check("redis", True, f"{mask_url(url)} reachable")


def _disk(url: str) -> Check:
    parsed = make_url(url)
    if parsed.get_backend_name() != "sqlite" or not parsed.database:
        return Check("disk", True, "database is remote", required=False)
    folder = Path(parsed.database).resolve().parent
    free_gb = shutil.disk_usage(folder).free / 1e9 if folder.exists() else 0.0
    return Check("disk", free_gb > 1.0, f"{folder}: {free_gb:.1f} GB free")
