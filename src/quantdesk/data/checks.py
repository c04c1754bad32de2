"""Data-quality checks over one symbol's bars, measured against the NSE calendar.

Missing candles silently produce fantasy backtests (DESIGN.md lessons), so nothing here
repairs data: each check returns `Finding`s (kind, severity, bar time, message) that
`data.quality_report` counts and turns into a quarantine decision. Pure functions: bars and
a calendar in, findings out. Prices are compared as exact Decimals; floats appear only in
the return statistics (robust z-scores, price ratios).

The calendar is a `risk.calendar.TradingCalendar`, passed in (only its `session_on` is
used), so `data` imports nothing from `risk` at run time.
"""

from __future__ import annotations

import math
from collections.abc import Iterable, Sequence
from dataclasses import dataclass
from datetime import date, timedelta
from enum import StrEnum
from typing import TYPE_CHECKING

import numpy as np
import numpy.typing as npt

from quantdesk.domain.enums import Severity
from quantdesk.domain.market import Bar
from quantdesk.domain.time import (
    IST,
    IST_OFFSET_NS,
    NS_PER_DAY,
    NS_PER_MINUTE,
    ist_date,
    to_datetime,
)

if TYPE_CHECKING:  # data sits below risk: the calendar is only a parameter here
    from quantdesk.risk.calendar import TradingCalendar as Calendar
    from quantdesk.risk.market_days import Session as SessionHours

MAD_TO_SIGMA = 1.4826  # MAD of a normal sample times this estimates its sigma
MEAN_AD_TO_SIGMA = 1.2533  # the same for the mean absolute deviation (when MAD is 0)
# price factor of a corporate action -> what NSE calls it (bonus a:b = a new per b held)
CORPORATE_RATIOS: tuple[tuple[float, str], ...] = (
    *((1 / n, f"split 1:{n} or bonus {n - 1}:1") for n in (2, 3, 4, 5, 10)),
    (2 / 3, "bonus 1:2"),
    (2 / 5, "bonus 3:2"),
    *((float(n), f"consolidation {n}:1") for n in (2, 5, 10)),
)


class Timeframe(StrEnum):
    MINUTE = "1m"
    DAY = "1d"


class Kind(StrEnum):
    MISSING_SESSION = "MISSING_SESSION"  # a trading day with no bar in its session
    MISSING_MINUTES = "MISSING_MINUTES"  # a run of absent minutes inside a session
    OUT_OF_SESSION = "OUT_OF_SESSION"  # pre-open, post-close: not coverage
    NON_TRADING_DAY = "NON_TRADING_DAY"  # bars on a holiday or weekend
    DUPLICATE = "DUPLICATE"  # the same bar twice
    CONFLICTING_DUPLICATE = "CONFLICTING_DUPLICATE"  # one timestamp, different values
    OUT_OF_ORDER = "OUT_OF_ORDER"
    OHLC_VIOLATION = "OHLC_VIOLATION"
    PLACEHOLDER_BAR = "PLACEHOLDER_BAR"  # volume 0 and O=H=L=C on a trading day
    OUTLIER = "OUTLIER"  # bar-to-bar return beyond the robust z threshold
    GAP_OUTLIER = "GAP_OUTLIER"  # session open against the previous session's close
    POSSIBLE_CORPORATE_ACTION = "POSSIBLE_CORPORATE_ACTION"  # an unadjusted split/bonus


@dataclass(frozen=True, slots=True)
class Finding:
    kind: Kind
    severity: Severity
    ts: int  # epoch ns of the bar (or of the first missing minute/session) concerned
    message: str
    count: int = 1  # bars, minutes or sessions concerned
    value: float | None = None  # robust z of an outlier; inferred factor of an action


