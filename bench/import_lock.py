"""How long another user's edit waits while an import runs, on SQLite.

Not a test: it prints figures. A fresh SQLite file; user A imports SIZE targets
(a dry run, then for real) while user B, in another process, edits a target
every 20 ms (what PATCH /api/v1/targets/{id} does: one write transaction
through the services). Printed: each import's duration and B's longest and
median wait during it.

    .venv/bin/python -m bench.import_lock --size 5000
"""

from __future__ import annotations

import argparse
import multiprocessing
import statistics
import tempfile
import time
from datetime import UTC, datetime
from pathlib import Path

from sqlmodel import Session

from hookboard import services
from hookboard.core.db import make_engine, session_scope
from hookboard.core.migrate import upgrade_to_head
from hookboard.models import User
from hookboard.services import ServiceConfig, credentials, crud
from hookboard.services.transfer import run_import
from hookboard.services.workspaces.permissions import Access

EDIT_EVERY_SECONDS = 0.02


def make_user(engine, email: str) -> Access:
    """A user acting as owner of their personal workspace (no bcrypt: nobody logs in)."""
    with Session(engine) as session:
        user = User(email=email, password_hash="x")
        session.add(user)
        session.flush()
        crud.create_workspace(
            session, name=crud.PERSONAL_WORKSPACE_NAME, owner_id=user.id, personal=True
        )
        session.commit()
        user_id = user.id
    with engine.connect() as connection:
        return credentials.member_access(connection, user_id=user_id)


def edit_loop(url: str, access: Access, target_id: int, stop, waits) -> None:
    """User B: (start, seconds) of each edit until `stop` is set."""
    engine = make_engine(url)
    config = ServiceConfig()
    edits = 0
    while not stop.is_set():
        edits += 1
        started = time.time()
        with session_scope(engine) as session:
            services.update_target(
                session,
                access=access,
                target_id=target_id,
                changes={"url": f"https://b.example/{edits}"},
                now=datetime.now(UTC),
                config=config,
            )
        waits.append((started, time.time() - started))
        time.sleep(EDIT_EVERY_SECONDS)


def document(size: int) -> dict:
    targets = [{"name": f"t{i}", "url": f"https://t{i}.example/hook"} for i in range(size)]
    return {"version": 1, "targets": targets}


def timed_import(engine, access: Access, size: int, dry_run: bool) -> tuple[float, float]:
    started = time.time()
    with Session(engine, expire_on_commit=False) as session:
        run_import(
            session,
            access=access,
            document=document(size),
            dry_run=dry_run,
            now=datetime.now(UTC),
            config=ServiceConfig(),
        )
    return started, time.time()


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--size", type=int, default=5000)
    args = parser.parse_args()
    url = f"sqlite:///{Path(tempfile.mkdtemp()) / 'bench.db'}"
    upgrade_to_head(url)
    engine = make_engine(url)
    importer, editor = make_user(engine, "a@example.com"), make_user(engine, "b@example.com")
    with session_scope(engine) as session:
        target = services.create_target(
            session,
            access=editor,
            fields={"name": "b", "url": "https://b.example/"},
            now=datetime.now(UTC),
            config=ServiceConfig(),
        )
        target_id = target.id
    with multiprocessing.Manager() as manager:
        stop, waits = manager.Event(), manager.list()
        process = multiprocessing.Process(
            target=edit_loop, args=(url, editor, target_id, stop, waits)
        )
        process.start()
        time.sleep(1)
        phases = {}
        for dry_run in (True, False):
            phases["dry run" if dry_run else "import"] = timed_import(
                engine, importer, args.size, dry_run
            )
            time.sleep(0.5)
        stop.set()
        process.join()
        waits = list(waits)
    print(f"{args.size} targets, SQLite; user B edits a target every {EDIT_EVERY_SECONDS}s")
    for name, (start, end) in phases.items():
        during = [wait for began, wait in waits if start <= began + wait and began <= end]
        print(
            f"{name:8} {end - start:6.2f} s   B's edits during it: {len(during):4}"
            f"   longest wait {max(during) * 1000:7.1f} ms"
            f"   median {statistics.median(during) * 1000:6.1f} ms"
        )


if __name__ == "__main__":
    main()
