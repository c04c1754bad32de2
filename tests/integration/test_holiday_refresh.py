"""The holiday refresher against a real HTTP server on 127.0.0.1 that speaks the Upstox v2
market-holidays format and can be switched into each way a broker fails."""

from __future__ import annotations

import copy
import json
import logging
import socket
import threading
from collections.abc import Iterator
from dataclasses import dataclass, field
from datetime import date, datetime
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path
from typing import Any
from zoneinfo import ZoneInfo

import httpx
import pytest

from quantdesk.domain.enums import Severity
from quantdesk.domain.time import NS_PER_DAY, from_datetime
from quantdesk.risk.calendar import TradingCalendar
from quantdesk.risk.holiday_refresh import (
    REFRESH_FAILED,
    HolidayFeedError,
    HolidayRefresher,
    load_stored,
    next_run_ts,
    parse_upstox_holidays,
)
from quantdesk.risk.market_days import CalendarError, MarketDay

FIXTURE = Path(__file__).parents[1] / "fixtures" / "calendar" / "upstox_holidays.json"
KOLKATA = ZoneInfo("Asia/Kolkata")
TOKEN = "upstox-access-token-4f1c9e"  # a stand-in secret: it must never leak
CLIENT_TIMEOUT_S = 0.3
NOW = from_datetime(datetime(2026, 1, 10, 8, 0, tzinfo=KOLKATA))


def ist(year: int, month: int, day: int, hour: int, minute: int) -> int:
    return from_datetime(datetime(year, month, day, hour, minute, tzinfo=KOLKATA))


def upstox_payload() -> dict[str, Any]:
    document: dict[str, Any] = json.loads(FIXTURE.read_text(encoding="utf-8"))
    return document


@dataclass
class FakeBroker:
    """What the server answers next, and what it was asked."""

    mode: str = "ok"
    payload: dict[str, Any] = field(default_factory=upstox_payload)
    authorizations: list[str | None] = field(default_factory=list)
    release: threading.Event = field(default_factory=threading.Event)
    url: str = ""


class _Handler(BaseHTTPRequestHandler):
    server: _BrokerServer

    def do_GET(self) -> None:
        broker = self.server.broker
        broker.authorizations.append(self.headers.get("Authorization"))
        if broker.mode == "slow":
            broker.release.wait(timeout=3 * CLIENT_TIMEOUT_S + 2)
        status, headers, body = _answer(broker)
        try:
            self.send_response(status)
            for name, value in headers.items():
                self.send_header(name, value)
            self.send_header("Content-Length", str(len(body)))
            self.end_headers()
            self.wfile.write(body)
        except (BrokenPipeError, ConnectionResetError):
            pass  # the client gave up (timeout test)

    def log_message(self, format: str, *args: Any) -> None:
        pass


def _answer(broker: FakeBroker) -> tuple[int, dict[str, str], bytes]:
    as_json = {"Content-Type": "application/json"}
    if broker.mode == "500":
        return 500, as_json, b'{"status":"error","errors":[{"message":"internal"}]}'
    if broker.mode == "429":
        return 429, {**as_json, "Retry-After": "30"}, b'{"status":"error"}'
    if broker.mode == "malformed":
        return 200, as_json, b'{"status": "success", "data": [{"date": "2026-01-26",'
    if broker.mode == "empty":
        return 200, as_json, b'{"status": "success", "data": []}'
    return 200, as_json, json.dumps(broker.payload).encode()


class _BrokerServer(ThreadingHTTPServer):
    daemon_threads = True
    broker: FakeBroker


@pytest.fixture
def broker() -> Iterator[FakeBroker]:
    server = _BrokerServer(("127.0.0.1", 0), _Handler)
    server.broker = FakeBroker(
        url=f"http://127.0.0.1:{server.server_address[1]}/v2/market/holidays"
    )
    thread = threading.Thread(
        target=server.serve_forever, args=(0.05,), name="fake-upstox", daemon=True
    )
    thread.start()
    yield server.broker
    server.broker.release.set()
    server.shutdown()
    server.server_close()
    thread.join(timeout=5)


@pytest.fixture
def client() -> Iterator[httpx.Client]:
    with httpx.Client(timeout=CLIENT_TIMEOUT_S) as http:
        yield http


@pytest.fixture
def refresher(broker: FakeBroker, client: httpx.Client, tmp_path: Path) -> HolidayRefresher:
    return HolidayRefresher(client, broker.url, tmp_path / "nse_holidays.json", access_token=TOKEN)


