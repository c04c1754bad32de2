"""`quantdesk universe import|list`: the instruments the desk may trade."""

from __future__ import annotations

from pathlib import Path
from typing import Annotated

import typer
from rich.table import Table

from quantdesk.commands.common import console, fail, settings
from quantdesk.domain.enums import CapTier
from quantdesk.storage import migrate
from quantdesk.storage.db import make_engine
from quantdesk.storage.universe import UniverseError, UniverseStore

app = typer.Typer(help="Trading universe (instruments, sectors, cap tiers)", no_args_is_help=True)


def _store() -> UniverseStore:
    engine = make_engine(settings().database_url)
    migrate.upgrade(engine)
    return UniverseStore(engine)


@app.command("import")
def import_file(
    file: Annotated[Path, typer.Argument(help="our CSV or an NSE index constituents CSV")],
    venue: Annotated[str, typer.Option(help="venue of the rows without one")] = "NSE",
    cap_tier: Annotated[CapTier | None, typer.Option(help="tier of an NSE index list")] = None,
) -> None:
    """Add or update instruments; bad rows are skipped and listed with their line."""
    if not file.is_file():
        raise fail(f"{file} does not exist")
    try:
        result = _store().import_csv(file.read_text(encoding="utf-8"), venue, cap_tier)
    except UniverseError as exc:
        raise fail(f"{file}: {exc}") from None
    console.print(f"{file}: {result.added} added, {result.updated} updated")
    for problem in result.skipped:
        console.print(f"  [yellow]skipped[/] {problem}")


@app.command("list")
def list_universe(
    venue: Annotated[str | None, typer.Option()] = None,
    sector: Annotated[str | None, typer.Option()] = None,
    cap_tier: Annotated[CapTier | None, typer.Option()] = None,
) -> None:
    """The universe as a table."""
    table = Table("venue", "symbol", "token", "tick", "lot", "tier", "sector")
    for i in _store().list(venue, sector, cap_tier.value if cap_tier else None):
        tier = i.cap_tier.value if i.cap_tier else ""
        table.add_row(i.venue, i.symbol, i.token, str(i.tick_size), str(i.lot_size), tier,
                      i.sector or "")  # fmt: skip
    console.print(table)
