"""Structured logs: one JSON object per line from structlog and stdlib alike, the session
id on every line (worker threads too), correlation ids only where bound, secrets masked."""

from __future__ import annotations

import io
import json
import logging
import threading
from collections.abc import Iterator
from decimal import Decimal

import pytest
import structlog

from quantdesk.obs.logging import (
    bind_session,
    configure_logging,
    correlation,
    get_logger,
    session,
)

SESSION = "2026-11-25-PAPER-SESSION"


@pytest.fixture(autouse=True)
def restore_logging() -> Iterator[None]:
    """The configuration under test must not leak into other tests."""
    root = logging.getLogger()
    handlers, level = list(root.handlers), root.level
    config = structlog.get_config()
    yield
    for handler in list(root.handlers):
        if handler not in handlers:
            root.removeHandler(handler)
            handler.close()
    root.setLevel(level)
    structlog.configure(**config)
    bind_session(None)
    structlog.contextvars.clear_contextvars()


@pytest.fixture
def out() -> io.StringIO:
    return io.StringIO()


def lines(out: io.StringIO) -> list[dict]:
    return [json.loads(line) for line in out.getvalue().splitlines()]


def test_json_lines_carry_the_fixed_keys_and_extra_fields(out: io.StringIO) -> None:
    configure_logging(json=True, session_id=SESSION, stream=out)
    get_logger("quantdesk.test").info("order.sent", symbol="INFY", qty=Decimal("10.5"))
    [line] = lines(out)
    assert list(line)[:5] == ["ts", "level", "logger", "event", "session_id"]
    assert line["level"] == "info"
    assert line["logger"] == "quantdesk.test"
    assert line["event"] == "order.sent"
    assert line["session_id"] == SESSION
    assert line["symbol"] == "INFY"
    assert line["qty"] == "10.5"  # exact, as text
    assert line["ts"].endswith("Z") and "T" in line["ts"]


def test_stdlib_records_get_the_same_format_and_the_session(out: io.StringIO) -> None:
    configure_logging(json=True, session_id=SESSION, stream=out)
    logging.getLogger("quantdesk.risk.calendar").warning(
        "holiday list %s is %d days old", "var/x.json", 3, extra={"source": "broker"}
    )
    [line] = lines(out)
    assert line["event"] == "holiday list var/x.json is 3 days old"
    assert line["level"] == "warning"
    assert line["logger"] == "quantdesk.risk.calendar"
    assert line["session_id"] == SESSION
    assert line["source"] == "broker"


def test_every_line_has_the_session_id_including_worker_threads(out: io.StringIO) -> None:
    configure_logging(json=True, stream=out)
    bind_session(SESSION)
    assert session() == SESSION

    def worker() -> None:
        logging.getLogger("quantdesk.obs.redis_fanout").info("published")
        get_logger("quantdesk.storage.journal").info("flushed", rows=3)

    with correlation("sig-1"):
        thread = threading.Thread(target=worker)
        thread.start()
        thread.join()
        get_logger("quantdesk.engine").info("signal.handled")
    logged = lines(out)
    assert len(logged) == 3
    assert all(line["session_id"] == SESSION for line in logged)
    # contextvars do not cross threads: the workers' lines have no correlation id
    assert [line.get("correlation_id") for line in logged] == [None, None, "sig-1"]


def test_correlation_id_only_inside_the_block_and_blocks_nest(out: io.StringIO) -> None:
    configure_logging(json=True, session_id=SESSION, stream=out)
    log = get_logger("quantdesk.engine")
    std = logging.getLogger("quantdesk.execution")
    log.info("before")
    with correlation("sig-1", plan_id="plan-1"):
        log.info("decided")
        std.info("submitted")
        with correlation("sig-2"):
            log.info("inner")
        log.info("back")
    with correlation(None):
        log.info("no id")
    log.info("after")
    logged = {line["event"]: line for line in lines(out)}
    assert "correlation_id" not in logged["before"]
    assert logged["decided"]["correlation_id"] == "sig-1"
    assert logged["decided"]["plan_id"] == "plan-1"
    assert logged["submitted"]["correlation_id"] == "sig-1"
    assert list(logged["submitted"])[5] == "correlation_id"
    assert logged["inner"]["correlation_id"] == "sig-2"
    assert logged["back"]["correlation_id"] == "sig-1"
    assert "correlation_id" not in logged["no id"]
    assert "correlation_id" not in logged["after"]
    assert "plan_id" not in logged["after"]


