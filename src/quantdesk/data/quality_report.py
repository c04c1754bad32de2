"""A symbol's data-quality report and its quarantine flag.

`build_report` runs `data.checks` over a symbol's bars and decides, by `QuarantineRule`,
whether the data may feed training and trading at all. Quarantined data is kept out, not
repaired: a backtest on gappy or unadjusted history reports fantasy (DESIGN.md lessons).

The rule (all thresholds explicit in `QuarantineRule`): quarantined when
* there is no bar at all, or no trading day in the span of the bars;
* coverage < 95% of the expected session minutes (1m) or trading days (1d);
* any CRITICAL finding: a conflicting duplicate, a bar out of order, an OHLC violation,
  or a possible corporate action not listed in `CheckConfig.known_actions`;
* outlier bars (OUTLIER + GAP_OUTLIER) > 0.5% of the returns scored.
Missing minutes and sessions count through the coverage. Identical duplicates, placeholder
bars, out-of-session bars and bars on non-trading days are reported but do not quarantine
by themselves (placeholders are not coverage).
"""

from __future__ import annotations

import csv
import gzip
from collections import Counter
from collections.abc import Iterable
from dataclasses import dataclass
from decimal import Decimal, InvalidOperation
from pathlib import Path
from typing import TYPE_CHECKING, Any

import pyarrow as pa  # type: ignore[import-untyped]
import pyarrow.csv as pacsv  # type: ignore[import-untyped]
import pyarrow.parquet as pq  # type: ignore[import-untyped]
from rich.console import Group
from rich.table import Table

from quantdesk.data.bars import COLUMNS, DataFileError, read_timestamps, symbol_of
from quantdesk.data.checks import (
    CheckConfig,
    CheckResult,
    Coverage,
    Finding,
    Kind,
    Timeframe,
    run_checks,
    when,
)
from quantdesk.domain.enums import Severity
from quantdesk.domain.market import Bar
from quantdesk.domain.time import IST, NS_PER_DAY, NS_PER_MINUTE, to_datetime

if TYPE_CHECKING:
    from quantdesk.risk.calendar import TradingCalendar

OUTLIER_KINDS = frozenset({Kind.OUTLIER, Kind.GAP_OUTLIER})
_RANK = {Severity.CRITICAL: 0, Severity.WARNING: 1, Severity.INFO: 2}
_STYLE = {Severity.CRITICAL: "bold red", Severity.WARNING: "yellow", Severity.INFO: "dim"}


@dataclass(frozen=True, slots=True)
class QuarantineRule:
    """When a symbol's data is kept out of training and trading (see the module doc)."""

    min_coverage: float = 0.95
    max_outlier_fraction: float = 0.005

    def reasons(self, result: CheckResult) -> list[str]:
        """Why `result` quarantines its symbol; empty when it does not."""
        if not result.bars:
            return ["no bars"]
        coverage = result.coverage
        if not coverage.expected:
            return ["no NSE trading day in the span of the bars"]
        reasons = []
        if coverage.fraction < self.min_coverage:
            reasons.append(
                f"coverage {coverage.fraction:.2%} of session {coverage.unit} "
                f"< {self.min_coverage:.0%}"
            )
        critical = Counter(f.kind for f in result.findings if f.severity is Severity.CRITICAL)
        reasons += [f"{n} {kind}" for kind, n in sorted(critical.items())]
        outliers = sum(f.kind in OUTLIER_KINDS for f in result.findings)
        fraction = outliers / result.returns if result.returns else 0.0
        if fraction > self.max_outlier_fraction:
            reasons.append(
                f"outliers {outliers}/{result.returns} returns ({fraction:.2%}) "
                f"> {self.max_outlier_fraction:.1%}"
            )
        return reasons


@dataclass(frozen=True, slots=True)
class QualityReport:
    symbol: str
    timeframe: Timeframe
    bars: int
    first_ts: int | None
    last_ts: int | None
    coverage: Coverage
    counts: dict[Kind, int]  # bars, minutes or sessions concerned, per kind
    findings: int  # how many; `worst` holds the most severe first (all, or the first few)
    worst: tuple[Finding, ...]
    outlier_fraction: float
    quarantined: bool
    reasons: tuple[str, ...]

    def to_dict(self) -> dict[str, Any]:
        """Plain JSON types only: times as ISO-8601 IST (and findings' epoch ns too)."""
        return {
            "symbol": self.symbol,
            "timeframe": self.timeframe.value,
            "bars": self.bars,
            "first": None if self.first_ts is None else _iso(self.first_ts),
            "last": None if self.last_ts is None else _iso(self.last_ts),
            "coverage": {
                "unit": self.coverage.unit,
                "expected": self.coverage.expected,
                "present": self.coverage.present,
                "fraction": round(self.coverage.fraction, 6),
                "expected_days": self.coverage.expected_days,
                "present_days": self.coverage.present_days,
            },
            "counts": {kind.value: n for kind, n in self.counts.items()},
            "findings": self.findings,
            "outlier_fraction": round(self.outlier_fraction, 6),
            "worst": [_finding_dict(f) for f in self.worst],
            "quarantined": self.quarantined,
            "reasons": list(self.reasons),
        }


def _iso(ts: int) -> str:
    return to_datetime(ts).astimezone(IST).isoformat()


def _finding_dict(finding: Finding) -> dict[str, Any]:
    return {
        "kind": finding.kind.value,
        "severity": finding.severity.value,
        "ts": finding.ts,
        "time": _iso(finding.ts),
        "count": finding.count,
        "value": finding.value,
        "message": finding.message,
    }


