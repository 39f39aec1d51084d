"""The operator's commands: backup, restore, check, lists, compact (docs/operator.md).

Progress bars come from rich (on stderr, only on a terminal); results and reports go to stdout.
Backup uses SQLite's online backup API inside one read transaction, so the copy is the
database as of one moment while the server keeps committing (WAL lets it).
"""

from __future__ import annotations

import contextlib
import gzip
import sqlite3
import tempfile
import time
import zlib
from collections.abc import Iterator
from contextlib import closing, contextmanager
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any, Final

from rich.console import Console
from rich.progress import (
    BarColumn,
    DownloadColumn,
    MofNCompleteColumn,
    Progress,
    TaskProgressColumn,
    TextColumn,
    TimeRemainingColumn,
)
from rich.table import Table

DB_NAME: Final = "listok.db"
SQLITE_MAGIC: Final = b"SQLite format 3\x00"
GZIP_MAGIC: Final = b"\x1f\x8b"
BACKUP_STEP_PAGES: Final = 256
COPY_CHUNK: Final = 1 << 20

err = Console(stderr=True)
out = Console(highlight=False, soft_wrap=True)


def progress(*, bytes_: bool = False) -> Progress:
    columns: list[Any] = [TextColumn("{task.description}"), BarColumn(), TaskProgressColumn()]
    columns.append(DownloadColumn() if bytes_ else MofNCompleteColumn())
    columns.append(TimeRemainingColumn())
    return Progress(*columns, console=err, transient=True, disable=not err.is_terminal)


def human(n: float) -> str:
    for unit in ("B", "KB", "MB", "GB"):
        if n < 1024 or unit == "GB":
            return f"{n:.0f} {unit}" if unit == "B" else f"{n:.1f} {unit}"
        n /= 1024
    return f"{n:.1f} GB"


class OperatorError(Exception):
    """A command could not do its work; the message is shown to the operator as it is."""


# -- backup ----------------------------------------------------------------------------------


@dataclass
class BackupResult:
    path: Path
    bytes: int
    lists: int
    seconds: float


def _copy_bytes(src: Any, dst: Any, total: int, description: str) -> None:
    with progress(bytes_=True) as bar:
        task = bar.add_task(description, total=total or None)
        while chunk := src.read(COPY_CHUNK):
            dst.write(chunk)
            bar.advance(task, len(chunk))


def backup(data_dir: Path, target: Path, *, compress: bool = False) -> BackupResult:
    """A consistent copy of the live database (the server may be running and writing)."""
    source = data_dir / DB_NAME
    if not source.is_file():
        raise OperatorError(f"no database at {source}")
    target = target.resolve()
    if target.exists() and target.is_dir():
        raise OperatorError(f"{target} is a directory: name the backup file")
    target.parent.mkdir(parents=True, exist_ok=True)
    started = time.monotonic()
    with tempfile.TemporaryDirectory(prefix=".listok-backup-", dir=target.parent) as tmp:
        copy = Path(tmp) / DB_NAME
        with (
            closing(sqlite3.connect(source, isolation_level=None, timeout=30)) as src,
            closing(sqlite3.connect(copy)) as dst,
        ):
            # One read transaction over the whole backup: every step copies the same snapshot,
            # and commits the server makes meanwhile (to the WAL) neither block nor restart it.
            src.execute("BEGIN")
            src.execute("SELECT count(*) FROM sqlite_master").fetchone()
            with progress() as bar:
                task = bar.add_task("backup", total=None)

                def step(status: int, remaining: int, total: int) -> None:
                    bar.update(task, total=total, completed=total - remaining)

                src.backup(dst, pages=BACKUP_STEP_PAGES, progress=step)
            src.execute("COMMIT")
            dst.execute("PRAGMA journal_mode=DELETE")
            problems = [row[0] for row in dst.execute("PRAGMA quick_check")]
            if problems != ["ok"]:
                raise OperatorError("the copy failed its check: " + "; ".join(problems[:5]))
            lists = dst.execute("SELECT count(*) FROM lists").fetchone()[0]
        partial = Path(tmp) / "partial"
        if compress:
            with copy.open("rb") as raw, gzip.open(partial, "wb", compresslevel=6) as packed:
                _copy_bytes(raw, packed, copy.stat().st_size, "compress")
        else:
            copy.replace(partial)
        partial.replace(target)
    return BackupResult(target, target.stat().st_size, lists, time.monotonic() - started)