def test_successful_refresh_stores_nse_closures_and_sessions(
    broker: FakeBroker, refresher: HolidayRefresher, tmp_path: Path
) -> None:
    assert refresher.refresh(NOW) is None
    store = tmp_path / "nse_holidays.json"
    assert [path.name for path in tmp_path.iterdir()] == [store.name]  # no temp file left
    assert broker.authorizations == [f"Bearer {TOKEN}"]
    days = {day.day: day for day in load_stored(store)}
    assert days[date(2026, 1, 26)] == MarketDay(date(2026, 1, 26), "Republic Day")
    muhurat = days[date(2025, 10, 21)]
    assert (muhurat.open_ns, muhurat.close_ns) == (
        ist(2025, 10, 21, 13, 45),
        ist(2025, 10, 21, 14, 45),
    )
    new_year = days[date(2026, 1, 1)]
    assert (new_year.open_ns, new_year.close_ns) == (
        ist(2026, 1, 1, 9, 15),
        ist(2026, 1, 1, 15, 30),
    )
    assert date(2026, 2, 19) not in days  # a settlement holiday: NSE still trades
    assert json.loads(store.read_text())["fetched_ns"] == NOW


@pytest.mark.parametrize(
    ("mode", "payload_change", "reason"),
    [
        ("500", None, "HTTP 500 Internal Server Error"),
        ("429", None, "rate limited (HTTP 429, Retry-After 30)"),
        ("malformed", None, "malformed JSON"),
        ("empty", None, "'data' is empty"),
        ("slow", None, "no answer within the client timeout"),
        ("ok", {"status": "error", "data": []}, "status 'success'"),
        ("ok", {"status": "success", "data": {"date": "2026-01-26"}}, "'data' is not a list"),
        ("ok", "string-start-time", "start_time should be int"),
        ("ok", "bad-date", "is not YYYY-MM-DD"),
        ("ok", "mcx-only", "none of the 1 entries concerns NSE"),
    ],
)
def test_failed_refresh_keeps_the_last_good_list_and_warns(
    broker: FakeBroker,
    refresher: HolidayRefresher,
    tmp_path: Path,
    caplog: pytest.LogCaptureFixture,
    mode: str,
    payload_change: object,
    reason: str,
) -> None:
    assert refresher.refresh(NOW) is None
    store = tmp_path / "nse_holidays.json"
    last_good = store.read_bytes()
    broker.mode, broker.payload = mode, _broken_payload(payload_change)

    with caplog.at_level(logging.DEBUG, logger="quantdesk"):
        event = refresher.refresh(NOW + NS_PER_DAY)

    assert event is not None
    assert (event.code, event.severity, event.ts) == (
        REFRESH_FAILED,
        Severity.WARNING,
        NOW + NS_PER_DAY,
    )
    assert reason in event.message
    assert store.read_bytes() == last_good
    assert [path.name for path in tmp_path.iterdir()] == [store.name]
    assert broker.authorizations[-1] == f"Bearer {TOKEN}"
    assert TOKEN not in event.message + json.dumps(dict(event.details)) + caplog.text
    assert reason in caplog.text
    if mode == "429":
        assert event.details["retry_after"] == "30"


def _broken_payload(change: object) -> dict[str, Any]:
    payload = upstox_payload()
    if isinstance(change, dict):
        return change
    if change == "string-start-time":
        payload["data"][0]["open_exchanges"][0]["start_time"] = "13:45"
    elif change == "bad-date":
        payload["data"][2]["date"] = "26-01-2026"
    elif change == "mcx-only":
        payload["data"] = [
            {"date": "2026-01-01", "description": "x", "holiday_type": "TRADING_HOLIDAY"}
            | {"closed_exchanges": ["MCX"], "open_exchanges": []}
        ]
    return payload


def test_failure_before_any_good_refresh_writes_nothing(
    broker: FakeBroker, refresher: HolidayRefresher, tmp_path: Path
) -> None:
    broker.mode = "500"
    event = refresher.refresh(NOW)
    assert event is not None and event.severity is Severity.WARNING
    assert list(tmp_path.iterdir()) == []
    assert load_stored(tmp_path / "nse_holidays.json") == []


def test_unreachable_broker_is_a_warning_and_the_token_stays_secret(
    client: httpx.Client, tmp_path: Path, caplog: pytest.LogCaptureFixture
) -> None:
    with socket.socket() as probe:  # a port nothing listens on
        probe.bind(("127.0.0.1", 0))
        port = probe.getsockname()[1]
    url = f"http://127.0.0.1:{port}/v2/market/holidays?access_token={TOKEN}"
    refresher = HolidayRefresher(client, url, tmp_path / "nse_holidays.json", access_token=TOKEN)
    with caplog.at_level(logging.DEBUG, logger="quantdesk"):
        event = refresher.refresh(NOW)
    assert event is not None and event.code == REFRESH_FAILED
    assert "request failed: ConnectError" in event.message
    assert TOKEN not in event.message + json.dumps(dict(event.details)) + caplog.text
    assert "access_token=***" in event.details["url"]


