"""Alerts over real HTTP to a local fake Slack webhook and Telegram bot API: the payloads
arrive; a server that fails, hangs or is gone breaks nothing and no log line carries the
webhook URL or the bot token."""

from __future__ import annotations

import logging
import time
from collections.abc import Iterator

import pytest
from sqlalchemy import Engine

from quantdesk.config import AlertSettings, Settings
from quantdesk.domain.enums import Severity
from quantdesk.domain.risk_event import RiskEvent
from quantdesk.engine.bus import Bus
from quantdesk.obs.alerts import AlertRouter
from quantdesk.storage import migrate
from tests.testkit.fake_webhook import FakeWebhook
from tests.testkit.paper import open_brackets, paper_desk, quote

SLACK_PATH = "/services/T0001/B0002/s3cretWebhookPart"
TOKEN = "123456789:AAHs3cretBotTokenPart"
CHAT = "-100042"
T0 = 1_764_000_000_000_000_000


@pytest.fixture
def hook() -> Iterator[FakeWebhook]:
    with FakeWebhook() as server:
        yield server


@pytest.fixture
def db(sqlite_engine: Engine) -> Engine:
    migrate.upgrade(sqlite_engine)
    return sqlite_engine


def settings(hook: FakeWebhook, **alerts: object) -> Settings:
    config = {
        "slack_webhook_url": hook.url(SLACK_PATH),
        "telegram_bot_token": TOKEN,
        "telegram_chat_id": CHAT,
        "telegram_api_url": hook.base_url,
        "timeout_s": 2.0,
        **alerts,
    }
    return Settings(alerts=AlertSettings(**config))


def assert_no_secrets(caplog: pytest.LogCaptureFixture) -> None:
    formatter = logging.Formatter()
    lines = [formatter.format(record) for record in caplog.records]  # with tracebacks
    for secret in (TOKEN, SLACK_PATH, "s3cret"):
        assert not any(secret in line for line in lines), secret


def test_slack_and_telegram_receive_the_kill_switch(
    hook: FakeWebhook, db: Engine, caplog: pytest.LogCaptureFixture
) -> None:
    caplog.set_level(logging.DEBUG)
    router = AlertRouter.from_settings(settings(hook), db)  # min level WARNING
    desk = paper_desk()
    router.attach(desk.engine.bus)
    open_brackets(desk, ["INFY"])  # INFO lifecycle messages: below the min level
    desk.kill_switch.engage("news", actor="ops")
    quote(desk, "INFY", "99.5")
    desk.engine.drain(None)
    router.close(5)

    received = hook.wait_for(4)
    slack = [r for r in received if r.path == SLACK_PATH]
    telegram = [r for r in received if r.path == f"/bot{TOKEN}/sendMessage"]
    assert len(slack) == len(telegram) == 2
    assert all(r.content_type == "application/json" for r in received)
    assert set(slack[0].body) == {"text"}
    assert telegram[0].body == {"chat_id": CHAT, "text": slack[0].body["text"]}
    engaged, flat = (r.body["text"].split("\n") for r in slack)
    assert engaged[:2] == [
        "CRITICAL: Kill switch engaged",
        "by ops: news; cancelling orders, flattening INFY 10",
    ]
    assert engaged[2].endswith(" IST · quantdesk PAPER SESSION")
    assert flat[0] == "WARNING: Kill switch: desk is flat"
    assert router.sent == 4 and router.failed == 0 and router.filtered >= 2
    assert "HTTP Request: POST" in caplog.text  # httpx did log its requests...
    assert_no_secrets(caplog)  # ...with the secrets masked


def test_trade_messages_carry_exact_prices_and_the_min_level_lets_them_through(
    hook: FakeWebhook, db: Engine
) -> None:
    router = AlertRouter.from_settings(
        settings(hook, min_level=Severity.INFO, telegram_bot_token=None), db
    )
    desk = paper_desk()
    router.attach(desk.engine.bus)
    open_brackets(desk, ["INFY"])
    router.close(5)
    texts = [r.body["text"] for r in hook.wait_for(2)]
    assert [t.split("\n")[:2] for t in texts] == [
        ["INFO: Order placed: INFY", "BUY 10 MARKET"],
        ["INFO: Entry filled: INFY", "BUY 10 MARKET; filled 10 @ 100.05"],  # at the ask
    ]
    assert {r.path for r in hook.requests} == {SLACK_PATH}  # telegram is off


@pytest.mark.parametrize("trouble", ["http_500", "hangs", "gone"])
def test_a_failing_service_breaks_nothing_and_logs_no_secret(
    hook: FakeWebhook, db: Engine, caplog: pytest.LogCaptureFixture, trouble: str
) -> None:
    caplog.set_level(logging.DEBUG)
    if trouble == "http_500":
        hook.status = 500
    elif trouble == "hangs":
        hook.hang_s = 10.0
    router = AlertRouter.from_settings(settings(hook, timeout_s=0.3), db)
    if trouble == "gone":
        hook.close()
    bus = Bus()
    router.attach(bus)
    after: list[object] = []
    bus.subscribe("risk", after.append)

    started = time.monotonic()
    for n in range(3):  # one alert, then two held back by the cooldown
        bus.publish("risk", RiskEvent(T0 + n, "BREAKER_REJECTIONS", Severity.CRITICAL, "storm"))
    assert time.monotonic() - started < 0.05  # the engine never waits on the network
    assert len(after) == 3  # later subscribers still get every event

    router.close(5)
    assert router.sent == 0 and router.failed == 2 and router.suppressed == 2
    expected = {"http_500": "HTTP 500", "hangs": "timed out", "gone": "ConnectError"}[trouble]
    for sender in ("slack", "telegram"):
        assert f"alert breaker:rejections not delivered by {sender}: " in caplog.text
    assert caplog.text.count(expected) >= 2
    assert_no_secrets(caplog)


def test_a_paper_run_posts_its_trade_alerts_to_slack(hook: FakeWebhook, tmp_path) -> None:
    import asyncio

    from quantdesk.data.synth import synth_bars
    from quantdesk.runners.paper import PaperSpec, run_paper

    desk_settings = Settings(
        database_url=f"sqlite:///{tmp_path / 'qd.db'}",
        alerts=AlertSettings(slack_webhook_url=hook.url(SLACK_PATH), min_level="INFO"),
    )
    bars = synth_bars(symbol="AL", n=200, seed=4, session="nse",
                      start=1_767_584_700_000_000_000)  # fmt: skip
    spec = PaperSpec("sma_cross", "AL", {"fast": "3", "slow": "8", "qty": "1"}, speed=1e6)
    run = asyncio.run(run_paper(spec, desk_settings, bars, tmp_path / "run"))
    assert run.services is not None and run.services.alerts is not None
    texts = [r.body["text"] for r in hook.wait_for(2)]
    assert any("AL" in text for text in texts)
    assert run.services.alerts.sent >= 2 and run.services.alerts.failed == 0
