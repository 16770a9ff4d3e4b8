"""SQLite writers take turns through a file lock beside the database (hookboard.db),
and none holds it for long: an import writes in a few steps whatever its size."""

from __future__ import annotations

import fcntl
import os
from datetime import UTC, datetime

import pytest
from sqlalchemy import event, text
from sqlmodel import Session, select

from hookboard.core.db import READ_ONLY, make_engine
from hookboard.core.migrate import upgrade_to_head
from hookboard.models import Schedule
from hookboard.services import ServiceConfig
from hookboard.services.transfer import run_import
from hookboard.services.workspaces.permissions import Access
from tests.support.engine import make_account, owner_access

# BEGIN, the snapshot check (3 reads), the inserts and updates (a few each), COMMIT.
MAX_IMPORT_WRITE_STEPS = 12


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


# --- an import holds the write lock for a few statements, whatever its size ----------


class WriteSteps:
    """Statements an engine runs inside write transactions (an executemany is one):
    the steps during which a SQLite writer holds the lock."""

    def __init__(self, engine):
        self.count = 0
        event.listen(engine, "before_cursor_execute", self._count)

    def _count(self, connection, _cursor, _statement, _parameters, _context, _executemany):
        if connection.in_transaction() and not connection.get_execution_options().get(READ_ONLY):
            self.count += 1


def import_document_of(size: int) -> dict:
    targets = [{"name": f"t{i}", "url": f"https://t{i}.example/hook"} for i in range(size)]
    schedules = [
        {"name": f"s{i}", "kind": "interval", "every": 5, "unit": "minutes", "target": f"t{i}"}
        for i in range(size)
    ]
    return {"version": 1, "targets": targets, "schedules": schedules}


@pytest.fixture
def app_sqlite(tmp_path):
    url = f"sqlite:///{tmp_path / 'app.db'}"
    upgrade_to_head(url)
    engine = make_engine(url)
    yield engine, owner_access(make_account(engine, "importer@example.com"))
    engine.dispose()


def import_steps(engine, access: Access, size: int, *, dry_run: bool) -> int:
    steps = WriteSteps(engine)
    with Session(engine, expire_on_commit=False) as session:
        report = run_import(
            session,
            access=access,
            document=import_document_of(size),
            dry_run=dry_run,
            now=datetime.now(UTC),
            config=ServiceConfig(),
        )
    assert report.count("create") == 2 * size
    return steps.count


def test_a_dry_run_import_takes_no_write_lock(app_sqlite):
    engine, access = app_sqlite
    assert import_steps(engine, access, 300, dry_run=True) == 0


@pytest.mark.parametrize("size", [30, 300])
def test_an_import_writes_in_a_few_steps_whatever_its_size(app_sqlite, size):
    engine, access = app_sqlite
    steps = import_steps(engine, access, size, dry_run=False)
    assert steps <= MAX_IMPORT_WRITE_STEPS, steps
    with Session(engine) as session:
        assert (
            len(
                session.exec(
                    select(Schedule).where(Schedule.workspace_id == access.workspace_id)
                ).all()
            )
            == size
        )


def test_a_second_import_of_the_same_document_updates_in_a_few_steps(app_sqlite):
    engine, access = app_sqlite
    import_steps(engine, access, 100, dry_run=False)
    document = import_document_of(100)
    for item in document["schedules"]:
        item["every"] = 10
    steps = WriteSteps(engine)
    with Session(engine, expire_on_commit=False) as session:
        report = run_import(
            session,
            access=access,
            document=document,
            dry_run=False,
            now=datetime.now(UTC),
            config=ServiceConfig(),
        )
    assert report.count("update") == 100 and report.count("unchanged") == 100
    assert steps.count <= MAX_IMPORT_WRITE_STEPS, steps.count
