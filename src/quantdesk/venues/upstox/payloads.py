"""Upstox's documented JSON -> our domain types, exactly (orders are in `orders.py`).

Prices arrive as JSON numbers (`2305.3`); they are read straight from the text into
Decimal (`loads`), never through a float, and requests are written the same way (`dumps`).
Upstox stamps times in IST: candles as ISO-8601 with `+05:30`, orders as naive
`2023-10-19 09:23:23` and trades as `03-Aug-2017 15:03:42` (both IST wall clock); all
become UTC epoch ns. Candles come newest first and become `Bar`s oldest first.
"""

from __future__ import annotations

import json
import re
from collections.abc import Mapping
from dataclasses import dataclass
from datetime import date, datetime, timedelta
from decimal import Decimal
from itertools import pairwise
from typing import Any

from quantdesk.domain.enums import Side
from quantdesk.domain.fill import Fill
from quantdesk.domain.market import Bar
from quantdesk.domain.time import IST, from_datetime

ZERO = Decimal(0)
CANDLE_UNITS = ("minutes", "hours", "days", "weeks", "months")
_MONTHS = ("Jan", "Feb", "Mar", "Apr", "May", "Jun", "Jul", "Aug", "Sep", "Oct", "Nov", "Dec")
_TRADE_TIME = re.compile(
    r"(?P<day>\d{2})-(?P<month>[A-Za-z]{3})-(?P<year>\d{4}) (?P<time>[\d:]{8})"
)


class PayloadError(ValueError):
    """An answer that does not have the documented shape; says where."""


def loads(text: str | bytes) -> Any:
    """JSON with every non-integer number as an exact Decimal of its own digits."""
    return json.loads(text, parse_float=Decimal)


def dumps(body: Mapping[str, str | int | bool | Decimal | None]) -> bytes:
    """A flat JSON object whose Decimals are written digit for digit."""
    parts = []
    for key, value in body.items():
        text = format(value, "f") if isinstance(value, Decimal) else json.dumps(value)
        parts.append(f"{json.dumps(key)}:{text}")
    return ("{" + ",".join(parts) + "}").encode()


def dec(item: Mapping[str, Any], key: str, default: Decimal | None = None) -> Decimal:
    value = item.get(key)
    if value is None and default is not None:
        return default
    if isinstance(value, bool) or not isinstance(value, Decimal | int | str):
        raise PayloadError(f"{key} should be a number, got {value!r}")
    try:
        number = Decimal(value)
    except ArithmeticError:
        number = Decimal("NaN")
    if not number.is_finite():
        raise PayloadError(f"{key} is not a finite number: {value!r}")
    return number


def string(item: Mapping[str, Any], key: str) -> str:
    value = item.get(key)
    if not isinstance(value, str) or not value:
        raise PayloadError(f"{key} should be a non-empty string, got {value!r}")
    return value


def symbol_of(item: Mapping[str, Any]) -> str:
    return str(item.get("trading_symbol") or item.get("tradingsymbol") or "")


def side_of(item: Mapping[str, Any]) -> Side:
    try:
        return Side(string(item, "transaction_type"))
    except ValueError:
        raise PayloadError(f"unknown transaction_type {item.get('transaction_type')!r}") from None


def ist_ns(text: object) -> int | None:
    """Epoch ns of an Upstox IST wall-clock time (either documented format); None if absent.
    Month names are matched here, not by strptime, whose `%b` follows the process locale."""
    if text is None or text == "":
        return None
    value = str(text)
    match = _TRADE_TIME.fullmatch(value)
    if match is not None and match["month"].title() in _MONTHS:
        month = _MONTHS.index(match["month"].title()) + 1
        value = f"{match['year']}-{month:02d}-{match['day']} {match['time']}"
    try:
        moment = datetime.strptime(value, "%Y-%m-%d %H:%M:%S")
    except ValueError:
        raise PayloadError(f"unrecognised timestamp {text!r}") from None
    return from_datetime(moment.replace(tzinfo=IST))


@dataclass(frozen=True, slots=True)
class UpstoxTrade:
    """One execution (a partial fill is a trade); `price` is its traded price."""

    trade_id: str
    order_id: str
    instrument_token: str
    trading_symbol: str
    side: Side
    quantity: Decimal
    price: Decimal
    exchange_ts: int | None

    def fill(self, client_order_id: str, symbol: str, fee: Decimal = ZERO) -> Fill:
        ts = self.exchange_ts if self.exchange_ts is not None else 0
        side, quantity, price = self.side, self.quantity, self.price
        return Fill(self.trade_id, client_order_id, symbol, side, quantity, price, ts, fee)


