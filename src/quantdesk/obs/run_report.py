"""The HTML page of `quantdesk report`: one self-contained file, no scripts."""

from __future__ import annotations

import html
from collections.abc import Iterable, Mapping
from decimal import Decimal
from pathlib import Path
from typing import Any

import numpy as np

from quantdesk.backtest.report import equity_charts
from quantdesk.storage.analytics import RunAnalytics


def _cell(value: Any) -> str:
    if value is None:
        return "&ndash;"
    if isinstance(value, float):
        return f"{value:,.2f}"
    if isinstance(value, Decimal):
        return f"{value:,.2f}"
    return html.escape(str(value))


def _table(rows: Iterable[Mapping[str, Any]], empty: str) -> str:
    rows = list(rows)
    if not rows:
        return f"<p>{html.escape(empty)}</p>"
    head = "".join(f"<th>{html.escape(k)}</th>" for k in rows[0])
    body = "".join(
        "<tr>" + "".join(f"<td>{_cell(v)}</td>" for v in row.values()) + "</tr>" for row in rows
    )
    return f"<table><tr>{head}</tr>{body}</table>"


STYLE = """body{font-family:sans-serif;margin:24px;max-width:1000px}
table{border-collapse:collapse;margin:8px 0 20px}
td,th{border:1px solid #ccc;padding:3px 8px;text-align:right}
th{background:#f3f3f3}svg{border:1px solid #ccc;background:#fff}"""


def render(analytics: RunAnalytics, title: str) -> str:
    equity = np.asarray([float(e) for _, e in analytics.equity], dtype=np.float64)
    kpis = [
        {"view": k.label, "trades": k.trades, "net_pnl": k.net_pnl,
         "win_rate_%": k.win_rate * 100, "avg_net_bps": k.avg_net_bps}
        for k in analytics.kpis
    ]  # fmt: skip
    sections = [
        ("KPIs, three ways", kpis, "no closed trades"),
        ("Daily summary", analytics.daily, "no closed trades"),
        ("Slippage by instrument (bps; positive = worse than asked)", analytics.slippage, "-"),
        ("Decision latency, signal to order sent (ms)", [analytics.latency], "-"),
        ("Rejections by reason", analytics.rejections, "no rejections"),
        ("Signal sources (counterfactual: the desk without each)", analytics.sources, "-"),
    ]
    body = "\n".join(
        f"<h2>{html.escape(name)}</h2>{_table([r for r in rows if r], empty)}"
        for name, rows, empty in sections
    )
    return (
        f'<!doctype html><html><head><meta charset="utf-8"><title>{html.escape(title)}</title>'
        f"<style>{STYLE}</style></head><body><h1>{html.escape(title)}</h1>\n{body}\n"
        f"{equity_charts(equity)}\n</body></html>"
    )


def write_report(path: Path, analytics: RunAnalytics, title: str) -> None:
    path.write_text(render(analytics, title), encoding="utf-8")
