"""Backup and restore: one consistent snapshot of the database and the desk's folders.

A backup is a directory written once:

- `database.sqlite`, taken with SQLite's online backup API in a single step (one read
  snapshot, so a desk writing in WAL mode is neither blocked nor half-copied), or
  `database.pgdump` from `pg_dump --format=custom` (one schema when the URL's
  `options=-csearch_path=...` names one);
- `files/<folder>/...`: the run and stream folders, relative paths kept;
- `manifest.json`: format version, time, quantdesk version, database kind, Alembic
  revision, and the sha256 and size of every file.

It is built in a hidden sibling directory renamed at the end, so a crash never leaves
something that looks like a complete backup. Restore checks every checksum before it
touches anything, refuses to overwrite data unless forced, and checks the restored
Alembic revision. Passwords never reach a command line or a message: `pg_dump` and
`pg_restore` get theirs through `PGPASSWORD`.
"""

from __future__ import annotations

import hashlib
import json
import os
import shutil
import uuid
from collections.abc import Callable, Iterator, Sequence
from contextlib import contextmanager
from dataclasses import dataclass
from datetime import UTC, datetime
from pathlib import Path, PurePosixPath

from sqlalchemy import Engine, inspect, literal, select, table
from sqlalchemy.engine import URL, make_url
from sqlalchemy.exc import DBAPIError

from quantdesk import __version__
from quantdesk.storage import migrate
from quantdesk.storage.db import make_engine
from quantdesk.storage.dumps import (
    BackupError,
    ChecksumMismatch,
    Refused,
    fsync,
    pg_schema,
    run_pg,
    safe_url,
    sqlite_backup,
    sqlite_files,
    sqlite_path,
    sqlite_restore,
)

FORMAT = "quantdesk-backup"
FORMAT_VERSION = 1
MANIFEST = "manifest.json"
SQLITE_FILE = "database.sqlite"
PG_FILE = "database.pgdump"
FILES = "files"
DEFAULT_FOLDERS = (Path("var/runs"), Path("var/streams"))
_CHUNK = 1 << 20

Progress = Callable[[int], None]
"""Called with the number of bytes just copied or verified (drives a progress bar)."""


@dataclass(frozen=True, slots=True)
class FileEntry:
    path: str  # relative to the backup directory, POSIX separators
    sha256: str
    size: int


@dataclass(frozen=True, slots=True)
class Manifest:
    created_at: str  # UTC ISO 8601
    quantdesk_version: str
    database_kind: str  # "sqlite" or "postgresql"
    alembic_revision: str | None
    schema: str | None  # the PostgreSQL schema dumped alone, if the URL names one
    folders: tuple[str, ...]  # relative folder names that existed and were copied
    files: tuple[FileEntry, ...]
    format_version: int = FORMAT_VERSION

    @property
    def total_bytes(self) -> int:
        return sum(entry.size for entry in self.files)

    @property
    def database_file(self) -> str:
        return SQLITE_FILE if self.database_kind == "sqlite" else PG_FILE

    def to_json(self) -> str:
        return json.dumps(
            {
                "format": FORMAT,
                "format_version": self.format_version,
                "created_at": self.created_at,
                "quantdesk_version": self.quantdesk_version,
                "database": {
                    "kind": self.database_kind,
                    "alembic_revision": self.alembic_revision,
                    "schema": self.schema,
                },
                "folders": list(self.folders),
                "files": [
                    {"path": e.path, "sha256": e.sha256, "bytes": e.size} for e in self.files
                ],
            },
            indent=2,
        )

    @classmethod
    def read(cls, source: Path) -> Manifest:
        """The manifest of the backup in `source`; refuses anything else."""
        path = source / MANIFEST
        if not path.is_file():
            raise BackupError(f"{source} is not a quantdesk backup (no {MANIFEST})")
        try:
            raw = json.loads(path.read_text(encoding="utf-8"))
            if raw.get("format") != FORMAT or raw.get("format_version") != FORMAT_VERSION:
                raise BackupError(
                    f"{path}: unsupported backup format {raw.get('format')!r} "
                    f"version {raw.get('format_version')!r} (this quantdesk reads "
                    f"{FORMAT} version {FORMAT_VERSION})"
                )
            database = raw["database"]
            return cls(
                created_at=str(raw["created_at"]),
                quantdesk_version=str(raw["quantdesk_version"]),
                database_kind=str(database["kind"]),
                alembic_revision=database["alembic_revision"],
                schema=database["schema"],
                folders=tuple(_safe_relative(str(f)) for f in raw["folders"]),
                files=tuple(
                    FileEntry(_safe_relative(str(f["path"])), str(f["sha256"]), int(f["bytes"]))
                    for f in raw["files"]
                ),
            )
        except (ValueError, KeyError, TypeError, AttributeError) as exc:
            raise BackupError(f"{path} is not a valid backup manifest: {exc}") from None