def parse_trade(item: object) -> UpstoxTrade:
    if not isinstance(item, dict):
        raise PayloadError(f"a trade should be an object, got {type(item).__name__}")
    return UpstoxTrade(
        trade_id=string(item, "trade_id"),
        order_id=string(item, "order_id"),
        instrument_token=string(item, "instrument_token"),
        trading_symbol=symbol_of(item),
        side=side_of(item),
        quantity=dec(item, "quantity"),
        price=dec(item, "average_price"),
        exchange_ts=ist_ns(item.get("exchange_timestamp")),
    )


@dataclass(frozen=True, slots=True)
class UpstoxPosition:
    """A short-term position; `quantity` is signed (short < 0)."""

    instrument_token: str
    trading_symbol: str
    product: str
    quantity: Decimal
    average_price: Decimal
    last_price: Decimal
    pnl: Decimal
    realised: Decimal
    unrealised: Decimal


def parse_position(item: object) -> UpstoxPosition:
    if not isinstance(item, dict):
        raise PayloadError(f"a position should be an object, got {type(item).__name__}")
    return UpstoxPosition(
        instrument_token=string(item, "instrument_token"),
        trading_symbol=symbol_of(item),
        product=str(item.get("product") or ""),
        quantity=dec(item, "quantity"),
        average_price=dec(item, "average_price", ZERO),
        last_price=dec(item, "last_price", ZERO),
        pnl=dec(item, "pnl", ZERO),
        realised=dec(item, "realised", ZERO),
        unrealised=dec(item, "unrealised", ZERO),
    )


FUND_FIELDS = (
    "available_margin",
    "used_margin",
    "payin_amount",
    "span_margin",
    "adhoc_margin",
    "notional_cash",
    "exposure_margin",
)


def parse_funds(data: object) -> dict[str, dict[str, Decimal]]:
    """Segment (`equity`, `commodity`) -> the documented margin figures, exact."""
    if not isinstance(data, dict):
        raise PayloadError("funds 'data' should be an object")
    return {
        segment: {name: dec(figures, name, ZERO) for name in FUND_FIELDS}
        for segment, figures in data.items()
        if isinstance(figures, dict)
    }


def parse_candles(data: object, symbol: str, unit: str, interval: int) -> list[Bar]:
    """`data.candles` ([ts, o, h, l, c, volume, oi], newest first) -> Bars, oldest first."""
    rows = data.get("candles") if isinstance(data, dict) else None
    if not isinstance(rows, list):
        raise PayloadError("'data.candles' should be a list")
    bars = [_bar(row, i, symbol, unit, interval) for i, row in enumerate(reversed(rows))]
    for before, after in pairwise(bars):
        if after.ts <= before.ts:
            raise PayloadError(f"candles are not strictly newest first at {after.ts}")
    return bars


def _bar(row: object, index: int, symbol: str, unit: str, interval: int) -> Bar:
    if not isinstance(row, list) or len(row) < 6:
        raise PayloadError(f"candle {index} should be [ts, o, h, l, c, volume, oi], got {row!r}")
    try:
        start = datetime.fromisoformat(str(row[0]))
    except ValueError:
        raise PayloadError(f"candle {index}: bad timestamp {row[0]!r}") from None
    if start.tzinfo is None:
        raise PayloadError(f"candle {index}: timestamp {row[0]!r} has no UTC offset")
    fields = dict(zip(("open", "high", "low", "close", "volume"), row[1:6], strict=True))
    o, h, low, c, v = (dec(fields, name) for name in ("open", "high", "low", "close", "volume"))
    ts = from_datetime(start)
    return Bar(symbol, ts, o, h, low, c, v, from_datetime(_advance(start, unit, interval)) - ts)


def _advance(start: datetime, unit: str, interval: int) -> datetime:
    """The start of the next candle (a month candle lasts its calendar month)."""
    if unit == "months":
        months = start.year * 12 + start.month - 1 + interval
        return start.replace(year=months // 12, month=months % 12 + 1)
    step = {"minutes": 60, "hours": 3600, "days": 86_400, "weeks": 604_800}[unit]
    return start + timedelta(seconds=step * interval)


def check_candle_request(unit: str, interval: int, *dates: date | None) -> None:
    """A malformed request is a bug in the caller: refused before it costs a budget token."""
    if unit not in CANDLE_UNITS:
        raise ValueError(f"candle unit {unit!r} not in {CANDLE_UNITS}")
    if isinstance(interval, bool) or not isinstance(interval, int) or interval <= 0:
        raise ValueError(f"candle interval must be a positive int, got {interval!r}")
    if len(dates) == 2 and dates[0] is not None and dates[1] is not None and dates[1] < dates[0]:
        raise ValueError(f"from_date {dates[0]} is after to_date {dates[1]}")