@dataclass(frozen=True, slots=True)
class CheckConfig:
    """Thresholds. An overnight gap carries a day's variance, about √375 ≈ 19 intraday
    sigmas, so gaps of 1-minute data are scored in intraday sigmas against a threshold
    that wide: 150 is about 8 day-sigmas."""

    z_threshold: float = 8.0
    gap_z_threshold: float = 150.0
    min_returns: int = 20  # fewer returns than this: no outlier statistics
    ratio_tolerance: float = 0.05  # |open/prev close / factor - 1| for an action
    reversion_sessions: int = 3  # sessions either side that must not undo the jump
    known_actions: frozenset[date] = frozenset()  # announced actions: INFO, not CRITICAL


@dataclass(frozen=True, slots=True)
class Coverage:
    """Session minutes (1m) or trading days (1d) with a real bar: placeholders and
    out-of-session bars are not coverage."""

    unit: str
    expected: int
    present: int
    expected_days: int
    present_days: int

    @property
    def fraction(self) -> float:
        return self.present / self.expected if self.expected else 0.0


@dataclass(frozen=True, slots=True)
class CheckResult:
    findings: tuple[Finding, ...]  # in time order
    coverage: Coverage
    bars: int  # rows given
    returns: int  # returns the outlier statistics scored


def when(ts: int, daily: bool = False) -> str:
    """Bar time as an NSE operator reads it: `2026-01-12 09:15 IST`, or the IST date."""
    return to_datetime(ts).astimezone(IST).strftime("%Y-%m-%d" if daily else "%Y-%m-%d %H:%M IST")


def _at(bar: Bar) -> str:
    return when(bar.ts, daily=bar.duration >= NS_PER_DAY)


def run_checks(
    bars: Iterable[Bar],
    calendar: Calendar,
    timeframe: Timeframe = Timeframe.MINUTE,
    config: CheckConfig | None = None,
) -> CheckResult:
    """Every check, in the order that lets later ones trust earlier ones: order and
    duplicates first (the rest see one sorted bar per timestamp), then OHLC, calendar,
    placeholders, corporate actions and outliers (over consistent in-session bars only;
    an outlier that is a detected corporate action is not reported twice)."""
    config = config or CheckConfig()
    given = list(bars)
    findings, series = check_order(given)
    findings += check_ohlc(series)
    calendar_findings, coverage = check_sessions(series, calendar, timeframe)
    findings += calendar_findings + check_placeholders(series, calendar, timeframe)
    usable = [b for b in series if _in_session(b, calendar, timeframe) and not _ohlc_problems(b)]
    days = usable if timeframe is Timeframe.DAY else _daily(usable)
    actions = check_corporate_actions(days, config)
    outliers, scored = check_outliers(usable, timeframe, config)
    explained = {a.ts for a in actions}
    findings += actions + [o for o in outliers if o.ts not in explained]
    findings.sort(key=lambda f: f.ts)
    return CheckResult(tuple(findings), coverage, len(given), scored)


def check_order(bars: Iterable[Bar]) -> tuple[list[Finding], list[Bar]]:
    """Duplicates (the first bar of a timestamp is kept) and bars older than one already
    seen; returns the findings and the bars sorted, one per timestamp."""
    findings: list[Finding] = []
    kept: dict[int, Bar] = {}
    latest: int | None = None
    for bar in bars:
        first = kept.get(bar.ts)
        if first is not None:
            findings.append(_duplicate(bar, first))
            continue
        if latest is not None and bar.ts < latest:
            message = f"bar {_at(bar)} comes after {when(latest, bar.duration >= NS_PER_DAY)}"
            findings.append(Finding(Kind.OUT_OF_ORDER, Severity.CRITICAL, bar.ts, message))
        kept[bar.ts] = bar
        latest = bar.ts if latest is None else max(latest, bar.ts)
    return findings, sorted(kept.values(), key=lambda b: b.ts)


def _duplicate(bar: Bar, first: Bar) -> Finding:
    if bar[2:7] == first[2:7]:
        return Finding(Kind.DUPLICATE, Severity.WARNING, bar.ts, f"{_at(bar)} repeated")
    values = "O/H/L/C/V {} vs {}".format(*("/".join(map(str, b[2:7])) for b in (first, bar)))
    message = f"two different bars at {_at(bar)}: {values}"
    return Finding(Kind.CONFLICTING_DUPLICATE, Severity.CRITICAL, bar.ts, message)