# -- restore ---------------------------------------------------------------------------------


def restore(source: Path, data_dir: Path, *, force: bool = False) -> BackupResult:
    """Put a backup (plain or gzip) into data_dir as its database, checked before it lands."""
    if not source.is_file():
        raise OperatorError(f"no backup file at {source}")
    if data_dir.exists() and not data_dir.is_dir():
        raise OperatorError(f"{data_dir} is not a directory")
    if data_dir.is_dir() and any(data_dir.iterdir()) and not force:
        raise OperatorError(
            f"{data_dir} is not empty: restore into an empty directory, or add --force to"
            " replace its database (stop the server that uses it first)"
        )
    started = time.monotonic()
    with source.open("rb") as probe:
        head = probe.read(len(SQLITE_MAGIC))
    if head.startswith(GZIP_MAGIC):
        opener: Any = gzip.open
    elif head == SQLITE_MAGIC:
        opener = open
    else:
        raise OperatorError(f"{source} is neither a Listok backup nor a gzip of one")
    data_dir.mkdir(parents=True, exist_ok=True)
    partial = data_dir / (DB_NAME + ".restoring")
    try:
        with opener(source, "rb") as src, partial.open("wb") as dst:
            try:
                _copy_bytes(src, dst, source.stat().st_size, "restore")
            except (OSError, EOFError, zlib.error) as exc:
                raise OperatorError(f"{source} could not be read: {exc}") from exc
        with partial.open("rb") as probe:
            if probe.read(len(SQLITE_MAGIC)) != SQLITE_MAGIC:
                raise OperatorError(f"{source} does not hold a SQLite database")
        with closing(sqlite3.connect(partial)) as conn:
            try:
                problems = [row[0] for row in conn.execute("PRAGMA integrity_check")]
                lists = conn.execute("SELECT count(*) FROM lists").fetchone()[0]
            except sqlite3.DatabaseError as exc:
                raise OperatorError(f"the backup is damaged: {exc}") from exc
            if problems != ["ok"]:
                raise OperatorError("the backup is damaged: " + "; ".join(problems[:5]))
        for suffix in ("-wal", "-shm"):
            (data_dir / (DB_NAME + suffix)).unlink(missing_ok=True)
        target = data_dir / DB_NAME
        partial.replace(target)
    finally:
        partial.unlink(missing_ok=True)
    return BackupResult(target, target.stat().st_size, lists, time.monotonic() - started)


# -- check -----------------------------------------------------------------------------------


@dataclass
class CheckReport:
    path: Path | str
    integrity: list[str] = field(default_factory=list)
    lists: int = 0
    deleted: int = 0
    problems: list[str] = field(default_factory=list)

    @property
    def ok(self) -> bool:
        return not self.problems


def _decode_strictly(rows: list[tuple[str, int, bytes]]) -> str | None:
    """None when every stored update applies to one document, else what went wrong."""
    from pycrdt import Doc

    from server import schema

    doc: Any = Doc()
    for kind, row_id, data in rows:
        try:
            doc.apply_update(data)
        except Exception as exc:
            return f"{kind} {row_id} does not decode: {exc}"
        except BaseException as exc:  # pyo3's PanicException
            if type(exc).__name__ != "PanicException":
                raise
            return f"{kind} {row_id} made the CRDT library panic: {exc}"
    try:
        schema.list_items(doc)
        schema.meta(doc).to_py()
    except Exception as exc:
        return f"the document does not read as a list: {exc}"
    return None