def build_report(
    symbol: str,
    bars: Iterable[Bar],
    calendar: TradingCalendar,
    timeframe: Timeframe = Timeframe.MINUTE,
    config: CheckConfig | None = None,
    rule: QuarantineRule | None = None,
    worst: int | None = 10,
) -> QualityReport:
    """Check a symbol's bars and judge them: the report and its quarantine flag. `worst`
    findings are kept, the most severe first (None: all of them)."""
    given = list(bars)
    result = run_checks(given, calendar, timeframe, config)
    reasons = (rule or QuarantineRule()).reasons(result)
    counts: Counter[Kind] = Counter()
    for finding in result.findings:
        counts[finding.kind] += finding.count
    ranked = sorted(result.findings, key=lambda f: (_RANK[f.severity], -f.count, f.ts))
    outliers = sum(f.kind in OUTLIER_KINDS for f in result.findings)
    stamps = [b.ts for b in given]
    return QualityReport(
        symbol=symbol,
        timeframe=timeframe,
        bars=len(given),
        first_ts=min(stamps, default=None),
        last_ts=max(stamps, default=None),
        coverage=result.coverage,
        counts=dict(sorted(counts.items())),
        findings=len(result.findings),
        worst=tuple(ranked[:worst]),
        outlier_fraction=outliers / result.returns if result.returns else 0.0,
        quarantined=bool(reasons),
        reasons=tuple(reasons),
    )


def render_report(report: QualityReport) -> Group:
    """Rich tables: the summary with the verdict, then the worst findings."""
    verdict = "[bold red]QUARANTINED[/]" if report.quarantined else "[green]ok[/]"
    summary = Table(title=f"{report.symbol} ({report.timeframe.value}): {verdict}")
    summary.add_column("measure")
    summary.add_column("value")
    first, last, daily = report.first_ts, report.last_ts, report.timeframe is Timeframe.DAY
    span = "-"
    if first is not None and last is not None:
        span = f"{when(first, daily)} .. {when(last, daily)}"
    cover = report.coverage
    summary.add_row("bars", f"{report.bars:,}  ({span})")
    summary.add_row(
        "coverage",
        f"{cover.fraction:.2%} ({cover.present:,}/{cover.expected:,} {cover.unit}; "
        f"{cover.present_days}/{cover.expected_days} sessions with bars)",
    )
    summary.add_row("outliers", f"{report.outlier_fraction:.3%} of returns")
    for kind, n in report.counts.items():
        summary.add_row(kind.value, f"{n:,}")
    for reason in report.reasons:
        summary.add_row("[bold red]quarantine[/]", reason)
    findings = Table(title=f"worst {len(report.worst)} of {report.findings} findings")
    for column in ("severity", "kind", "time (IST)", "count", "message"):
        findings.add_column(column)
    for f in report.worst:
        style = _STYLE[f.severity]
        row = (f.severity.value, f.kind.value, when(f.ts, daily), str(f.count), f.message)
        findings.add_row(*row, style=style)
    return Group(summary, findings) if report.worst else Group(summary)


# -- reading a file as it is -----------------------------------------------------------
def read_unchecked(path: Path | str, timeframe: Timeframe = Timeframe.MINUTE) -> list[Bar]:
    """Every row of a bar file in file order, in the loader's format and time rules.

    `bars.iter_bars` refuses duplicate, out-of-order and inconsistent rows; here they are
    kept, because finding them is the point. Rows that are not bars at all (a missing or
    non-numeric value, an unreadable time) still raise DataFileError."""
    path = Path(path)
    stamps = read_timestamps(path).tolist()
    columns = _value_columns(path)
    duration = NS_PER_DAY if timeframe is Timeframe.DAY else NS_PER_MINUTE
    symbol = symbol_of(path)
    values = [_decimals(path, n, raw) for n, raw in zip(COLUMNS[1:], columns, strict=True)]
    return [
        Bar(symbol, ts, o, h, low, c, v, duration)
        for ts, o, h, low, c, v in zip(stamps, *values, strict=True)
    ]


def _is_parquet(path: Path) -> bool:
    return path.suffix.lower() in (".parquet", ".pq")


def _value_columns(path: Path) -> list[list[Any]]:
    """open..volume as Python values (CSV text, Parquet numbers), found case-insensitively."""
    parquet = _is_parquet(path)
    names = pq.ParquetFile(path).schema_arrow.names if parquet else _csv_header(path)
    lower = {str(n).strip().lower(): str(n) for n in names}
    wanted = [lower[c] for c in COLUMNS[1:]]  # read_timestamps has checked the columns
    if parquet:
        table = pq.read_table(path, columns=wanted)
    else:
        options = pacsv.ConvertOptions(
            column_types={n: pa.string() for n in wanted}, include_columns=wanted
        )
        table = pacsv.read_csv(path, convert_options=options)
    return [table.column(n).to_pylist() for n in wanted]


def _csv_header(path: Path) -> list[str]:
    opener = gzip.open if path.suffix.lower() == ".gz" else open
    with opener(path, "rt") as handle:
        return next(csv.reader([handle.readline().lstrip("\ufeff")]))


def _decimals(path: Path, name: str, raw: list[Any]) -> list[Decimal]:
    out = []
    for row, value in enumerate(raw):
        try:
            number = Decimal(repr(value)) if isinstance(value, float) else Decimal(value)
        except (InvalidOperation, TypeError, ValueError):
            number = Decimal("NaN")
        if not number.is_finite():
            where = (row + 1, "row") if _is_parquet(path) else (row + 2, "line")
            raise DataFileError(path, where[0], f"{name} is not a number: {value!r}", where[1])
        out.append(number)
    return out