def test_refreshed_holiday_becomes_visible_through_the_calendar(
    broker: FakeBroker, refresher: HolidayRefresher, tmp_path: Path
) -> None:
    store = tmp_path / "nse_holidays.json"
    surprise = date(2026, 2, 17)  # a Tuesday exchange-calendars trades
    assert refresher.refresh(NOW) is None
    before = TradingCalendar.build(
        first=date(2026, 1, 1), last=date(2026, 12, 31), announced=load_stored(store)
    )
    assert before.is_trading_day(surprise)
    assert before.holiday_name(date(2026, 1, 26)) == "Republic Day"

    payload = copy.deepcopy(broker.payload)
    payload["data"].append(
        {
            "date": "2026-02-17",
            "description": "Special closure (late notice)",
            "holiday_type": "TRADING_HOLIDAY",
            "closed_exchanges": ["NSE", "BSE", "NFO"],
            "open_exchanges": [],
        }
    )
    broker.payload = payload
    assert refresher.refresh(NOW + NS_PER_DAY) is None

    after = TradingCalendar.build(
        first=date(2026, 1, 1), last=date(2026, 12, 31), announced=load_stored(store)
    )
    assert not after.is_trading_day(surprise)
    assert after.holiday_name(surprise) == "Special closure (late notice)"
    assert not after.is_open(ist(2026, 2, 17, 10, 0))
    assert after.entry_window(surprise) is None


def test_refresh_without_a_token_sends_no_authorization(
    broker: FakeBroker, client: httpx.Client, tmp_path: Path
) -> None:
    refresher = HolidayRefresher(client, broker.url, tmp_path / "h.json")
    assert refresher.refresh(NOW) is None
    assert broker.authorizations == [None]


@pytest.mark.parametrize(
    ("now", "expected"),
    [
        (ist(2026, 1, 16, 7, 59), ist(2026, 1, 16, 8, 0)),
        (ist(2026, 1, 16, 8, 0), ist(2026, 1, 17, 8, 0)),  # strictly after
        (ist(2026, 1, 16, 8, 0) - 1, ist(2026, 1, 16, 8, 0)),
        (ist(2026, 1, 16, 20, 0), ist(2026, 1, 17, 8, 0)),
        (ist(2026, 1, 17, 4, 30), ist(2026, 1, 17, 8, 0)),  # 23:00 UTC the day before
        (ist(2026, 12, 31, 9, 0), ist(2027, 1, 1, 8, 0)),
    ],
)
def test_next_run_is_the_next_0800_ist(now: int, expected: int) -> None:
    assert next_run_ts(now) == expected
    assert expected == from_datetime(
        datetime.fromtimestamp(expected // 10**9, tz=KOLKATA).replace(hour=8)
    )


def test_damaged_store_is_an_error_naming_the_file(tmp_path: Path) -> None:
    store = tmp_path / "nse_holidays.json"
    for text in (
        "{not json",
        '{"format": "other", "days": []}',
        '{"format": "quantdesk.nse-market-days/1"}',
    ):
        store.write_text(text)
        with pytest.raises(
            CalendarError, match=r"nse_holidays\.json: unreadable stored holiday list"
        ):
            load_stored(store)


def test_special_session_outside_its_own_day_is_rejected() -> None:
    payload = upstox_payload()
    nse = payload["data"][0]["open_exchanges"][0]
    nse["start_time"] += NS_PER_DAY // 10**6
    nse["end_time"] += NS_PER_DAY // 10**6
    with pytest.raises(HolidayFeedError, match=r"data\[0\].*opens on another IST day"):
        parse_upstox_holidays(payload)


def test_a_paper_run_refreshes_at_start_and_trades_on_what_it_fetched(
    broker: FakeBroker, tmp_path: Path
) -> None:
    """2026-02-19 trades by exchange-calendars' reckoning; the broker announces it shut."""
    import asyncio
    from decimal import Decimal

    from quantdesk.config import CalendarSettings, Settings
    from quantdesk.domain.market import Bar
    from quantdesk.runners.paper import PaperSpec, run_paper

    broker.payload["data"] = [d for d in broker.payload["data"] if d["date"] == "2026-02-19"]
    assert broker.payload["data"], "the fixture lists 2026-02-19"
    broker.payload["data"][0]["holiday_type"] = "TRADING_HOLIDAY"  # announced late
    store = tmp_path / "holidays.json"
    settings = Settings(
        database_url=f"sqlite:///{tmp_path / 'qd.db'}",
        calendar=CalendarSettings(
            holiday_store=store, holiday_url=broker.url, refresh_holidays=True
        ),
    )
    start = ist(2026, 2, 19, 10, 0)
    bars = [
        Bar(
            "H",
            start + i * 60 * 10**9,
            Decimal(100),
            Decimal(101),
            Decimal(99),
            Decimal(100 + i % 3),
            Decimal(1),
            60 * 10**9,
        )
        for i in range(12)
    ]
    spec = PaperSpec("sma_cross", "H", {"fast": "2", "slow": "3", "qty": "1"}, speed=1e6)
    run = asyncio.run(run_paper(spec, settings, iter(bars), tmp_path / "run"))
    assert store.exists() and (tmp_path / "run" / "calendar" / "nse_holidays.json").exists()
    assert run.desk.engine.risk.calendar is not None
    assert not run.desk.engine.risk.calendar.is_trading_day(date(2026, 2, 19))
    assert not run.desk.oms.book.positions or not any(
        p.quantity for p in run.desk.oms.book.positions.values()
    )
    refused = [line for line in run.desk.engine.log.lines if "|REFUSED|" in line]
    assert refused and all("HOLIDAY" in line for line in refused)
