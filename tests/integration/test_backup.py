"""`quantdesk backup` / `restore`: round trips on SQLite and PostgreSQL with real journal
rows and run/stream files, consistency while a desk writes, and every refusal."""

from __future__ import annotations

import os
import shutil
import sqlite3
import threading
import uuid
from collections.abc import Iterator
from decimal import Decimal
from pathlib import Path

import pyarrow as pa
import pyarrow.parquet as pq
import pytest
import typer
from sqlalchemy import Engine, select, text
from sqlalchemy.engine import make_url
from typer.testing import CliRunner

from quantdesk.commands import backup as backup_cmd
from quantdesk.domain import Decision, DecisionStatus, Order, OrderType, Position, Side, Signal
from quantdesk.domain.fill import Fill
from quantdesk.domain.ids import client_order_id
from quantdesk.domain.order import OrderAccepted, OrderFilled, OrderSubmitted
from quantdesk.storage import backup as backup_mod
from quantdesk.storage import migrate
from quantdesk.storage.backup import DEFAULT_FOLDERS, backup, restore
from quantdesk.storage.db import make_engine
from quantdesk.storage.dumps import (
    BackupError,
    ChecksumMismatch,
    Refused,
    pg_invocation,
    pg_schema,
)
from quantdesk.storage.journal import Journal, Provenance
from quantdesk.storage.models import Base, TradeRow
from tests.conftest import POSTGRES_URL, require_service

D = Decimal
T0 = 1_764_000_000_000_000_000
SESSION = Provenance(session_id="2026-11-25-PAPER-SESSION", config_sha="ab" * 32)
AUDIT_ROWS_PER_CHAIN = 8


# -- builders --------------------------------------------------------------------------
def _filled(plan: str, leg: str, side: Side, price: Decimal, ts: int) -> Order:
    order = Order(
        client_order_id(plan, leg), "RELIANCE", side, OrderType.MARKET, D(12), plan_id=plan, leg=leg
    )
    order.apply(OrderSubmitted(ts))
    order.apply(OrderAccepted(ts, f"V-{plan[:6]}-{leg}"))
    fill = Fill(f"X-{leg}", order.client_order_id, "RELIANCE", side, D(12), price, ts, D("11.03"))
    order.apply(OrderFilled(ts, fill))
    return order


def _chain(journal: Journal, i: int) -> None:
    """signal -> decision -> entry -> fill -> exit -> fill -> closed trade, then flush
    (one transaction for a batched journal)."""
    ts = T0 + i * 1_000
    entry, exit_ = D("2450.10") + D("0.05") * i, D("2505.55") + D("0.05") * i
    signal = Signal(
        "intraday_breakout",
        "RELIANCE",
        Side.BUY,
        ts,
        entry=entry,
        stop_loss=D("2431.60"),
        targets=(D("2480.10"), exit_),
        strength=0.71,
        features={"atr": 12.4},
    )
    journal.record_signal(signal)
    decision = Decision(
        plan_id=signal.plan_id,
        correlation_id=signal.correlation_id,
        symbol="RELIANCE",
        side=Side.BUY,
        quantity=D(12),
        ts=ts + 1,
        status=DecisionStatus.APPROVED,
        entry_price=entry,
        stop_loss=signal.stop_loss,
        targets=signal.targets,
        risk_amount=D("221.40"),
    )
    journal.record_decision(decision, mode="PAPER")
    position, trades = Position("RELIANCE"), []
    for leg, side, price, at in (
        ("entry", Side.BUY, entry, ts + 2),
        ("tp2", Side.SELL, exit_, ts + 3),
    ):
        order = _filled(signal.plan_id, leg, side, price, at)
        journal.record_order(order, at, signal.correlation_id)
        [fill] = [e.fill for e in order.events if isinstance(e, OrderFilled)]
        trade_uid = position.open_trade_id
        trades += position.apply(fill)
        if position.open_trade is not None:
            journal.record_open_trade(
                position.open_trade, signal.plan_id, at, signal.correlation_id
            )
        journal.record_fill(fill, trade_uid or position.open_trade_id, signal.correlation_id)
        journal.save_position("NSE", position, at)
    journal.record_trade(
        trades[0],
        signal.plan_id,
        slippage_bps=D("0.2041"),
        latency_ms=41.5,
        correlation_id=signal.correlation_id,
    )
    journal.flush()


