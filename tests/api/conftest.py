"""An API over a real paper desk (no runner): the app is driven with TestClient."""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path

import pytest
from fastapi.testclient import TestClient

from quantdesk.api.app import create_app
from quantdesk.api.security import RateLimiter
from quantdesk.api.service import DeskService
from quantdesk.config import Env, Settings
from quantdesk.desk import Desk
from quantdesk.storage import migrate
from quantdesk.storage.db import make_engine
from quantdesk.storage.journal import Journal, Provenance
from tests.testkit.paper import paper_desk

KEY = "k-" + "7" * 30
SESSION = "2026-11-25-PAPER-SESSION"


class Api:
    def __init__(self, tmp_path: Path, env: Env, limiter: RateLimiter | None = None) -> None:
        self.database = make_engine(f"sqlite:///{tmp_path / 'api.db'}")
        migrate.upgrade(self.database)
        self.settings = Settings(env=env, api_key=KEY, database_url=str(self.database.url))
        journal = Journal(self.database, Provenance(SESSION, self.settings.config_sha))
        self.desk: Desk = paper_desk()
        self.desk.engine.journal = journal  # audit of operator actions (orders unjournaled:
        # the tests open brackets straight through the order manager, without decisions)
        self.service = DeskService(self.desk, self.settings, SESSION, self.database)
        self.app = create_app(self.service, limiter=limiter or RateLimiter(burst=1000))
        self.client = TestClient(self.app)


@pytest.fixture
def prod(tmp_path: Path) -> Iterator[Api]:
    api = Api(tmp_path, Env.PROD)
    with api.client:
        yield api


@pytest.fixture
def dev(tmp_path: Path) -> Iterator[Api]:
    api = Api(tmp_path, Env.DEV)
    with api.client:
        yield api
