"""Run Hookboard's real ticker and worker processes against the test's database
and Redis, on a queue name of the test's own."""

from __future__ import annotations

import signal
import subprocess
import sys
import time
import uuid
from collections.abc import Callable
from datetime import UTC, datetime
from typing import NamedTuple

from sqlalchemy import Engine
from sqlmodel import Session, select

from hookboard.models import Attempt, Run, Schedule, User
from hookboard.services import crud
from hookboard.services.workspaces.permissions import Access, Role
from tests.support.processes import PROJECT_ROOT, hookboard_env


class EngineProcesses:
    """Start, kill and stop ticker/worker processes; everything stops at exit."""

    def __init__(self, database_url: str, redis_url: str, **settings: str):
        self.queue_name = f"hb-test-{uuid.uuid4().hex[:8]}"
        defaults = {"ALLOW_PRIVATE_TARGETS": "true", "LOG_LEVEL": "WARNING"}
        self.env = hookboard_env(
            DATABASE_URL=database_url,
            REDIS_URL=redis_url,
            QUEUE_NAME=self.queue_name,
            **{**defaults, **settings},
        )
        self.processes: list[subprocess.Popen] = []

    def start(self, script: str, **extra_env: str) -> subprocess.Popen:
        process = subprocess.Popen(
            [sys.executable, script], cwd=PROJECT_ROOT, env={**self.env, **extra_env}
        )
        self.processes.append(process)
        return process

    def ticker(self, **extra_env: str) -> subprocess.Popen:
        return self.start("ticker.py", **extra_env)

    def worker(self, **extra_env: str) -> subprocess.Popen:
        return self.start("worker.py", **extra_env)

    @staticmethod
    def kill(process: subprocess.Popen) -> None:
        process.send_signal(signal.SIGKILL)
        process.wait(timeout=10)

    @staticmethod
    def stop(process: subprocess.Popen) -> None:
        """SIGTERM: a ticker finishes its tick (queueing what it recorded) and exits."""
        process.terminate()
        process.wait(timeout=15)

    def stop_all(self) -> None:
        for process in self.processes:
            if process.poll() is None:
                process.terminate()
        for process in self.processes:
            try:
                process.wait(timeout=15)
            except subprocess.TimeoutExpired:
                process.kill()
                process.wait()

    def __enter__(self) -> EngineProcesses:
        return self

    def __exit__(self, *exc_info) -> None:
        self.stop_all()


class Account(NamedTuple):
    user_id: int
    workspace_id: int  # the personal one


def make_account(engine: Engine, email: str = "owner@example.com") -> Account:
    with Session(engine) as session:
        user = crud.create_user(session, email=email, password="correct horse")
        session.commit()
        return Account(user.id, crud.personal_workspace_id(session, user.id))


def owner_access(account: Account) -> Access:
    """The account acting in its personal workspace, as its owner."""
    return Access(user_id=account.user_id, workspace_id=account.workspace_id, role=Role.owner)


def make_workspace(engine: Engine, email: str = "owner@example.com") -> int:
    """A new user's personal workspace: its id."""
    return make_account(engine, email).workspace_id


def make_schedule(engine: Engine, workspace_id: int, **fields) -> int:
    fields.setdefault("name", "test schedule")
    with Session(engine) as session:
        schedule = crud.create_schedule(
            session, workspace_id=workspace_id, now=datetime.now(UTC), **fields
        )
        session.commit()
        return schedule.id


def runs_of(engine: Engine, schedule_id: int) -> list[Run]:
    with Session(engine) as session:
        return list(
            session.exec(select(Run).where(Run.schedule_id == schedule_id).order_by(Run.id))
        )


def attempts_of(engine: Engine, run_id: int) -> list[Attempt]:
    with Session(engine) as session:
        return list(
            session.exec(select(Attempt).where(Attempt.run_id == run_id).order_by(Attempt.number))
        )


def get_schedule(engine: Engine, schedule_id: int) -> Schedule:
    with Session(engine) as session:
        return session.get(Schedule, schedule_id)


def get_user(engine: Engine, user_id: int) -> User:
    with Session(engine) as session:
        return session.get(User, user_id)


def wait_until(condition: Callable[[], object], timeout: float = 20, interval: float = 0.1):
    """Poll until `condition()` is truthy; returns its value or raises TimeoutError."""
    deadline = time.monotonic() + timeout
    while True:
        value = condition()
        if value:
            return value
        if time.monotonic() > deadline:
            raise TimeoutError(f"condition not met in {timeout}s (last value: {value!r})")
        time.sleep(interval)
