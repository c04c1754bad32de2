"""Who may change the desk: the prod key matrix, validation, rate limits."""

from __future__ import annotations

from pathlib import Path

import pytest

from quantdesk.api.security import RateLimiter
from quantdesk.config import Env
from tests.api.conftest import KEY, Api

MUTATING = [
    ("/pause", {"reason": "lunch"}),
    ("/resume", {}),
    ("/flatten", {"reason": "test"}),
    ("/orders/cancel-all", None),
    ("/mode", {"mode": "PAPER"}),
    ("/agent/start", None),
    ("/agent/stop", None),
    ("/agent/run-once", None),
]


@pytest.mark.parametrize(("path", "body"), MUTATING)
@pytest.mark.parametrize(
    ("headers", "status"),
    [({}, 401), ({"X-API-Key": "wrong"}, 403), ({"X-API-Key": KEY}, 200)],
)
def test_prod_mutations_need_the_key(prod: Api, path, body, headers, status) -> None:
    response = prod.client.post(path, json=body, headers=headers)
    assert response.status_code == status, response.text


def test_a_refused_pause_changes_nothing_and_an_accepted_one_is_audited(prod: Api) -> None:
    prod.client.post("/pause", json={"reason": "x"}, headers={"X-API-Key": "wrong"})
    assert prod.desk.engine.risk.paused == ()
    ok = prod.client.post("/pause", json={"reason": "lunch"}, headers={"X-API-Key": KEY})
    assert ok.json()["still_blocking"] == ["operator:lunch"]
    audit = prod.client.get("/audit", headers={"X-API-Key": KEY}, params={"limit": 10}).json()
    pauses = [row for row in audit if row["action"] == "operator.pause"]
    assert pauses and pauses[-1]["payload"]["reason"] == "lunch"
    assert KEY not in str(audit)  # the key never reaches the audit log


def test_prod_audit_needs_the_key_and_reads_are_open(prod: Api) -> None:
    assert prod.client.get("/audit").status_code == 401
    assert prod.client.get("/audit", headers={"X-API-Key": "no"}).status_code == 403
    assert prod.client.get("/state").status_code == 200


def test_dev_allows_anonymous_but_never_a_wrong_key(dev: Api) -> None:
    assert dev.client.post("/pause", json={}).status_code == 200
    assert dev.client.post("/resume", json={}, headers={"X-API-Key": "wrong"}).status_code == 403


@pytest.mark.parametrize(
    ("path", "body", "fragment"),
    [
        ("/pause", {"reason": ""}, "reason"),
        ("/pause", {"reason": "x", "extra": 1}, "extra"),
        ("/mode", {"mode": "YOLO"}, "mode"),
        ("/mode", {}, "mode"),
        ("/resume", {"release_kill_switch": "maybe"}, "release_kill_switch"),
        ("/pause", [1, 2], "body"),
    ],
)
def test_malformed_bodies_are_422_with_a_clear_message(dev: Api, path, body, fragment) -> None:
    response = dev.client.post(path, json=body)
    assert response.status_code == 422
    assert fragment in response.json()["message"]


def test_a_burst_of_mutations_is_rate_limited_with_retry_after(tmp_path: Path) -> None:
    api = Api(tmp_path, Env.DEV, limiter=RateLimiter(burst=5, per_second=0.5))
    with api.client:
        codes = [api.client.post("/pause", json={}).status_code for _ in range(8)]
        assert codes[:5] == [200] * 5 and codes[5:] == [429] * 3
        limited = api.client.post("/resume", json={})
        assert limited.status_code == 429 and int(limited.headers["Retry-After"]) >= 1
        assert api.client.get("/state").status_code == 200  # reads are not limited


def test_rate_limiter_refills_over_time() -> None:
    clock = [0.0]
    limiter = RateLimiter(burst=2, per_second=1.0, clock=lambda: clock[0])
    assert [limiter.take("a"), limiter.take("a")] == [0.0, 0.0]
    assert limiter.take("a") == pytest.approx(1.0)
    assert limiter.take("b") == 0.0  # per client
    clock[0] += 1.0
    assert limiter.take("a") == 0.0
