"""The local override file: what neither exchange-calendars nor the broker knew in time.

TOML with [[holiday]], [[session]] (a Muhurat or special session) and [[event]] tables.
Anything odd is refused with the file name and entry: a silently skipped holiday would send
orders into a closed market.
"""

from __future__ import annotations

import tomllib
from collections.abc import Mapping
from datetime import date, datetime
from pathlib import Path
from typing import Any

from quantdesk.domain.time import from_datetime
from quantdesk.risk.market_days import (
    CalendarError,
    Event,
    EventKind,
    MarketDay,
    Overrides,
    clock_minute,
    day_number,
    ist_ns,
)

_SECTIONS = {
    "holiday": frozenset({"date", "name"}),
    "session": frozenset({"date", "name", "open", "close"}),
    "event": frozenset({"name", "kind", "at", "before_min", "after_min", "symbol"}),
}


def load_overrides(path: Path) -> Overrides:
    """Read the local TOML override file ([[holiday]], [[session]], [[event]] tables).
    Anything odd is refused with the file name and entry: a silently skipped holiday would
    send orders into a closed market."""
    try:
        raw = tomllib.loads(path.read_text(encoding="utf-8"))
    except (OSError, UnicodeDecodeError) as exc:
        raise CalendarError(f"{path}: cannot read override file: {exc}") from exc
    except tomllib.TOMLDecodeError as exc:
        raise CalendarError(f"{path}: not valid TOML: {exc}") from exc
    unknown = sorted(set(raw) - set(_SECTIONS))
    if unknown:
        raise CalendarError(f"{path}: unknown section(s) {unknown}; expected {sorted(_SECTIONS)}")
    days = [_holiday(t) for t in _tables(path, raw, "holiday")]
    days += [_special_session(t) for t in _tables(path, raw, "session")]
    seen: dict[date, str] = {}
    for entry in days:
        if entry.day in seen:
            raise CalendarError(f"{path}: {entry.day} is listed twice ({seen[entry.day]!r})")
        seen[entry.day] = entry.name
    return Overrides(tuple(days), tuple(_event(t) for t in _tables(path, raw, "event")))


class _Table:
    """One [[section]] entry, with errors that say which file, section and entry."""

    def __init__(self, raw: Mapping[str, Any], where: str, allowed: frozenset[str]) -> None:
        self.raw, self.where = raw, where
        unknown = sorted(set(raw) - allowed)
        if unknown:
            raise CalendarError(f"{where}: unknown key(s) {unknown}; allowed {sorted(allowed)}")

    def fail(self, key: str, problem: str) -> CalendarError:
        return CalendarError(f"{self.where}: '{key}' {problem}, got {self.raw.get(key)!r}")

    def get(self, key: str, kind: type | tuple[type, ...], problem: str) -> Any:
        if key not in self.raw:
            raise CalendarError(f"{self.where}: '{key}' is missing")
        value = self.raw[key]
        if not isinstance(value, kind) or isinstance(value, bool):
            raise self.fail(key, problem)
        return value

    def text(self, key: str) -> str:
        value: str = self.get(key, str, "must be a string").strip()
        if not value:
            raise self.fail(key, "must not be empty")
        return value

    def day(self, key: str) -> date:
        value = self.get(key, date, "must be a TOML date like 2026-01-26 (no quotes)")
        if isinstance(value, datetime):
            raise self.fail(key, "must be a date without a time")
        return value  # type: ignore[no-any-return]

    def minute(self, key: str) -> int:
        try:
            return clock_minute(self.get(key, str, 'must be an IST clock time like "18:15"'))
        except ValueError:
            raise self.fail(key, 'must be an IST clock time like "18:15"') from None

    def moment(self, key: str) -> int:
        problem = "must be a TOML date-time with offset like 2026-02-06T10:00:00+05:30"
        moment: datetime = self.get(key, datetime, problem)
        if moment.utcoffset() is None:
            raise self.fail(key, problem)
        return from_datetime(moment)

    def minutes(self, key: str) -> int:
        value: int = self.get(key, int, "must be a whole number of minutes")
        if value < 0:
            raise self.fail(key, "must not be negative")
        return value


def _tables(path: Path, raw: Mapping[str, Any], section: str) -> list[_Table]:
    entries = raw.get(section, [])
    if not isinstance(entries, list) or not all(isinstance(e, dict) for e in entries):
        raise CalendarError(f"{path}: '{section}' must be an array of tables: [[{section}]]")
    return [
        _Table(entry, f"{path}: [[{section}]] entry {i}", _SECTIONS[section])
        for i, entry in enumerate(entries, start=1)
    ]


def _holiday(table: _Table) -> MarketDay:
    return MarketDay(table.day("date"), table.text("name"))


def _special_session(table: _Table) -> MarketDay:
    day, opens, closes = table.day("date"), table.minute("open"), table.minute("close")
    if opens >= closes:
        raise table.fail("close", "must be after 'open' (sessions do not cross midnight)")
    number = day_number(day)
    return MarketDay(day, table.text("name"), ist_ns(number, opens), ist_ns(number, closes))


def _event(table: _Table) -> Event:
    kind = table.text("kind")
    if kind not in EventKind.__members__:
        raise table.fail("kind", f"must be one of {list(EventKind.__members__)}")
    return Event(
        name=table.text("name"),
        kind=EventKind(kind),
        at_ns=table.moment("at"),
        before_min=table.minutes("before_min"),
        after_min=table.minutes("after_min"),
        symbol=table.text("symbol") if "symbol" in table.raw else None,
    )