def _contents(engine: Engine) -> dict[str, list[tuple[tuple[str, str], ...]]]:
    """Every row of every table, values with their Python type: a Decimal that came back
    as a float, or lost a trailing zero, is a difference."""
    out = {}
    with engine.connect() as connection:
        for table in Base.metadata.sorted_tables:
            rows = connection.execute(select(table).order_by(*table.primary_key.columns))
            out[table.name] = [tuple((type(v).__name__, repr(v)) for v in row) for row in rows]
    return out


def _write_folders(root: Path) -> dict[str, bytes]:
    """A run folder (Parquet parts, decision log), a stream folder (JSONL), and a folder
    that is not backed up."""
    run = root / "var/runs/20260105-091500-paper"
    (run / "streams/fills/parquet").mkdir(parents=True)
    pq.write_table(
        pa.table({"ts": [T0, T0 + 1], "price": ["2450.10", "2505.55"]}),
        run / "streams/fills/parquet/part-000.parquet",
    )
    (run / "decision_log.txt").write_text("line 1\nline 2\n")
    (root / "var/streams").mkdir(parents=True)
    (root / "var/streams/2026-01-05.jsonl").write_text('{"kind":"fill","price":"2450.10"}\n')
    (root / "var/other").mkdir(parents=True)
    (root / "var/other/not-backed-up.txt").write_text("x")
    return _read_folders(root)


def _read_folders(root: Path) -> dict[str, bytes]:
    return {
        p.relative_to(root).as_posix(): p.read_bytes()
        for folder in ("var/runs", "var/streams")
        for p in (root / folder).rglob("*")
        if p.is_file()
    }


def _wipe_sqlite(db: Path, root: Path) -> None:
    for suffix in ("", "-wal", "-shm"):
        Path(f"{db}{suffix}").unlink(missing_ok=True)
    for folder in DEFAULT_FOLDERS:
        shutil.rmtree(root / folder, ignore_errors=True)


@pytest.fixture
def desk(tmp_path: Path) -> Iterator[tuple[str, Engine, Path]]:
    """A migrated SQLite desk under tmp/desk with three closed trades and its folders."""
    root = tmp_path / "desk"
    url = f"sqlite:///{root / 'var' / 'quantdesk.db'}"
    engine = make_engine(url)
    migrate.upgrade(engine)
    journal = Journal(engine, SESSION)  # write-through, as paper and live run
    for i in range(3):
        _chain(journal, i)
    _write_folders(root)
    yield url, engine, root
    engine.dispose()


# -- SQLite ----------------------------------------------------------------------------
def test_sqlite_round_trip_while_a_writer_holds_a_transaction(desk, tmp_path: Path) -> None:
    url, engine, root = desk
    expected, files = _contents(engine), _read_folders(root)
    db = Path(make_url(url).database or "")
    writer = sqlite3.connect(db, timeout=0.5)
    writer.execute("BEGIN IMMEDIATE")
    writer.execute("DELETE FROM audit_log")  # uncommitted: the snapshot must not see it
    writer.execute("UPDATE trades SET pnl = '0'")
    try:
        manifest = backup(url, tmp_path / "bk", DEFAULT_FOLDERS, root=root)
    finally:
        writer.rollback()
        writer.close()

    head = migrate.head_revision(engine)
    assert manifest.database_kind == "sqlite" and manifest.alembic_revision == head
    assert manifest.folders == ("var/runs", "var/streams")
    paths = {entry.path for entry in manifest.files}
    assert paths == {"database.sqlite"} | {f"files/{name}" for name in files}
    assert (tmp_path / "bk/manifest.json").is_file()
    assert not [p for p in tmp_path.iterdir() if ".partial" in p.name]
    assert not list((tmp_path / "bk").glob("database.sqlite-*"))  # one self-contained file

    engine.dispose()
    _wipe_sqlite(db, root)
    restored = restore(tmp_path / "bk", url, root, force=False)

    assert restored == manifest
    fresh = make_engine(url)
    assert _contents(fresh) == expected
    assert sum(len(rows) for rows in expected.values()) > 40
    assert _read_folders(root) == files
    assert migrate.current_revision(fresh) == head
    with fresh.connect() as connection:
        pnl = connection.execute(select(TradeRow.pnl).order_by(TradeRow.id)).scalars().all()
    assert pnl == [D("665.40")] * 3 and all(type(v) is Decimal for v in pnl)
    fresh.dispose()


