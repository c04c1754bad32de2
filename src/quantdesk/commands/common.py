"""What every command shares: settings loading with clear errors, consoles."""

from __future__ import annotations

import typer
from rich.console import Console

from quantdesk.config import ConfigError, Settings, load_settings

console = Console()
err = Console(stderr=True)


def settings() -> Settings:
    try:
        return load_settings()
    except ConfigError as exc:
        err.print(f"[bold red]{exc}[/]")
        raise typer.Exit(2) from None


def fail(message: str, code: int = 2) -> typer.Exit:
    err.print(f"[bold red]error:[/] {message}")
    return typer.Exit(code)
