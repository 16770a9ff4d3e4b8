"""SQLite writers take turns through a file lock beside the database (hookboard.db)."""

from __future__ import annotations

import fcntl
import os

import pytest
from sqlalchemy import text

from hookboard.core.db import READ_ONLY, make_engine


def held_by_someone(path: str) -> bool:
    fd = os.open(path, os.O_RDWR)
    try:
        fcntl.flock(fd, fcntl.LOCK_EX | fcntl.LOCK_NB)
    except BlockingIOError:
        return True
    else:
        fcntl.flock(fd, fcntl.LOCK_UN)
        return False
    finally:
        os.close(fd)


@pytest.fixture
def sqlite(tmp_path):
    engine = make_engine(f"sqlite:///{tmp_path / 'lock.db'}")
    with engine.begin() as connection:
        connection.execute(text("CREATE TABLE t (x INTEGER)"))
    yield engine, str(tmp_path / "lock.db-writelock")
    engine.dispose()


def test_a_write_transaction_holds_the_lock_until_commit(sqlite):
    engine, lock = sqlite
    with engine.begin() as connection:
        connection.execute(text("INSERT INTO t VALUES (1)"))
        assert held_by_someone(lock)
    assert not held_by_someone(lock)
    with engine.connect() as connection:
        assert connection.execute(text("SELECT count(*) FROM t")).scalar() == 1


def test_a_rolled_back_transaction_releases_the_lock_and_keeps_nothing(sqlite):
    engine, lock = sqlite
    with pytest.raises(RuntimeError), engine.begin() as connection:
        connection.execute(text("INSERT INTO t VALUES (1)"))
        raise RuntimeError("boom")
    assert not held_by_someone(lock)
    with engine.connect() as connection:
        assert connection.execute(text("SELECT count(*) FROM t")).scalar() == 0


def test_readers_take_no_lock(sqlite):
    engine, lock = sqlite
    reader = engine.execution_options(**{READ_ONLY: True})
    with reader.begin() as connection:
        connection.execute(text("SELECT count(*) FROM t"))
        assert not held_by_someone(lock)