def test_secret_keys_and_url_passwords_are_masked(out: io.StringIO) -> None:
    configure_logging(json=True, session_id=SESSION, stream=out)
    log = get_logger("quantdesk.test")
    log.info(
        "connect",
        api_key="sk-live-123",
        nested={"password": "hunter2", "host": "db"},
        url="postgresql+psycopg://trader:hunter2@db.example:5432/desk",
    )
    logging.getLogger("quantdesk.obs.redis_fanout").error(
        "cannot reach redis://:s3cret@127.0.0.1:6379/0, giving up"
    )
    log.info("fetched https://api.example/v2/holidays?token=abc123&day=1")
    try:
        raise ConnectionError("postgresql://trader:hunter2@db:5432/desk refused")
    except ConnectionError:
        log.exception("database.unreachable")
    text = out.getvalue()
    for secret in ("sk-live-123", "hunter2", "s3cret", "abc123"):
        assert secret not in text
    connect, redis, fetched, failure = lines(out)
    assert connect["api_key"] == "****"
    assert connect["nested"] == {"password": "****", "host": "db"}
    assert connect["url"] == "postgresql+psycopg://trader:***@db.example:5432/desk"
    assert redis["event"] == "cannot reach redis://:***@127.0.0.1:6379/0, giving up"
    assert fetched["event"] == "fetched https://api.example/v2/holidays?token=****&day=1"
    assert "ConnectionError" in failure["exception"]


def test_console_mode_renders_readable_lines_not_json(out: io.StringIO) -> None:
    configure_logging(json=False, session_id=SESSION, stream=out)
    get_logger("quantdesk.test").info("startup.stage", stage="config", elapsed_ms=1.5)
    logging.getLogger("quantdesk.std").warning("plain %s", "record")
    first, second = out.getvalue().splitlines()
    for line in (first, second):
        assert not line.lstrip().startswith("{")
        assert f"session_id={SESSION}" in line
        assert "\x1b[" not in line  # no colours when the stream is not a terminal
    assert "startup.stage" in first and "stage=config" in first
    assert "plain record" in second


def test_reconfiguring_does_not_duplicate_lines(out: io.StringIO) -> None:
    configure_logging(json=True, session_id=SESSION, stream=out)
    configure_logging(json=True, stream=out)
    logging.getLogger("quantdesk.test").info("once")
    get_logger("quantdesk.test").info("twice?")
    assert [line["event"] for line in lines(out)] == ["once", "twice?"]
    assert all(line["session_id"] == SESSION for line in lines(out))  # kept


def test_switching_format_replaces_the_handler(out: io.StringIO) -> None:
    console = io.StringIO()
    configure_logging(json=True, stream=out)
    configure_logging(json=False, stream=console)
    get_logger("quantdesk.test").info("where")
    assert out.getvalue() == ""
    assert "where" in console.getvalue()


def test_the_level_filters_both_kinds_of_records(out: io.StringIO) -> None:
    configure_logging(json=True, level="warning", stream=out)
    get_logger("quantdesk.test").info("hidden")
    logging.getLogger("quantdesk.test").info("hidden too")
    get_logger("quantdesk.test").warning("shown")
    assert [line["event"] for line in lines(out)] == ["shown"]
    with pytest.raises(ValueError, match="unknown log level"):
        configure_logging(json=True, level="LOUD", stream=out)
