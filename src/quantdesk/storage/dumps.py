"""How each database kind is snapshotted and brought back, for `storage.backup`.

SQLite: the online backup API (one read snapshot; a WAL writer is neither blocked nor
half-copied). PostgreSQL: `pg_dump`/`pg_restore` with the password only in `PGPASSWORD`
and scrubbed from their error output.
"""

from __future__ import annotations

import os
import re
import shutil
import sqlite3
import subprocess
from contextlib import closing
from pathlib import Path

from sqlalchemy.engine import URL, make_url


class BackupError(Exception):
    """A backup or restore that could not be done."""


class Refused(BackupError):
    """A precondition the operator can change: a non-empty target, data in the way."""


class ChecksumMismatch(BackupError):
    """A backup file is missing or differs from the manifest; nothing was restored."""


def pg_schema(database_url: str) -> str | None:
    """The schema named by the URL's `options=-csearch_path=...`, if any."""
    options = make_url(database_url).query.get("options") or ""
    text = " ".join(options) if isinstance(options, tuple) else options
    found = re.search(r"search_path\s*=\s*([^\s,]+)", text)
    return found.group(1).strip('"') if found else None


def pg_invocation(tool: str, database_url: str) -> tuple[list[str], dict[str, str]]:
    """argv and environment for a PostgreSQL client tool: connection from the URL, the
    password only in the environment (`PGPASSWORD`), never prompting."""
    executable = shutil.which(tool)
    if executable is None:
        raise BackupError(
            f"{tool} is not on PATH: install the PostgreSQL client tools "
            "(Debian: apt-get install postgresql-client) in the server's major version"
        )
    url = make_url(database_url)
    argv = [executable, "--no-password"]
    for flag, value in (("--host", url.host), ("--port", url.port), ("--username", url.username)):
        if value:
            argv += [flag, str(value)]
    argv += ["--dbname", str(url.database)]
    env = dict(os.environ)
    if url.password:
        env["PGPASSWORD"] = str(url.password)
    sslmode = url.query.get("sslmode")
    if isinstance(sslmode, str):
        env["PGSSLMODE"] = sslmode
    return argv, env


def safe_url(url: URL) -> str:
    return url.render_as_string(hide_password=True)


def sqlite_path(url: URL) -> Path:
    if not url.database or url.database == ":memory:":
        raise Refused("an in-memory SQLite database has nothing to back up or restore into")
    return Path(url.database)


def sqlite_files(url: URL) -> set[Path]:
    """The database and its journal files: never copied raw from a folder."""
    path = sqlite_path(url).resolve()
    return {path, *(path.with_name(path.name + s) for s in ("-wal", "-shm", "-journal"))}


def sqlite_backup(url: URL, out: Path) -> str | None:
    path = sqlite_path(url)
    if not path.is_file():
        raise BackupError(f"no SQLite database at {path}")
    with (
        closing(sqlite3.connect(path, timeout=30)) as source,
        closing(sqlite3.connect(out)) as copy,
    ):
        source.backup(copy)  # pages=-1: one step, one read snapshot
        copy.execute("PRAGMA journal_mode=DELETE")  # one self-contained file
        status = copy.execute("PRAGMA quick_check").fetchone()[0]
        if status != "ok":
            raise BackupError(f"the copy of {path} fails SQLite's quick_check: {status}")
        revision = sqlite_revision(copy)
    fsync(out)
    return revision


def sqlite_revision(connection: sqlite3.Connection) -> str | None:
    try:
        row = connection.execute("SELECT version_num FROM alembic_version").fetchone()
    except sqlite3.OperationalError:  # never migrated: no alembic_version table
        return None
    return str(row[0]) if row else None


def sqlite_restore(backup_file: Path, path: Path) -> None:
    path.parent.mkdir(parents=True, exist_ok=True)
    uri = f"{backup_file.resolve().as_uri()}?mode=ro"
    with (
        closing(sqlite3.connect(uri, uri=True)) as source,
        closing(sqlite3.connect(path, timeout=30)) as target,
    ):
        source.backup(target)  # page by page through the target's pager: atomic for it


def run_pg(tool: str, database_url: str, extra: list[str]) -> None:
    argv, env = pg_invocation(tool, database_url)
    done = subprocess.run(  # noqa: S603 - a resolved client tool, argv list, no shell
        [*argv, *extra], env=env, capture_output=True, text=True, check=False
    )
    if done.returncode != 0:
        url = make_url(database_url)
        message = done.stderr.strip()[-2000:]
        if url.password:
            message = message.replace(str(url.password), "***")
        raise BackupError(f"{tool} failed (exit {done.returncode}) on {safe_url(url)}: {message}")


def fsync(path: Path) -> None:
    fd = os.open(path, os.O_RDONLY)
    try:
        os.fsync(fd)
    finally:
        os.close(fd)