def test_snapshot_is_consistent_while_a_desk_keeps_writing(desk, tmp_path: Path) -> None:
    """Each chain is one transaction: a snapshot holds whole chains or none."""
    url, engine, root = desk
    stop, written = threading.Event(), [0]

    def keep_writing() -> None:
        journal = Journal(engine, SESSION, batch_size=10_000)
        i = 100
        while not stop.is_set():
            _chain(journal, i)
            written[0] += 1
            i += 1

    thread = threading.Thread(target=keep_writing)
    thread.start()
    try:
        counts = []
        for n in range(5):
            while written[0] < 2 * (n + 1):
                stop.wait(0.01)
            backup(url, tmp_path / f"bk{n}", DEFAULT_FOLDERS, root=root)
            with sqlite3.connect(tmp_path / f"bk{n}/database.sqlite") as copy:
                assert copy.execute("PRAGMA integrity_check").fetchone()[0] == "ok"
                assert copy.execute("PRAGMA foreign_key_check").fetchall() == []
                count = {
                    t: copy.execute(f"SELECT count(*) FROM {t}").fetchone()[0]
                    for t in ("signals", "decisions", "trades", "fills", "audit_log")
                }
            chains = count["signals"]
            assert count == {
                "signals": chains,
                "decisions": chains,
                "trades": chains,
                "fills": 2 * chains,
                "audit_log": AUDIT_ROWS_PER_CHAIN * chains,
            }
            counts.append(chains)
    finally:
        stop.set()
        thread.join()
    assert counts == sorted(counts) and counts[-1] > counts[0] >= 3