def check_ohlc(bars: Iterable[Bar]) -> list[Finding]:
    """low <= open, close <= high; positive prices; non-negative volume (exact Decimals)."""
    return [
        Finding(Kind.OHLC_VIOLATION, Severity.CRITICAL, b.ts, f"{_at(b)}: {'; '.join(p)}")
        for b in bars
        if (p := _ohlc_problems(b))
    ]


def _ohlc_problems(bar: Bar) -> list[str]:
    names = ("open", "high", "low", "close")
    problems = [f"{n} {p} is not positive" for n, p in zip(names, bar[2:6], strict=True) if p <= 0]
    if bar.volume < 0:
        problems.append(f"volume {bar.volume} is negative")
    if bar.low > bar.high:
        problems.append(f"low {bar.low} above high {bar.high}")
    for name, price in (("open", bar.open), ("close", bar.close)):
        if price > bar.high:
            problems.append(f"{name} {price} above high {bar.high}")
        if price < bar.low:
            problems.append(f"{name} {price} below low {bar.low}")
    return problems


def is_placeholder(bar: Bar) -> bool:
    """A vendor's filler: no volume and one price (Yahoo writes them on holidays)."""
    return bar.volume == 0 and bar.open == bar.high == bar.low == bar.close


def check_sessions(
    bars: Sequence[Bar], calendar: Calendar, timeframe: Timeframe
) -> tuple[list[Finding], Coverage]:
    """Missing sessions and minutes, out-of-session bars and non-trading days, over the
    IST days from the first bar to the last (`bars` sorted, one per timestamp)."""
    by_day: dict[date, list[Bar]] = {}
    for bar in bars:
        by_day.setdefault(ist_date(bar.ts), []).append(bar)
    findings: list[Finding] = []
    totals = [0, 0, 0, 0]  # expected, present, expected days, present days
    day = min(by_day, default=date.max)
    while day <= max(by_day, default=date.min):
        today, session = by_day.get(day, []), calendar.session_on(day)
        if session is None:
            findings += _non_trading(today)
        else:
            found, expected, present = _session_findings(session, today, timeframe)
            findings += found
            any_bar = any(_in_hours(b, session, timeframe) for b in today)
            for i, n in enumerate((expected, present, 1, int(any_bar))):
                totals[i] += n
        day += timedelta(days=1)
    unit = "minutes" if timeframe is Timeframe.MINUTE else "days"
    return findings, Coverage(unit, *totals)


def _non_trading(today: list[Bar]) -> list[Finding]:
    if not today:
        return []
    filler = all(map(is_placeholder, today))
    what = "placeholder bar(s)" if filler else "bar(s) with prices (a special session?)"
    message = f"{len(today)} {what} on {ist_date(today[0].ts)}, not a trading day"
    severity = Severity.INFO if filler else Severity.WARNING
    return [Finding(Kind.NON_TRADING_DAY, severity, today[0].ts, message, len(today))]