def backup(
    database_url: str,
    target: Path,
    folders: Sequence[Path],
    *,
    root: Path | None = None,
    progress: Progress | None = None,
) -> Manifest:
    """Write a backup to `target` (new or empty); relative `folders` are under `root`
    (default: the working directory). Folders that do not exist are skipped."""
    url = _parse(database_url)
    base = (root or Path.cwd()).resolve()
    names = [_folder_name(base, folder) for folder in folders]
    _refuse_target(target, [base / name for name in names])
    target.parent.mkdir(parents=True, exist_ok=True)
    staging = target.parent / f".{target.name}.partial-{uuid.uuid4().hex[:12]}"
    staging.mkdir()
    try:
        kind = url.get_backend_name()
        if kind == "sqlite":
            revision, schema = sqlite_backup(url, staging / SQLITE_FILE), None
        else:
            revision, schema = _pg_backup(database_url, staging / PG_FILE)
        entries = [_entry(staging, SQLITE_FILE if kind == "sqlite" else PG_FILE)]
        if progress is not None:
            progress(entries[0].size)
        skip = sqlite_files(url) if kind == "sqlite" else set()
        copied = [name for name in names if (base / name).is_dir()]
        for name in copied:
            for file in _files_under(base / name, skip):
                rel = f"{FILES}/{name}/{file.relative_to(base / name).as_posix()}"
                sha, size = _copy(file, staging / rel, progress)
                entries.append(FileEntry(rel, sha, size))
        manifest = Manifest(
            created_at=datetime.now(UTC).isoformat(timespec="seconds"),
            quantdesk_version=__version__,
            database_kind=kind,
            alembic_revision=revision,
            schema=schema,
            folders=tuple(copied),
            files=tuple(entries),
        )
        _write_durably(staging / MANIFEST, manifest.to_json().encode())
        if target.exists():
            target.rmdir()  # empty, checked above
        staging.rename(target)
        fsync(target.parent)  # the rename itself survives a power cut
    except BaseException:
        shutil.rmtree(staging, ignore_errors=True)
        raise
    return manifest


def verify(source: Path, progress: Progress | None = None) -> Manifest:
    """Check every file of the backup against its manifest; raise on the first mismatch."""
    manifest = Manifest.read(source)
    if manifest.database_file not in {entry.path for entry in manifest.files}:
        raise ChecksumMismatch(f"{source}: the manifest lists no {manifest.database_file}")
    for entry in manifest.files:
        path = source / entry.path
        if not path.is_file():
            raise ChecksumMismatch(f"{path} is missing from the backup; nothing was restored")
        digest = hashlib.sha256()
        for chunk in _chunks(path):
            digest.update(chunk)
            if progress is not None:
                progress(len(chunk))
        if path.stat().st_size != entry.size or digest.hexdigest() != entry.sha256:
            raise ChecksumMismatch(
                f"{path} does not match the manifest (sha256 or size differs): the backup "
                "is damaged or was changed; nothing was restored"
            )
    return manifest


def restore(
    source: Path,
    database_url: str,
    folders_root: Path,
    *,
    force: bool,
    progress: Progress | None = None,
) -> Manifest:
    """Bring a backup back into `database_url` and under `folders_root`, after verifying
    it; refuses to overwrite a database or folder that holds data unless `force`."""
    url = _parse(database_url)
    manifest = Manifest.read(source)
    kind = url.get_backend_name()
    if manifest.database_kind != kind:
        raise Refused(
            f"{source} holds a {manifest.database_kind} database, {safe_url(url)} is {kind}"
        )
    if kind == "postgresql" and manifest.schema != pg_schema(database_url):
        raise Refused(
            f"{source} holds schema {manifest.schema or '(whole database)'}; the URL's "
            f"search_path names {pg_schema(database_url) or 'none'}: they must agree"
        )
    verify(source, progress)
    if not force:
        _refuse_data(database_url, url, [folders_root / name for name in manifest.folders])
    if kind == "sqlite":
        sqlite_restore(source / SQLITE_FILE, sqlite_path(url))
    else:
        run_pg(
            "pg_restore",
            database_url,
            ["--clean", "--if-exists", "--no-owner", "--single-transaction", str(source / PG_FILE)],
        )
    if progress is not None:
        progress(source.joinpath(manifest.database_file).stat().st_size)
    revision = _revision(database_url)
    if revision != manifest.alembic_revision:
        raise BackupError(
            f"restored database is at revision {revision or 'base'}, the backup says "
            f"{manifest.alembic_revision or 'base'}"
        )
    for entry in manifest.files:
        if entry.path.startswith(f"{FILES}/"):
            _copy(source / entry.path, folders_root / entry.path[len(FILES) + 1 :], progress)
    return manifest