@pytest.mark.parametrize(
    "victim", ["database.sqlite", "files/var/streams/2026-01-05.jsonl", "manifest-dropped"]
)
def test_tampered_backup_is_refused_before_anything_changes(desk, tmp_path, victim) -> None:
    url, _engine, root = desk
    backup(url, tmp_path / "bk", DEFAULT_FOLDERS, root=root)
    if victim == "manifest-dropped":  # a file the manifest lists is gone
        name = "files/var/runs/20260105-091500-paper/decision_log.txt"
        (tmp_path / "bk" / name).unlink()
    else:
        name = victim
        data = bytearray((tmp_path / "bk" / name).read_bytes())
        data[len(data) // 2] ^= 0x01
        (tmp_path / "bk" / name).write_bytes(bytes(data))
    target = tmp_path / "elsewhere"
    with pytest.raises(ChecksumMismatch, match=name.rsplit("/", 1)[-1]):
        restore(tmp_path / "bk", f"sqlite:///{target / 'qd.db'}", target, force=True)
    assert not target.exists()  # nothing was restored


def test_backup_refuses_a_non_empty_target(desk, tmp_path: Path) -> None:
    url, _engine, root = desk
    target = tmp_path / "bk"
    target.mkdir()
    (target / "notes.txt").write_text("mine")
    with pytest.raises(Refused, match="not empty"):
        backup(url, target, DEFAULT_FOLDERS, root=root)
    assert [p.name for p in target.iterdir()] == ["notes.txt"]
    (target / "notes.txt").unlink()  # an empty directory is fine
    backup(url, target, DEFAULT_FOLDERS, root=root)
    with pytest.raises(Refused, match="written once"):
        backup(url, target, DEFAULT_FOLDERS, root=root)


def test_backup_refuses_a_target_inside_a_backed_up_folder(desk) -> None:
    url, _engine, root = desk
    with pytest.raises(Refused, match="inside"):
        backup(url, root / "var/runs/bk", DEFAULT_FOLDERS, root=root)


def test_a_crash_mid_backup_leaves_nothing_that_looks_complete(desk, tmp_path, monkeypatch):
    url, _engine, root = desk

    def disk_full(*_args: object) -> None:
        raise OSError(28, "No space left on device")

    monkeypatch.setattr(backup_mod, "_copy", disk_full)
    with pytest.raises(OSError, match="No space"):
        backup(url, tmp_path / "bk", DEFAULT_FOLDERS, root=root)
    assert sorted(p.name for p in tmp_path.iterdir()) == ["desk"]


def test_restore_refuses_a_database_with_data_unless_forced(desk, tmp_path: Path) -> None:
    url, engine, root = desk
    backup(url, tmp_path / "bk", DEFAULT_FOLDERS, root=root)
    expected = _contents(engine)
    _chain(Journal(engine, SESSION), 50)  # written after the backup
    with pytest.raises(Refused, match="not empty"):
        restore(tmp_path / "bk", url, root, force=False)
    assert _contents(engine) != expected
    restore(tmp_path / "bk", url, root, force=True)
    assert _contents(engine) == expected  # the open engine sees the restored database


def test_restore_refuses_folders_with_files_unless_forced(desk, tmp_path: Path) -> None:
    url, engine, root = desk
    backup(url, tmp_path / "bk", DEFAULT_FOLDERS, root=root)
    engine.dispose()
    db = Path(make_url(url).database or "")
    for suffix in ("", "-wal", "-shm"):
        Path(f"{db}{suffix}").unlink(missing_ok=True)  # the database is gone, the files not
    with pytest.raises(Refused, match="var/runs is not empty"):
        restore(tmp_path / "bk", url, root, force=False)
    assert not db.exists()


def test_restore_refuses_the_other_database_kind(desk, tmp_path: Path) -> None:
    url, _engine, root = desk
    backup(url, tmp_path / "bk", DEFAULT_FOLDERS, root=root)
    with pytest.raises(Refused, match="holds a sqlite database"):
        restore(tmp_path / "bk", "postgresql+psycopg://u@127.0.0.1:1/x", root, force=True)


# -- PostgreSQL ------------------------------------------------------------------------
def test_pg_tools_get_the_password_through_the_environment_only() -> None:
    if shutil.which("pg_dump") is None and os.environ.get("REQUIRE_SERVICES") != "1":
        pytest.skip("pg_dump is not installed")
    url = "postgresql+psycopg://qd:s3cr%40t@db.example:6543/desk?options=-csearch_path%3Dqd"
    argv, env = pg_invocation("pg_dump", url)
    assert "s3cr@t" not in " ".join(argv) and env["PGPASSWORD"] == "s3cr@t"
    assert argv[1:] == [
        "--no-password",
        "--host",
        "db.example",
        "--port",
        "6543",
        "--username",
        "qd",
        "--dbname",
        "desk",
    ]
    assert pg_schema(url) == "qd" and pg_schema("postgresql+psycopg://u@h/d") is None


@pytest.fixture
def pg_url() -> Iterator[str]:
    """A throwaway schema named by the URL itself (as QD_DATABASE_URL would name it)."""
    require_service("PostgreSQL", POSTGRES_URL)
    schema = f"qd_backup_{uuid.uuid4().hex[:10]}"
    admin = make_engine(POSTGRES_URL)
    with admin.begin() as connection:
        connection.execute(text(f'CREATE SCHEMA "{schema}"'))
    url = make_url(POSTGRES_URL).update_query_dict({"options": f"-csearch_path={schema}"})
    yield url.render_as_string(hide_password=False)
    with admin.begin() as connection:
        connection.execute(text(f'DROP SCHEMA IF EXISTS "{schema}" CASCADE'))
    admin.dispose()


@pytest.mark.postgres
def test_postgres_round_trip(pg_url: str, tmp_path: Path) -> None:
    root = tmp_path / "desk"
    engine = make_engine(pg_url)
    migrate.upgrade(engine)
    journal = Journal(engine, SESSION)
    for i in range(3):
        _chain(journal, i)
    files, expected = _write_folders(root), _contents(engine)
    with engine.connect() as writer:  # an open write transaction the dump must not see
        writer.execute(text("DELETE FROM audit_log"))
        manifest = backup(pg_url, tmp_path / "bk", DEFAULT_FOLDERS, root=root)
        writer.rollback()
    schema = pg_schema(pg_url)
    assert manifest.database_kind == "postgresql" and manifest.schema == schema
    assert manifest.alembic_revision == migrate.head_revision(engine)
    assert "database.pgdump" in {entry.path for entry in manifest.files}

    with engine.begin() as connection:  # wipe: the whole schema goes
        connection.execute(text(f'DROP SCHEMA "{schema}" CASCADE'))
    for folder in DEFAULT_FOLDERS:
        shutil.rmtree(root / folder)
    engine.dispose()
    assert restore(tmp_path / "bk", pg_url, root, force=False) == manifest

    assert _contents(engine) == expected
    assert _read_folders(root) == files
    assert migrate.current_revision(engine) == manifest.alembic_revision
    with engine.connect() as connection:
        pnl = connection.execute(select(TradeRow.pnl)).scalars().all()
    assert pnl == [D("665.40")] * 3 and all(type(v) is Decimal for v in pnl)

    _chain(Journal(engine, SESSION), 50)
    engine.dispose()
    with pytest.raises(Refused, match="not empty"):
        restore(tmp_path / "bk", pg_url, root, force=False)
    restore(tmp_path / "bk", pg_url, root, force=True)
    assert _contents(engine) == expected
    engine.dispose()


# -- the commands ----------------------------------------------------------------------
def test_commands_round_trip_with_summaries_and_exit_codes(tmp_path, monkeypatch) -> None:
    monkeypatch.chdir(tmp_path)  # the default URL and folders live under ./var/
    monkeypatch.setenv("COLUMNS", "250")
    engine = make_engine("sqlite:///./var/quantdesk.db")
    migrate.upgrade(engine)
    _chain(Journal(engine, SESSION), 0)
    _write_folders(tmp_path)
    app = typer.Typer()
    app.command("backup")(backup_cmd.backup_command)
    app.command("restore")(backup_cmd.restore_command)
    runner = CliRunner()

    monkeypatch.setattr(backup_cmd, "LARGE", 0)  # show the progress bar too
    done = runner.invoke(app, ["backup", "bk"])
    assert done.exit_code == 0, done.output
    head = migrate.head_revision(engine) or ""
    assert "backup written to bk" in done.output and head in done.output
    assert "var/runs, var/streams" in done.output and "time" in done.output

    again = runner.invoke(app, ["backup", "bk"])
    assert again.exit_code == 2 and "written once" in again.output

    refused = runner.invoke(app, ["restore", "bk"])
    assert refused.exit_code == 2 and "--force" in refused.output
    forced = runner.invoke(app, ["restore", "bk", "--force"])
    assert forced.exit_code == 0, forced.output
    assert "restored bk" in forced.output and head in forced.output

    (tmp_path / "bk/files/var/streams/2026-01-05.jsonl").write_text("{}\n")
    damaged = runner.invoke(app, ["restore", "bk", "--force"])
    assert damaged.exit_code == 1 and "2026-01-05.jsonl" in damaged.output
    assert "not a quantdesk backup" in runner.invoke(app, ["restore", "nowhere"]).output
    engine.dispose()


@pytest.fixture
def pg_database_url() -> Iterator[str]:
    """A throwaway database (what production uses: the whole database, no search_path)."""
    require_service("PostgreSQL", POSTGRES_URL)
    name = f"qd_backup_{uuid.uuid4().hex[:10]}"
    admin = make_engine(POSTGRES_URL, isolation_level="AUTOCOMMIT")
    with admin.connect() as connection:
        connection.execute(text(f'CREATE DATABASE "{name}"'))
    yield make_url(POSTGRES_URL).set(database=name).render_as_string(hide_password=False)
    with admin.connect() as connection:
        connection.execute(text(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)'))
    admin.dispose()


@pytest.mark.postgres
def test_postgres_whole_database_round_trip(pg_database_url: str, tmp_path: Path) -> None:
    engine = make_engine(pg_database_url)
    migrate.upgrade(engine)
    for i in range(2):
        _chain(Journal(engine, SESSION), i)
    expected = _contents(engine)
    manifest = backup(pg_database_url, tmp_path / "bk", DEFAULT_FOLDERS, root=tmp_path)
    assert manifest.schema is None and manifest.folders == ()
    _chain(Journal(engine, SESSION), 50)
    engine.dispose()
    restore(tmp_path / "bk", pg_database_url, tmp_path, force=True)
    assert _contents(engine) == expected
    assert migrate.current_revision(engine) == manifest.alembic_revision
    engine.dispose()


def test_an_unreachable_database_is_a_clear_error(tmp_path: Path) -> None:
    url = "postgresql+psycopg://qd:s3cret@127.0.0.1:1/desk"
    with pytest.raises(BackupError, match="cannot use database") as caught:
        backup(url, tmp_path / "bk", DEFAULT_FOLDERS, root=tmp_path)
    assert "s3cret" not in str(caught.value) and "***" in str(caught.value)
    assert not (tmp_path / "bk").exists()
