"""The `quantdesk` command."""

from __future__ import annotations

import json
from typing import Annotated

import typer
from rich.table import Table

from quantdesk.commands import (
    backtest,
    backup,
    data,
    paper,
    quality,
    replay,
    report,
    slippage,
    universe,
)
from quantdesk.commands.common import console, settings
from quantdesk.storage import migrate
from quantdesk.storage.db import make_engine
from quantdesk.storage.queries import audit_tail

app = typer.Typer(
    help="quantdesk: autonomous trading desk", no_args_is_help=True, pretty_exceptions_enable=False
)
db_app = typer.Typer(help="Database migrations", no_args_is_help=True)
config_app = typer.Typer(help="Configuration", no_args_is_help=True)
audit_app = typer.Typer(help="Audit log", no_args_is_help=True)
app.add_typer(db_app, name="db")
app.add_typer(config_app, name="config")
app.add_typer(audit_app, name="audit")
app.add_typer(data.app, name="data")
app.add_typer(slippage.app, name="slippage")
app.add_typer(universe.app, name="universe")
app.command("backtest")(backtest.backtest)
app.command("paper")(paper.paper)
app.command("replay")(replay.replay_cmd)
app.command("report")(report.report)
app.command("quality")(quality.quality_command)
app.command("backup")(backup.backup_command)
app.command("restore")(backup.restore_command)


@db_app.command("upgrade")
def db_upgrade(revision: Annotated[str, typer.Argument()] = "head") -> None:
    """Migrate the database up (default: to the latest revision)."""
    engine = make_engine(settings().database_url)
    migrate.upgrade(engine, revision)
    console.print(f"database at [bold]{migrate.current_revision(engine)}[/]")


@db_app.command("downgrade")
def db_downgrade(revision: Annotated[str, typer.Argument()] = "-1") -> None:
    """Migrate the database down (default: one revision)."""
    engine = make_engine(settings().database_url)
    migrate.downgrade(engine, revision)
    console.print(f"database at [bold]{migrate.current_revision(engine) or 'base'}[/]")


@db_app.command("current")
def db_current() -> None:
    """Show the database revision and the latest one."""
    engine = make_engine(settings().database_url)
    current, head = migrate.current_revision(engine), migrate.head_revision(engine)
    state = "[green]up to date[/]" if current == head else "[yellow]behind[/]"
    console.print(f"current={current or 'base'} head={head} {state}")


@app.command()
def doctor() -> None:
    """Check configuration, database and services; exit 1 when a required check fails."""
    from quantdesk.doctor import run_checks

    table = Table(title="quantdesk doctor")
    for column in ("check", "status", "detail"):
        table.add_column(column)
    checks = run_checks(settings())
    for check in checks:
        status = (
            "[green]ok[/]"
            if check.ok
            else ("[red]FAIL[/]" if check.required else "[yellow]warn[/]")
        )
        table.add_row(check.name, status, check.detail)
    console.print(table)
    if not all(c.ok for c in checks if c.required):
        raise typer.Exit(1)


@config_app.command("show")
def config_show(as_json: Annotated[bool, typer.Option("--json")] = False) -> None:
    """Print the effective configuration (secrets masked) and its SHA."""
    current = settings()
    view = current.display_view()
    if as_json:
        console.print_json(json.dumps({"config": view, "config_sha": current.config_sha}))
        return
    table = Table(title="configuration")
    table.add_column("setting")
    table.add_column("value")
    for key, value in _flatten(view):
        table.add_row(key, str(value))
    console.print(table)
    console.print(f"config_sha [bold]{current.config_sha}[/]")


def _flatten(view: dict[str, object], prefix: str = "QD_") -> list[tuple[str, object]]:
    rows: list[tuple[str, object]] = []
    for key, value in view.items():
        name = f"{prefix}{key.upper()}"
        if isinstance(value, dict):
            rows.extend(_flatten(value, name + "__"))
        else:
            rows.append((name, value))
    return rows


@audit_app.command("tail")
def audit_tail_cmd(
    session: Annotated[str | None, typer.Option("--session", help="session id")] = None,
    limit: Annotated[int, typer.Option(min=1, max=10_000)] = 50,
    as_json: Annotated[bool, typer.Option("--json", help="one JSON object per line")] = False,
) -> None:
    """Show the latest audit log rows."""
    engine = make_engine(settings().database_url)
    rows = audit_tail(engine, session, limit)
    if as_json:
        for row in rows:
            print(
                json.dumps(
                    {
                        "id": row.id,
                        "ts": row.ts.isoformat(),
                        "session_id": row.session_id,
                        "config_sha": row.config_sha,
                        "correlation_id": row.correlation_id,
                        "actor": row.actor,
                        "action": row.action,
                        "entity": row.entity,
                        "entity_id": row.entity_id,
                        "payload": row.payload,
                    }
                )
            )
        return
    if not rows:
        console.print("no audit rows yet")
        return
    table = Table(title=f"audit log{' ' + session if session else ''}")
    for column in (
        "id",
        "ts (UTC)",
        "session",
        "actor",
        "action",
        "entity",
        "correlation",
        "payload",
    ):
        table.add_column(column, overflow="fold")
    for row in rows:
        table.add_row(
            str(row.id),
            row.ts.isoformat(timespec="seconds"),
            row.session_id,
            row.actor,
            row.action,
            f"{row.entity}#{row.entity_id}",
            row.correlation_id or "",
            json.dumps(row.payload, sort_keys=True),
        )
    console.print(table)


def main() -> None:
    app()
