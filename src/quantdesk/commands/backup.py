"""`quantdesk backup` / `quantdesk restore`: a consistent snapshot of the database and the
run and stream folders, and bringing it back (see `storage/backup.py`)."""

from __future__ import annotations

import time
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from pathlib import Path
from typing import Annotated

import typer
from rich.progress import (
    BarColumn,
    DownloadColumn,
    Progress,
    TextColumn,
    TimeRemainingColumn,
    TransferSpeedColumn,
)
from rich.table import Table

from quantdesk.commands.common import console, fail, settings
from quantdesk.storage import migrate
from quantdesk.storage.backup import (
    DEFAULT_FOLDERS,
    BackupError,
    Manifest,
    Refused,
    backup,
    estimate_bytes,
    restore,
)
from quantdesk.storage.db import make_engine

LARGE = 32 * 1024 * 1024  # a progress bar only for copies worth watching


def backup_command(
    target: Annotated[Path, typer.Argument(help="new or empty directory to write the backup to")],
    folder: Annotated[
        list[Path] | None,
        typer.Option(
            "--folder",
            metavar="DIR",
            help="folder to include, repeatable (default: var/runs and var/streams)",
        ),
    ] = None,
) -> None:
    """Write a consistent snapshot of the database and the run/stream folders to TARGET."""
    url = settings().database_url
    folders = folder or list(DEFAULT_FOLDERS)
    started = time.perf_counter()
    try:
        with _progress("backing up", estimate_bytes(url, folders)) as advance:
            manifest = backup(url, target, folders, progress=advance)
    except BackupError as exc:
        raise _failure(exc) from None
    _summary(f"backup written to {target}", manifest, time.perf_counter() - started)


def restore_command(
    source: Annotated[Path, typer.Argument(help="a directory written by `quantdesk backup`")],
    force: Annotated[
        bool, typer.Option("--force", help="overwrite a database or folders that hold data")
    ] = False,
    root: Annotated[
        Path, typer.Option(help="where the folders go back (default: the working directory)")
    ] = Path("."),
) -> None:
    """Verify a backup's checksums, then restore its database and folders."""
    url = settings().database_url
    started = time.perf_counter()
    try:
        size = Manifest.read(source).total_bytes
        with _progress("restoring", 2 * size) as advance:  # verify, then copy
            manifest = restore(source, url, root, force=force, progress=advance)
    except BackupError as exc:
        raise _failure(exc) from None
    _summary(f"restored {source}", manifest, time.perf_counter() - started)
    engine = make_engine(url)
    head = migrate.head_revision(engine)
    engine.dispose()
    if manifest.alembic_revision != head:
        console.print(
            f"[yellow]the database is at {manifest.alembic_revision or 'base'}, this "
            f"quantdesk expects {head}: run `quantdesk db upgrade`[/]"
        )


def _failure(exc: BackupError) -> typer.Exit:
    # 2: a refusal the operator can resolve (target, --force); 1: a damaged backup or a tool
    return fail(str(exc), code=2 if isinstance(exc, Refused) else 1)


@contextmanager
def _progress(label: str, total: int) -> Iterator[Callable[[int], None]]:
    bar = Progress(
        TextColumn(label),
        BarColumn(),
        DownloadColumn(),
        TransferSpeedColumn(),
        TimeRemainingColumn(),
        console=console,
        transient=True,
        disable=total < LARGE,
    )
    with bar:
        task = bar.add_task(label, total=total)
        yield lambda n: bar.advance(task, n)


def _summary(title: str, manifest: Manifest, seconds: float) -> None:
    table = Table(title=title, show_header=False)
    table.add_column("what")
    table.add_column("value")
    database = manifest.database_kind + (f" (schema {manifest.schema})" if manifest.schema else "")
    table.add_row("database", database)
    table.add_row("alembic revision", manifest.alembic_revision or "base")
    table.add_row("folders", ", ".join(manifest.folders) or "(none found)")
    table.add_row("files", f"{len(manifest.files):,}")
    table.add_row("bytes", f"{manifest.total_bytes:,} ({_human(manifest.total_bytes)})")
    table.add_row("taken at (UTC)", manifest.created_at)
    table.add_row("time", f"{seconds:.2f} s")
    console.print(table)


def _human(size: int) -> str:
    value = float(size)
    for unit in ("B", "KiB", "MiB", "GiB"):
        if value < 1024:
            return f"{value:.1f} {unit}"
        value /= 1024
    return f"{value:.1f} TiB"