def estimate_bytes(database_url: str, folders: Sequence[Path], root: Path | None = None) -> int:
    """Roughly what a backup will copy (the PostgreSQL dump is not known in advance)."""
    url = _parse(database_url)
    base = root or Path.cwd()
    total = 0
    if url.get_backend_name() == "sqlite":
        total += sum(p.stat().st_size for p in sqlite_files(url) if p.is_file())
    for folder in folders:
        path = folder if folder.is_absolute() else base / folder
        if path.is_dir():
            total += sum(file.stat().st_size for file in _files_under(path, set()))
    return total


def _parse(database_url: str) -> URL:
    url = make_url(database_url)
    if url.get_backend_name() not in ("sqlite", "postgresql"):
        raise Refused(f"cannot back up {safe_url(url)}: only SQLite and PostgreSQL are supported")
    return url


def _safe_relative(path: str) -> str:
    pure = PurePosixPath(path)
    if not path or pure.is_absolute() or "\\" in path or any(p in ("", "..") for p in pure.parts):
        raise ValueError(f"unsafe path {path!r}")
    return pure.as_posix()


def _folder_name(base: Path, folder: Path) -> str:
    path = (folder if folder.is_absolute() else base / folder).resolve()
    if path == base or not path.is_relative_to(base):
        raise Refused(f"folder {folder} must lie inside {base} (and not be it)")
    return path.relative_to(base).as_posix()


def _refuse_target(target: Path, folders: list[Path]) -> None:
    if target.exists() and (not target.is_dir() or any(target.iterdir())):
        raise Refused(f"backup target {target} is not empty: a backup is written once")
    resolved = target.resolve()
    for folder in folders:
        if resolved.is_relative_to(folder.resolve()):
            raise Refused(f"backup target {target} is inside {folder}, which it backs up")


def _refuse_data(database_url: str, url: URL, folders: list[Path]) -> None:
    if _has_rows(database_url, url):
        raise Refused(
            f"database {safe_url(url)} is not empty; restore with force (--force) to overwrite it"
        )
    for folder in folders:
        if folder.is_dir() and any(_files_under(folder, set())):
            raise Refused(f"{folder} is not empty; restore with force (--force) to overwrite")


@contextmanager
def _connected(database_url: str) -> Iterator[Engine]:
    """An engine for one check; a database that cannot be reached is a BackupError."""
    engine = make_engine(database_url)
    try:
        yield engine
    except DBAPIError as exc:
        url = make_url(database_url)
        reason = str(exc.orig).strip().splitlines()[0] if exc.orig else type(exc).__name__
        if url.password:
            reason = reason.replace(str(url.password), "***")
        raise BackupError(f"cannot use database {safe_url(url)}: {reason}") from None
    finally:
        engine.dispose()


def _has_rows(database_url: str, url: URL) -> bool:
    if url.get_backend_name() == "sqlite" and not sqlite_path(url).exists():
        return False
    with _connected(database_url) as engine, engine.connect() as connection:
        for name in inspect(connection).get_table_names():
            query = select(literal(1)).select_from(table(name)).limit(1)
            if name != "alembic_version" and connection.execute(query).first():
                return True
    return False


def _revision(database_url: str) -> str | None:
    with _connected(database_url) as engine:
        return migrate.current_revision(engine)


def _pg_backup(database_url: str, out: Path) -> tuple[str | None, str | None]:
    schema = pg_schema(database_url)
    revision = _revision(database_url)
    extra = ["--format=custom", "--file", str(out)] + (["--schema", schema] if schema else [])
    run_pg("pg_dump", database_url, extra)
    fsync(out)
    return revision, schema


def _files_under(folder: Path, skip: set[Path]) -> Iterator[Path]:
    for path in sorted(folder.rglob("*")):
        if path.is_file() and path.resolve() not in skip:
            yield path


def _chunks(path: Path) -> Iterator[bytes]:
    with path.open("rb") as handle:
        while chunk := handle.read(_CHUNK):
            yield chunk


def _copy(source: Path, target: Path, progress: Progress | None) -> tuple[str, int]:
    """Copy through a temp name (a crash leaves no half file under the real name); the
    hash is of the bytes written, so a file still growing is recorded as copied."""
    target.parent.mkdir(parents=True, exist_ok=True)
    partial = target.with_name(f".{target.name}.partial")
    digest, size = hashlib.sha256(), 0
    with partial.open("wb") as out:
        for chunk in _chunks(source):
            out.write(chunk)
            digest.update(chunk)
            size += len(chunk)
            if progress is not None:
                progress(len(chunk))
        out.flush()
        os.fsync(out.fileno())
    partial.replace(target)
    return digest.hexdigest(), size


def _entry(folder: Path, name: str) -> FileEntry:
    digest = hashlib.sha256()
    for chunk in _chunks(folder / name):
        digest.update(chunk)
    return FileEntry(name, digest.hexdigest(), (folder / name).stat().st_size)


def _write_durably(path: Path, data: bytes) -> None:
    path.write_bytes(data)
    fsync(path)