def _session_findings(
    session: SessionHours, today: list[Bar], timeframe: Timeframe
) -> tuple[list[Finding], int, int]:
    """Findings of one trading day, its expected and its present units of coverage."""
    if timeframe is Timeframe.DAY:
        if not today:
            message = f"no bar for trading day {ist_date(session.open_ns)}"
            return [Finding(Kind.MISSING_SESSION, Severity.WARNING, session.open_ns, message)], 1, 0
        return [], 1, int(not all(map(is_placeholder, today)))
    minutes = (session.close_ns - session.open_ns) // NS_PER_MINUTE
    findings = [
        Finding(Kind.OUT_OF_SESSION, Severity.INFO, b.ts, f"{when(b.ts)} is outside the session")
        for b in today
        if not _in_hours(b, session, timeframe)
    ]
    inside = [b for b in today if _in_hours(b, session, timeframe)]
    if not inside:
        message = f"no bar in the session of {ist_date(session.open_ns)} ({minutes} minutes)"
        findings.append(Finding(Kind.MISSING_SESSION, Severity.WARNING, session.open_ns, message))
        return findings, minutes, 0
    slots = {(b.ts - session.open_ns) // NS_PER_MINUTE for b in inside}
    real = {(b.ts - session.open_ns) // NS_PER_MINUTE for b in inside if not is_placeholder(b)}
    findings += _missing_runs(session.open_ns, minutes, slots)
    return findings, minutes, len(real)


def _missing_runs(open_ns: int, minutes: int, slots: set[int]) -> list[Finding]:
    findings, start = [], None
    for slot in range(minutes + 1):
        if slot < minutes and slot not in slots:
            start = slot if start is None else start
        elif start is not None:
            ts, n = open_ns + start * NS_PER_MINUTE, slot - start
            message = f"{n} minute(s) missing from {when(ts)}"
            findings.append(Finding(Kind.MISSING_MINUTES, Severity.WARNING, ts, message, n))
            start = None
    return findings


def _in_hours(bar: Bar, session: SessionHours, timeframe: Timeframe) -> bool:
    return timeframe is Timeframe.DAY or session.open_ns <= bar.ts < session.close_ns


def _in_session(bar: Bar, calendar: Calendar, timeframe: Timeframe) -> bool:
    session = calendar.session_on(ist_date(bar.ts))
    return session is not None and _in_hours(bar, session, timeframe)


def check_placeholders(
    bars: Iterable[Bar], calendar: Calendar, timeframe: Timeframe
) -> list[Finding]:
    """Placeholder bars inside a session: prices that never traded, passed off as a bar."""
    return [
        Finding(Kind.PLACEHOLDER_BAR, Severity.WARNING, b.ts, f"{_at(b)}: volume 0, O=H=L=C")
        for b in bars
        if is_placeholder(b) and _in_session(b, calendar, timeframe)
    ]


def robust_z(values: npt.NDArray[np.float64]) -> npt.NDArray[np.float64] | None:
    """(x - median) / (1.4826 MAD); the mean absolute deviation stands in when over half
    the values are equal (MAD 0); None when all are."""
    scale = _center_sigma(values)
    return None if scale is None else (values - scale[0]) / scale[1]


def _center_sigma(values: npt.NDArray[np.float64]) -> tuple[float, float] | None:
    center = float(np.median(values))
    spread = np.abs(values - center)
    sigma = float(np.median(spread)) * MAD_TO_SIGMA or float(np.mean(spread)) * MEAN_AD_TO_SIGMA
    return (center, sigma) if sigma > 0 else None


def check_outliers(
    bars: Sequence[Bar], timeframe: Timeframe, config: CheckConfig
) -> tuple[list[Finding], int]:
    """Robust z of close-to-close log returns of consecutive (consistent, in-session) bars.
    For 1-minute data each session's first open against the previous session's close is
    scored apart: on the intraday median and sigma, against `gap_z_threshold`. A spike and
    its snap-back are one finding. Returns the findings and how many returns were scored."""
    returns, gap = _returns(bars, timeframe)
    intraday = returns[~gap]
    scale = _center_sigma(intraday) if intraday.size >= config.min_returns else None
    if scale is None:
        return [], 0
    scores = (returns - scale[0]) / scale[1]
    limits = np.where(gap, config.gap_z_threshold, config.z_threshold)
    findings: list[Finding] = []
    previous = -2
    for i in map(int, np.flatnonzero(np.abs(scores) > limits)):
        if i == previous + 1 and np.sign(scores[i]) != np.sign(scores[previous]):
            previous = -2  # the snap-back of the spike just reported
            continue
        findings.append(_outlier(bars[i], bars[i + 1], float(scores[i]), bool(gap[i])))
        previous = i
    return findings, int(returns.size)


def _returns(
    bars: Sequence[Bar], timeframe: Timeframe
) -> tuple[npt.NDArray[np.float64], npt.NDArray[np.bool_]]:
    """Log returns into bars 1..n-1, and which of them are overnight gaps (1m only)."""
    if len(bars) < 2:
        return np.empty(0), np.zeros(0, dtype=bool)
    closes = np.array([float(b.close) for b in bars], dtype=np.float64)
    returns = np.diff(np.log(closes))
    gap = np.zeros(returns.size, dtype=bool)
    if timeframe is Timeframe.MINUTE:
        days = (np.array([b.ts for b in bars], dtype=np.int64) + IST_OFFSET_NS) // NS_PER_DAY
        gap = days[1:] != days[:-1]
        opens = np.array([float(b.open) for b in bars[1:]], dtype=np.float64)
        returns[gap] = np.log(opens[gap] / closes[:-1][gap])
    return returns, gap


def _outlier(before: Bar, bar: Bar, z: float, gap: bool) -> Finding:
    if gap:
        move = f"opens at {bar.open} after the previous session's close {before.close}"
        message = f"{_at(bar)} {move}: {z:+.1f} intraday sigmas"
        return Finding(Kind.GAP_OUTLIER, Severity.WARNING, bar.ts, message, value=z)
    message = f"{_at(bar)} close {bar.close} after {before.close}: robust z {z:+.1f}"
    return Finding(Kind.OUTLIER, Severity.WARNING, bar.ts, message, value=z)


def check_corporate_actions(days: Sequence[Bar], config: CheckConfig) -> list[Finding]:
    """A session opening at a split/bonus factor of the previous close (within the
    tolerance) and staying at the new level for `reversion_sessions` closes: unadjusted
    history. A bad print that reverts is left to the outlier check."""
    findings = []
    for t in range(1, len(days)):
        ratio = float(days[t].open / days[t - 1].close)
        match = _nearest_action(ratio, config.ratio_tolerance)
        if match is None or _reverted(days, t, match[0], config.reversion_sessions):
            continue
        day = ist_date(days[t].ts)
        known = day in config.known_actions
        message = (
            f"{day} opens at {ratio:.4f} x the previous close: {match[1]} (x{match[0]:.4g}), "
            f"not reverted{' (a known action)' if known else ''}"
        )
        severity = Severity.INFO if known else Severity.CRITICAL
        findings.append(
            Finding(Kind.POSSIBLE_CORPORATE_ACTION, severity, days[t].ts, message, value=match[0])
        )
    return findings


def _nearest_action(ratio: float, tolerance: float) -> tuple[float, str] | None:
    close = [(abs(ratio / f - 1), f, name) for f, name in CORPORATE_RATIOS]
    distance, factor, name = min(close)
    return (factor, name) if distance <= tolerance else None


def _reverted(days: Sequence[Bar], t: int, factor: float, sessions: int) -> bool:
    """The jump undoes a recent one (the open is back near a close of the sessions before)
    or is itself undone (a close of the next sessions goes back over half-way): a bad
    print, in log terms, not an action."""
    step = abs(math.log(factor)) / 2
    before = days[max(t - 1 - sessions, 0) : t - 1]
    after = days[t : t + 1 + sessions]
    return any(abs(math.log(float(days[t].open / day.close))) < step for day in before) or any(
        abs(math.log(float(day.close / days[t - 1].close) / factor)) >= step for day in after
    )


def _daily(bars: Sequence[Bar]) -> list[Bar]:
    """Per session of sorted minute bars, the first bar with the last bar's close: the
    open and close the corporate-action check compares (nothing else reads them)."""
    first: dict[int, Bar] = {}
    last: dict[int, Bar] = {}
    for bar in bars:
        day = (bar.ts + IST_OFFSET_NS) // NS_PER_DAY
        first.setdefault(day, bar)
        last[day] = bar
    return [bar._replace(close=last[day].close) for day, bar in first.items()]
