"""Daily refresh of NSE holidays from the broker (Upstox v2 market-holidays), so a holiday
announced after the installed exchange-calendars release still closes the calendar.

A failed refresh must never cost the desk its calendar: the last good list stays on disk
untouched and the failure comes back as a WARNING RiskEvent for the operator. The broker's
answer is validated whole before anything is written, because a half-understood list that
silently drops a holiday is worse than yesterday's list.
"""

from __future__ import annotations

import json
import logging
import os
import tempfile
from datetime import date
from pathlib import Path
from typing import Any

import httpx

from quantdesk.domain.enums import Severity
from quantdesk.domain.risk_event import RiskEvent
from quantdesk.domain.time import IST_OFFSET_NS, NS_PER_DAY, NS_PER_MINUTE, NS_PER_MS
from quantdesk.risk.market_days import CalendarError, MarketDay

log = logging.getLogger(__name__)

REFRESH_FAILED = "CALENDAR_REFRESH_FAILED"
REFRESH_MINUTE_IST = 8 * 60  # 08:00 IST: before pre-open, after the broker's overnight update
EXCHANGE = "NSE"
STORE_FORMAT = "quantdesk.nse-market-days/1"


class HolidayFeedError(ValueError):
    """The broker's answer cannot be trusted as a holiday list; says which entry and why."""


def next_run_ts(now_ns: int) -> int:
    """The next 08:00 IST strictly after `now_ns`."""
    day = (now_ns + IST_OFFSET_NS) // NS_PER_DAY
    run = day * NS_PER_DAY + REFRESH_MINUTE_IST * NS_PER_MINUTE - IST_OFFSET_NS
    return run if run > now_ns else run + NS_PER_DAY


def parse_upstox_holidays(payload: object) -> list[MarketDay]:
    """NSE's closures and special sessions from an Upstox v2 market-holidays answer.

    An entry is an NSE holiday when it is a TRADING_HOLIDAY with NSE among the closed
    exchanges; when NSE is among the open exchanges with times, NSE trades those hours (a
    Muhurat or DR-drill session, or a regular day listed because other exchanges close)."""
    if not isinstance(payload, dict) or payload.get("status") != "success":
        raise HolidayFeedError("response is not an object with status 'success'")
    data = payload.get("data")
    if not isinstance(data, list):
        raise HolidayFeedError("'data' is not a list")
    if not data:
        raise HolidayFeedError("'data' is empty: refusing to replace the holidays with nothing")
    days = [day for i, entry in enumerate(data) if (day := _nse_day(entry, i)) is not None]
    if not days:
        raise HolidayFeedError(f"none of the {len(data)} entries concerns {EXCHANGE}")
    return days


def _nse_day(entry: object, index: int) -> MarketDay | None:
    where = f"data[{index}]"
    if not isinstance(entry, dict):
        raise HolidayFeedError(f"{where} is not an object")
    day = _field(entry, "date", str, where)
    name = _field(entry, "description", str, where)
    closed = _field(entry, "closed_exchanges", list, where)
    opened = _field(entry, "open_exchanges", list, where)
    try:
        on = date.fromisoformat(day)
    except ValueError:
        raise HolidayFeedError(f"{where}.date {day!r} is not YYYY-MM-DD") from None
    if _field(entry, "holiday_type", str, where) == "TRADING_HOLIDAY" and EXCHANGE in closed:
        return MarketDay(on, name)
    for venue in opened:
        if isinstance(venue, dict) and venue.get("exchange") == EXCHANGE:
            start = _field(venue, "start_time", int, f"{where}.open_exchanges.{EXCHANGE}")
            end = _field(venue, "end_time", int, f"{where}.open_exchanges.{EXCHANGE}")
            try:
                return MarketDay(on, name, start * NS_PER_MS, end * NS_PER_MS)
            except ValueError as exc:
                raise HolidayFeedError(f"{where}: {exc}") from None
    return None


def _field(entry: dict[str, Any], key: str, kind: type, where: str) -> Any:
    value = entry.get(key)
    if not isinstance(value, kind) or isinstance(value, bool):
        raise HolidayFeedError(f"{where}.{key} should be {kind.__name__}, got {value!r}")
    return value


def load_stored(store: Path) -> list[MarketDay]:
    """The last good list the refresher kept, for `TradingCalendar.build(announced=...)`.
    No file yet means no announcements yet; a damaged file is an error, not an empty list,
    because a calendar that forgot its holidays would trade into a closed market."""
    if not store.exists():
        return []
    try:
        document = json.loads(store.read_text(encoding="utf-8"))
        if not isinstance(document, dict) or document.get("format") != STORE_FORMAT:
            raise ValueError(f"not a {STORE_FORMAT} document")
        return [_stored_day(item) for item in document["days"]]
    except (OSError, ValueError, KeyError, TypeError, AttributeError) as exc:
        raise CalendarError(f"{store}: unreadable stored holiday list: {exc}") from exc


