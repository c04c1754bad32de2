"""`quantdesk replay RUN`: prove a recorded run reproduces, or compare two profiles."""

from __future__ import annotations

from pathlib import Path
from typing import Annotated

import typer
from rich.table import Table

from quantdesk.commands.common import console, fail, settings
from quantdesk.runners.replay import (
    ReplayError,
    ReplayResult,
    divergence,
    recorded_lines,
    replay,
)


def replay_cmd(
    run: Annotated[Path, typer.Argument(help="recorded run folder (var/runs/...)")],
    profile: Annotated[
        list[Path] | None, typer.Option(help="profile JSON (repeat for A/B)")
    ] = None,
) -> None:
    """Replay a run. Exit 0 when the decision/order log is identical, 1 at a divergence."""
    current = settings()
    profiles = profile or []
    if len(profiles) > 2:
        raise fail("at most two --profile options")
    try:
        if len(profiles) == 2:
            a, b = (replay(run, current, p) for p in profiles)
            _side_by_side(a, b)
            return
        result = replay(run, current, profiles[0] if profiles else None)
    except (ReplayError, FileNotFoundError) as exc:
        raise fail(str(exc)) from None
    _check(recorded_lines(run), result)


def _check(recorded: list[str], result: ReplayResult) -> None:
    found = divergence(recorded, result.lines)
    if found is None:
        console.print(
            f"[green]OK[/] {len(recorded)} decision/order lines identical; "
            f"sha256 {result.log_sha256}"
        )
        return
    index, was, now = found
    console.print(f"[red]DIVERGED[/] at line {index + 1} (profile {result.profile}):")
    console.print(f"  recorded: {was}")
    console.print(f"  replayed: {now}")
    raise typer.Exit(1)


def _side_by_side(a: ReplayResult, b: ReplayResult) -> None:
    table = Table(title="replay A/B")
    table.add_column("")
    table.add_column(a.profile)
    table.add_column(b.profile)
    table.add_row("trades", str(len(a.trades)), str(len(b.trades)))
    table.add_row("net P&L", f"{a.net_pnl:.2f}", f"{b.net_pnl:.2f}")
    table.add_row("log lines", str(len(a.lines)), str(len(b.lines)))
    table.add_row("log sha256", a.log_sha256[:16], b.log_sha256[:16])
    console.print(table)
    found = divergence(a.lines, b.lines)
    if found is None:
        console.print("identical decisions and orders")
    else:
        index, left, right = found
        console.print(
            f"first divergence at line {index + 1}:\n  {a.profile}: {left}\n  {b.profile}: {right}"
        )
