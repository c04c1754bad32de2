"""Shared fixtures. Service-backed tests skip when the service is down, except under
REQUIRE_SERVICES=1 (CI), where an unreachable service is a failure."""

from __future__ import annotations

import os
import socket
import uuid
from collections.abc import Iterator
from urllib.parse import urlsplit

import pytest
from sqlalchemy import Engine, text

from quantdesk.storage.db import make_engine

POSTGRES_URL = os.environ.get(
    "TEST_POSTGRES_URL", "postgresql+psycopg://postgres@127.0.0.1:5432/test"
)
REDIS_URL = os.environ.get("TEST_REDIS_URL", "redis://127.0.0.1:6379/15")


def _reachable(url: str) -> bool:
    parts = urlsplit(url)
    try:
        with socket.create_connection((parts.hostname or "127.0.0.1", parts.port or 0), timeout=1):
            return True
    except OSError:
        return False


def require_service(name: str, url: str) -> None:
    if _reachable(url):
        return
    if os.environ.get("REQUIRE_SERVICES") == "1":
        pytest.fail(f"{name} at {url} is unreachable and REQUIRE_SERVICES=1")
    pytest.skip(f"{name} at {url} is unreachable")


@pytest.fixture(autouse=True)
def _clean_qd_environment(monkeypatch: pytest.MonkeyPatch) -> None:
    """A developer's own QD_ variables must not leak into tests."""
    for key in list(os.environ):
        if key.upper().startswith("QD_"):
            monkeypatch.delenv(key)


@pytest.fixture
def sqlite_engine(tmp_path) -> Iterator[Engine]:
    engine = make_engine(f"sqlite:///{tmp_path / 'qd.db'}")
    yield engine
    engine.dispose()


@pytest.fixture
def postgres_engine() -> Iterator[Engine]:
    """A throwaway schema in the `test` database, dropped afterwards."""
    require_service("PostgreSQL", POSTGRES_URL)
    schema = f"qd_test_{uuid.uuid4().hex[:10]}"
    admin = make_engine(POSTGRES_URL)
    with admin.begin() as connection:
        connection.execute(text(f'CREATE SCHEMA "{schema}"'))
    engine = make_engine(POSTGRES_URL, connect_args={"options": f"-csearch_path={schema}"})
    yield engine
    engine.dispose()
    with admin.begin() as connection:
        connection.execute(text(f'DROP SCHEMA "{schema}" CASCADE'))
    admin.dispose()


@pytest.fixture(params=["sqlite", "postgres"])
def any_engine(request: pytest.FixtureRequest) -> Engine:
    """Each storage test runs on both backends."""
    return request.getfixturevalue(f"{request.param}_engine")