def _columns(conn: sqlite3.Connection, table: str) -> set[str]:
    return {row[1] for row in conn.execute(f"PRAGMA table_info({table})")}


def check(data_dir: Path) -> CheckReport:
    """The database's own integrity check, then every list's history loaded and decoded.

    Read-only: it never migrates or repairs anything, and may run while the server does.
    """
    path = data_dir / DB_NAME
    report = CheckReport(path)
    if not path.is_file():
        report.problems.append(f"no database at {path}")
        return report
    try:
        with closing(sqlite3.connect(f"file:{path}?mode=ro", uri=True, timeout=30)) as conn:
            conn.isolation_level = None
            report.integrity = [str(row[0]) for row in conn.execute("PRAGMA integrity_check")]
            if report.integrity != ["ok"]:
                report.problems.extend(f"integrity: {line}" for line in report.integrity[:20])
            _check_lists(conn, report)
    except sqlite3.DatabaseError as exc:
        report.problems.append(f"the database cannot be read: {exc}")
    return report


def check_database(url: str) -> CheckReport:
    """`listok check` with LISTOK_DATABASE_URL: every list (live and deleted) loaded from
    PostgreSQL and decoded strictly. PostgreSQL guards its own pages (data checksums,
    `pg_amcheck`); this checks what only Listok can: that every history is a list."""
    from store.postgres import PostgresStore

    report = CheckReport(url.split("@")[-1].split("?")[0])  # no password in the report
    try:
        store = PostgresStore(url)
    except Exception as exc:
        report.problems.append(f"the database cannot be opened: {exc}")
        return report
    try:
        live = store.list_ids()
        deleted = [d.list_id for d in store.deleted_lists()]
        report.lists, report.deleted = len(live) + len(deleted), len(deleted)
        with progress() as bar:
            task = bar.add_task("check lists", total=report.lists)
            for list_id in [*live, *deleted]:
                try:
                    states = store.load(list_id, include_deleted=True)
                except Exception as exc:
                    report.problems.append(f"list {list_id}: its history cannot be read: {exc}")
                    states = None
                if states is not None and not states:
                    report.problems.append(f"list {list_id}: no history at all")
                elif states:
                    rows = [("update", n, state) for n, state in enumerate(states, 1)]
                    problem = _decode_strictly(rows)
                    if problem:
                        report.problems.append(f"list {list_id}: {problem}")
                bar.advance(task)
    finally:
        store.close()
    return report


def _check_lists(conn: sqlite3.Connection, report: CheckReport) -> None:
    columns = _columns(conn, "lists")
    if not columns:
        report.problems.append("no lists table: not a Listok database")
        return
    where = "WHERE purged_at IS NULL" if "purged_at" in columns else ""
    deleted = "deleted_at IS NOT NULL" if "deleted_at" in columns else "0"
    ids = conn.execute(
        f"SELECT id, {deleted} FROM lists {where} ORDER BY created_at, id"
    ).fetchall()
    report.lists = len(ids)
    report.deleted = sum(1 for _, gone in ids if gone)
    with progress() as bar:
        task = bar.add_task("check lists", total=len(ids))
        for list_id, _ in ids:
            conn.execute("BEGIN")
            rows: list[tuple[str, int, bytes]] = []
            try:
                snap = conn.execute(
                    "SELECT state, last_update_id FROM snapshots WHERE list_id = ?", (list_id,)
                ).fetchone()
                if snap is not None:
                    rows.append(("snapshot of update", int(snap[1]), bytes(snap[0])))
                rows.extend(
                    ("update", int(r[0]), bytes(r[1]))
                    for r in conn.execute(
                        "SELECT id, data FROM updates WHERE list_id = ? AND id > ? ORDER BY id",
                        (list_id, snap[1] if snap else 0),
                    )
                )
            except sqlite3.DatabaseError as exc:
                report.problems.append(f"list {list_id}: its history cannot be read: {exc}")
                bar.advance(task)
                continue
            finally:
                if conn.in_transaction:  # read-only: ending it is all there is to do
                    with contextlib.suppress(sqlite3.Error):
                        conn.execute("ROLLBACK")
            if not rows:
                report.problems.append(f"list {list_id}: no history at all")
            else:
                problem = _decode_strictly(rows)
                if problem:
                    report.problems.append(f"list {list_id}: {problem}")
            bar.advance(task)


