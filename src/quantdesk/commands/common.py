"""What every command shares: settings loading with clear errors, consoles."""

from __future__ import annotations

import logging
import sys

import typer
from rich.console import Console

from quantdesk.config import ConfigError, Settings, load_settings
from quantdesk.obs.logging import configure_logging

console = Console()
err = Console(stderr=True)


def settings() -> Settings:
    """The validated settings, and logging configured from them (JSON lines unless a person
    is watching the terminal, or as `QD_LOG__FORMAT` says)."""
    try:
        loaded = load_settings()
    except ConfigError as exc:
        err.print(f"[bold red]{exc}[/]")
        raise typer.Exit(2) from None
    fmt = loaded.log.format
    as_json = fmt == "json" or (fmt == "auto" and not sys.stderr.isatty())
    configure_logging(json=as_json, level=loaded.log.level)
    logging.getLogger("alembic").setLevel(logging.WARNING)  # one line per migration step
    return loaded


def fail(message: str, code: int = 2) -> typer.Exit:
    err.print(f"[bold red]error:[/] {message}")
    return typer.Exit(code)
