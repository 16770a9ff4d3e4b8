"""Database engine and sessions. No Reflex here: the worker and ticker use it too."""

from __future__ import annotations

import contextlib
import fcntl
import os
from collections.abc import Iterator
from contextlib import contextmanager
from functools import lru_cache
from pathlib import Path

from sqlalchemy import Engine, create_engine, event
from sqlalchemy.engine import make_url
from sqlmodel import Session

from hookboard.core.private_files import PRIVATE_DIR_MODE, PRIVATE_FILE_MODE, tighten
from hookboard.settings import get_settings

SQLITE_BUSY_TIMEOUT_MS = 30_000
# Connections per process. An API request holds at most two at once (its
# session, plus a short write of its own); the API admits ADMITTED_REQUESTS at a
# time (api/middleware/admission.py), so it never waits on the pool. The pool
# keeps all of those connections open: under steady load none is opened or
# closed (each one costs PostgreSQL a backend start and exit; with the pool
# smaller than the load, 14 new sessions a second were seen). The overflow is
# for what admission does not count: the dashboard's events, health probes.
CONNECTIONS_PER_REQUEST = 2
ADMITTED_REQUESTS = 15
POOL_SIZE = ADMITTED_REQUESTS * CONNECTIONS_PER_REQUEST
POOL_OVERFLOW = 10
# Execution option: a read-only unit of work. On SQLite it begins DEFERRED, so
# readers share the WAL snapshot instead of queueing for the write lock.
READ_ONLY = "hookboard_read_only"


def make_engine(url: str, **kwargs) -> Engine:
    """An engine tuned for its backend; SQLite gets WAL and explicit transactions."""
    if make_url(url).get_backend_name() == "sqlite":
        return _sqlite_engine(url, **kwargs)
    return create_engine(
        url, pool_pre_ping=True, pool_size=POOL_SIZE, max_overflow=POOL_OVERFLOW, **kwargs
    )


def _sqlite_engine(url: str, **kwargs) -> Engine:
    database = make_url(url).database
    lock_path = None
    if database and database != ":memory:":
        _private_sqlite_file(Path(database))
        kwargs = {"pool_size": POOL_SIZE, "max_overflow": POOL_OVERFLOW, **kwargs}
        lock_path = f"{database}-writelock"
    engine = create_engine(url, connect_args={"check_same_thread": False}, **kwargs)

    @event.listens_for(engine, "connect")
    def _configure(dbapi_connection, record):
        # pysqlite's own transaction handling commits before DDL and starts
        # transactions lazily; we issue BEGIN ourselves (see _begin) instead.
        dbapi_connection.isolation_level = None
        cursor = dbapi_connection.cursor()
        cursor.execute(f"PRAGMA busy_timeout = {SQLITE_BUSY_TIMEOUT_MS}")
        cursor.execute("PRAGMA journal_mode = WAL")
        cursor.execute("PRAGMA synchronous = NORMAL")
        cursor.execute("PRAGMA foreign_keys = ON")
        cursor.close()
        if lock_path:
            record.info[_WRITE_LOCK] = WriteLock(lock_path)

    @event.listens_for(engine, "begin")
    def _begin(connection):
        # IMMEDIATE takes the write lock up front, so a transaction that reads
        # then writes waits for other processes instead of failing with
        # "database is locked" on the lock upgrade. DDL stays transactional.
        # Read-only work needs no lock: WAL readers never block or wait.
        read_only = connection.get_execution_options().get(READ_ONLY)
        if not read_only:
            _write_lock(connection.connection).acquire()
        connection.exec_driver_sql("BEGIN" if read_only else "BEGIN IMMEDIATE")

    # End the transaction here, then let the next writer in (SQLAlchemy's own
    # commit or rollback that follows finds no transaction and does nothing).
    @event.listens_for(engine, "commit")
    def _commit(connection):
        _end(connection.connection, "COMMIT")

    @event.listens_for(engine, "rollback")
    def _rollback(connection):
        _end(connection.connection, "ROLLBACK")

    @event.listens_for(engine, "reset")
    def _reset(dbapi_connection, record, _state=None):
        lock = record.info.get(_WRITE_LOCK)
        if lock is not None:
            lock.release()

    @event.listens_for(engine, "close")
    def _close(dbapi_connection, record):
        lock = record.info.pop(_WRITE_LOCK, None)
        if lock is not None:
            lock.close()

    return engine


# SQLite gives its -wal and -shm files the database file's mode.
SQLITE_COMPANIONS = ("", "-wal", "-shm", "-journal")


def _private_sqlite_file(database: Path) -> None:
    """Create the database's folder (0700) and file (0600) if missing; tighten the file's
    and its companions' modes if an older version left them readable by others."""
    if not database.parent.exists():
        database.parent.mkdir(mode=PRIVATE_DIR_MODE, parents=True, exist_ok=True)
    with contextlib.suppress(FileExistsError):
        os.close(os.open(database, os.O_WRONLY | os.O_CREAT | os.O_EXCL, PRIVATE_FILE_MODE))
    for suffix in SQLITE_COMPANIONS:
        tighten(Path(f"{database}{suffix}"), PRIVATE_FILE_MODE)


_WRITE_LOCK = "hookboard_write_lock"


class WriteLock:
    """Writers to one SQLite file take turns through a file lock beside it.

    SQLite's own busy handler polls, sleeping 1, 2, 5, 10... ms between
    tries, so under a steady stream of short write transactions from the
    ticker, the workers and the API, writers sleep while the database is free.
    A blocking flock queues them in the kernel and wakes the next one as soon
    as the lock is released. One file descriptor per connection, so threads
    of one process queue too. SQLite's own locking stays the guarantee.
    """

    def __init__(self, path: str):
        self._fd = os.open(path, os.O_RDWR | os.O_CREAT, 0o600)
        self._held = False

    def acquire(self) -> None:
        if not self._held:
            fcntl.flock(self._fd, fcntl.LOCK_EX)
            self._held = True

    def release(self) -> None:
        if self._held:
            self._held = False
            fcntl.flock(self._fd, fcntl.LOCK_UN)

    def close(self) -> None:
        self.release()
        os.close(self._fd)


class _NoLock:
    def acquire(self) -> None:
        pass

    def release(self) -> None:
        pass


def _write_lock(fairy) -> WriteLock | _NoLock:
    return fairy.info.get(_WRITE_LOCK) or _NoLock()


def _end(fairy, statement: str) -> None:
    try:
        if fairy.dbapi_connection.in_transaction:
            fairy.dbapi_connection.execute(statement)
    finally:
        _write_lock(fairy).release()


@lru_cache
def get_engine() -> Engine:
    return make_engine(get_settings().effective_database_url)


@lru_cache
def get_read_engine() -> Engine:
    """The same pool as get_engine(), for units of work that only read.

    On PostgreSQL they run in autocommit: under READ COMMITTED every statement
    takes its own snapshot anyway, so a read-only transaction only added two
    round trips (BEGIN, ROLLBACK) to each. On SQLite they begin DEFERRED."""
    engine = get_engine()
    if engine.dialect.name == "sqlite":
        return engine.execution_options(**{READ_ONLY: True})
    return engine.execution_options(isolation_level="AUTOCOMMIT", **{READ_ONLY: True})


@contextmanager
def session_scope(engine: Engine | None = None) -> Iterator[Session]:
    """A session that commits on success and rolls back on error."""
    with Session(engine or get_engine(), expire_on_commit=False) as session:
        try:
            yield session
            session.commit()
        except BaseException:
            session.rollback()
            raise