def print_check(report: CheckReport) -> None:
    out.print(f"database: {report.path}")
    if report.integrity:
        out.print(f"integrity_check: {'ok' if report.integrity == ['ok'] else 'FAILED'}")
    out.print(f"lists checked: {report.lists} ({report.deleted} deleted, restorable)")
    if report.ok:
        out.print("result: ok")
        return
    out.print(f"result: {len(report.problems)} problem(s)")
    for problem in report.problems:
        out.print(f"  - {problem}")


# -- lists and compact (through the store) ---------------------------------------------------


@contextmanager
def open_store(data_dir: Path) -> Iterator[Any]:
    from store import SQLiteStore

    path = data_dir / DB_NAME
    if not path.is_file():
        raise OperatorError(f"no database at {path}")
    store = SQLiteStore(path)
    try:
        yield store
    finally:
        store.close()


COLUMNS: Final = (
    "id",
    "title",
    "items",
    "document",
    "history",
    "last change (UTC)",
    "shares o/e/v",
    "deleted (UTC)",
)


def list_rows(data_dir: Path, *, state: str = "live", query: str = "") -> list[list[str]]:
    """The admin table from the data dir (the server may be running; sockets are not known)."""
    from server.overview import decode

    with open_store(data_dir) as store:
        live = list(reversed(store.list_ids())) if state in ("live", "all") else []
        gone = [d.list_id for d in store.deleted_lists()] if state in ("deleted", "all") else []
        summaries = store.summaries(live + gone)
        rows = []
        with progress() as bar:
            task = bar.add_task("read lists", total=len(summaries))
            for summary in summaries:
                info = decode(store.load(summary.list_id, include_deleted=True), summary.list_id)
                bar.advance(task)
                if query and query.lower() not in f"{summary.list_id} {info.title.lower()}":
                    continue
                shares = "/".join(str(summary.shares.get(r, 0)) for r in ("owner", "edit", "view"))
                rows.append(
                    [
                        summary.list_id,
                        info.title,
                        str(info.items),
                        human(info.document_bytes),
                        human(summary.snapshot_bytes + summary.log_bytes),
                        _utc(summary.last_change),
                        shares,
                        _utc(summary.deleted_at) if summary.deleted_at else "",
                    ]
                )
    return rows


def print_lists(rows: list[list[str]], title: str) -> None:
    """A table on a terminal; tab-separated lines (with a header) when piped."""
    if not out.is_terminal:
        for row in [list(COLUMNS), *rows]:
            print("\t".join(cell.replace("\t", " ").replace("\n", " ") for cell in row))
        return
    table = Table(title=title, title_justify="left")
    for name in COLUMNS:
        numeric = name in ("items", "document", "history")
        table.add_column(name, justify="right" if numeric else "left", no_wrap=name != "title")
    for row in rows:
        table.add_row(*row)
    out.print(table)


def _utc(ms: int) -> str:
    return time.strftime("%Y-%m-%d %H:%M", time.gmtime(ms / 1000))


def compact_all(data_dir: Path) -> tuple[int, int, int]:
    """Fold every list's update log into a snapshot; (lists, bytes before, bytes after)."""
    with open_store(data_dir) as store:
        ids = store.list_ids()
        summaries = store.summaries(ids)
        before = sum(s.snapshot_bytes + s.log_bytes for s in summaries)
        with progress() as bar:
            task = bar.add_task("compact", total=len(ids))
            for summary in summaries:
                if summary.updates:
                    store.compact(summary.list_id)
                bar.advance(task)
        after = sum(s.snapshot_bytes + s.log_bytes for s in store.summaries(ids))
    return len(ids), before, after