def _stored_day(item: dict[str, Any]) -> MarketDay:
    hours = (item.get("open_ns"), item.get("close_ns"))
    if not all(ns is None or (isinstance(ns, int) and not isinstance(ns, bool)) for ns in hours):
        raise ValueError(f"{item.get('date')}: open_ns/close_ns must be integers")
    return MarketDay(date.fromisoformat(item["date"]), str(item["name"]), *hours)


def _store_atomically(store: Path, days: list[MarketDay], fetched_ns: int) -> None:
    """Temp file in the same folder, fsync, rename: a crash leaves the old list or the new
    one, never half of one."""
    document = {
        "format": STORE_FORMAT,
        "fetched_ns": fetched_ns,
        "days": [
            {"date": d.day.isoformat(), "name": d.name}
            | ({} if d.open_ns is None else {"open_ns": d.open_ns, "close_ns": d.close_ns})
            for d in sorted(days, key=lambda d: d.day)
        ],
    }
    store.parent.mkdir(parents=True, exist_ok=True)
    handle, temp = tempfile.mkstemp(dir=store.parent, prefix=f".{store.name}.", suffix=".tmp")
    try:
        with os.fdopen(handle, "w", encoding="utf-8") as out:
            json.dump(document, out, indent=1)
            out.flush()
            os.fsync(out.fileno())
        os.replace(temp, store)
    except BaseException:
        Path(temp).unlink(missing_ok=True)
        raise


class _RefreshFailed(Exception):
    def __init__(self, reason: str, **details: str) -> None:
        super().__init__(reason)
        self.reason, self.details = reason, details


class HolidayRefresher:
    """Fetches the broker's holiday list once a day and keeps the last good copy in `store`.

    The client's own timeout bounds each call; there is no retry here because the job runs
    again tomorrow and the stored list (plus exchange-calendars) covers the gap."""

    def __init__(
        self, client: httpx.Client, url: str, store: Path, *, access_token: str | None = None
    ) -> None:
        self._client, self._url, self._store = client, url, store
        self._token = access_token or None
        self._headers = {"Accept": "application/json"}
        if self._token:
            self._headers["Authorization"] = f"Bearer {self._token}"

    def refresh(self, now_ns: int) -> RiskEvent | None:
        """Fetch, validate, store; None on success, else a WARNING RiskEvent saying why."""
        try:
            days = self._fetch_days()
            _store_atomically(self._store, days, now_ns)
        except _RefreshFailed as failure:
            return self._failed(now_ns, failure.reason, failure.details)
        except HolidayFeedError as exc:
            return self._failed(now_ns, f"unexpected answer: {exc}", {})
        except OSError as exc:
            return self._failed(now_ns, f"could not write the list: {exc}", {})
        except Exception as exc:  # a daily job must not take the desk down; the operator sees why
            return self._failed(now_ns, f"unexpected {type(exc).__name__}: {exc}", {})
        closed = sum(1 for d in days if d.open_ns is None)
        log.info(
            "NSE holidays refreshed: %d closures, %d special sessions", closed, len(days) - closed
        )
        return None

    def _fetch_days(self) -> list[MarketDay]:
        try:
            response = self._client.get(self._url, headers=self._headers)
        except httpx.TimeoutException as exc:
            raise _RefreshFailed(
                f"no answer within the client timeout ({type(exc).__name__})"
            ) from None
        except httpx.HTTPError as exc:
            raise _RefreshFailed(f"request failed: {type(exc).__name__}: {exc}") from None
        if response.status_code == 429:
            retry_after = response.headers.get("Retry-After", "unknown")
            reason = f"rate limited (HTTP 429, Retry-After {retry_after})"
            raise _RefreshFailed(reason, retry_after=retry_after)
        if not response.is_success:
            raise _RefreshFailed(f"HTTP {response.status_code} {response.reason_phrase}")
        try:
            payload = response.json()
        except ValueError as exc:
            raise _RefreshFailed(f"malformed JSON: {exc}") from None
        return parse_upstox_holidays(payload)

    def _failed(self, now_ns: int, reason: str, details: dict[str, str]) -> RiskEvent:
        message = self._redact(
            f"NSE holiday refresh failed: {reason}; keeping the last good list in {self._store}"
        )
        log.warning("%s", message)
        return RiskEvent(
            ts=now_ns,
            code=REFRESH_FAILED,
            severity=Severity.WARNING,
            message=message,
            details={"url": self._redact(self._url), **details},
        )

    def _redact(self, text: str) -> str:
        """The token must never reach a log line or an audit row, whatever an error echoes."""
        return text.replace(self._token, "***") if self._token else text
