"""REST API benchmark: latency of the runs log and rate of schedule creation.

Not a test: it prints figures. For the chosen database it

* creates a fresh database (`hookboard_apibench_<random>` on PostgreSQL, dropped at
  the end, or a SQLite file in a temp dir), migrated with Alembic, and a private
  redis-server on a free port (stopped at the end);
* writes one user with a session token, --schedules schedules and --runs runs
  (PostgreSQL: COPY; SQLite: multi-row INSERTs through SQLAlchemy Core), statuses
  and timestamps spread over the last 7 days as the engine would have left them;
* serves the FastAPI app with granian (--workers processes), as
  tests/support/api_server.py does, with rate limits off and the schedule quota raised;
* drives it with --clients concurrent asyncio+httpx clients (keep-alive) and
  measures, --repeat times each, after a warm-up:
    - GET /api/v1/runs?limit=50                (first page)
    - GET /api/v1/runs?limit=50&cursor=...     (a page ~--runs rows deep: the cursor is
                                                built for an id near the oldest run)
    - POST /api/v1/schedules                   (creates per second)
  and the same two pages with one client (service time without queueing);
* prints EXPLAIN (ANALYZE, BUFFERS) of the deep-page query (SQLite: EXPLAIN QUERY PLAN)
  and the CPU% of the API workers, the database server and this client per measurement.

    .venv/bin/python bench/api.py                                  # PostgreSQL, 1,000,000 runs
    .venv/bin/python bench/api.py --database sqlite --runs 200000
    .venv/bin/python bench/api.py --workers 1 --clients 100 --requests 3000 --repeat 3
    .venv/bin/python bench/api.py --profile /tmp/api-profile       # + py-spy of the workers

Targets: p99 <= 100 ms on both pages with 100 clients, >= 300 creates/s.
"""

from __future__ import annotations

import argparse
import asyncio
import base64
import contextlib
import json as jsonlib
import math
import os
import random
import re
import signal
import socket
import statistics
import subprocess
import sys
import tempfile
import time
import urllib.parse
import urllib.request
import uuid
from collections import Counter
from collections.abc import Callable, Iterator
from dataclasses import dataclass, field
from datetime import UTC, datetime, timedelta
from pathlib import Path

PROJECT_ROOT = Path(__file__).resolve().parent.parent
if str(PROJECT_ROOT) not in sys.path:
    sys.path.insert(0, str(PROJECT_ROOT))

import httpx  # noqa: E402
from sqlalchemy import create_engine, func, insert, select, text  # noqa: E402
from sqlalchemy.engine import make_url  # noqa: E402
from sqlmodel import Session  # noqa: E402

from bench.machine import python_loop_ms  # noqa: E402
from hookboard.cli.local_redis import start_redis  # noqa: E402
from hookboard.core.db import make_engine  # noqa: E402
from hookboard.core.migrate import upgrade_to_head  # noqa: E402
from hookboard.domain.tokens import new_session_token  # noqa: E402
from hookboard.models import AuthSession, Run, Schedule, User  # noqa: E402
from hookboard.services import crud, runs_query  # noqa: E402
from hookboard.settings import get_settings, normalise_database_url  # noqa: E402

ADMIN_URL = "postgresql://postgres@127.0.0.1:5432/postgres"
PASSWORD_HASH = "$2b$04$mU6KxAQcb2vuF4Z.6S8E.uTjMAnFXLROS6AQeRWxkRo426emx2PZ."
TARGET_URL = "http://127.0.0.1:9/"  # nothing is delivered: no worker runs
PAGE = 50
RUN_COLUMNS = (
    "workspace_id",
    "schedule_id",
    "scheduled_for",
    "trigger",
    "status",
    "attempt_count",
    "max_attempts",
    "status_code",
    "latency_ms",
    "error_class",
    "created_at",
    "started_at",
    "finished_at",
)


def log(message: str) -> None:
    print(f"[{time.strftime('%H:%M:%S')}] {message}", file=sys.stderr, flush=True)


def free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return sock.getsockname()[1]


# --------------------------------------------------------------------------- database


@dataclass
class Database:
    kind: str
    url: str
    admin_url: str | None = None
    name: str | None = None

    @classmethod
    @contextlib.contextmanager
    def create(cls, kind: str, admin_url: str, workdir: Path) -> Iterator[Database]:
        if kind == "sqlite":
            url = f"sqlite:///{workdir / 'hookboard.db'}"
            upgrade_to_head(url)
            yield cls(kind, url)
            return
        admin_url = normalise_database_url(admin_url)
        name = f"hookboard_apibench_{uuid.uuid4().hex[:10]}"
        admin = create_engine(admin_url, isolation_level="AUTOCOMMIT")
        try:
            with admin.connect() as connection:
                connection.execute(text(f'CREATE DATABASE "{name}"'))
            url = make_url(admin_url).set(database=name).render_as_string(hide_password=False)
            try:
                upgrade_to_head(url)
                yield cls(kind, url, admin_url, name)
            finally:
                with admin.connect() as connection:
                    connection.execute(text(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)'))
                log(f"dropped {name}")
        finally:
            admin.dispose()


def create_user(engine) -> tuple[int, str]:
    """(personal workspace id, session bearer token), as tests/api/support.py writes them."""
    issued = new_session_token()
    now = datetime.now(UTC)
    with Session(engine) as session:
        user = User(email="bench@example.com", password_hash=PASSWORD_HASH)
        session.add(user)
        session.flush()
        workspace = crud.create_workspace(
            session, name=crud.PERSONAL_WORKSPACE_NAME, owner_id=user.id, personal=True
        )
        session.add(
            AuthSession(
                user_id=user.id, token_hash=issued.token_hash, expires_at=now + timedelta(days=1)
            )
        )
        session.commit()
        return workspace.id, issued.token


def create_schedules(engine, workspace_id: int, count: int) -> list[int]:
    now = datetime.now(UTC)
    with Session(engine) as session:
        schedules = [
            Schedule(
                workspace_id=workspace_id,
                name=f"seed-{n}",
                kind="interval",
                every=1,
                unit="minutes",
                url=TARGET_URL,
                method="POST",
                status="paused",
                anchor_at=now - timedelta(days=7),
            )
            for n in range(count)
        ]
        session.add_all(schedules)
        session.commit()
        return [schedule.id for schedule in schedules]


def run_rows(workspace_id: int, schedule_ids: list[int], count: int) -> Iterator[tuple]:
    """Oldest first (ids ascend with time), one firing per second-ish, last 7 days."""
    rng = random.Random(7)
    end = datetime.now(UTC).replace(microsecond=0) - timedelta(minutes=1)
    step = timedelta(days=7) / max(count, 1)
    start = end - step * count
    outcomes = ["succeeded"] * 90 + ["failed"] * 6 + ["skipped"] * 3 + ["retrying"]
    for i in range(count):
        scheduled = start + step * i
        status = outcomes[rng.randrange(100)]
        attempts = 0 if status == "skipped" else (1 if status == "succeeded" else 3)
        latency = None if status == "skipped" else round(rng.lognormvariate(4, 0.6), 3)
        code = {"succeeded": 200, "failed": 503, "retrying": 500}.get(status)
        error = {"succeeded": "success", "failed": "http_5xx", "retrying": "http_5xx"}.get(status)
        started = scheduled + timedelta(milliseconds=rng.randrange(5, 400))
        finished = None if status in ("skipped", "retrying") else started + timedelta(seconds=1)
        yield (
            workspace_id,
            schedule_ids[i % len(schedule_ids)],
            scheduled,
            "schedule",
            status,
            attempts,
            3,
            code,
            latency,
            error,
            scheduled,
            None if status == "skipped" else started,
            finished,
        )


def insert_runs(
    db: Database, engine, workspace_id: int, schedule_ids: list[int], count: int
) -> float:
    began = time.perf_counter()
    rows = run_rows(workspace_id, schedule_ids, count)
    if db.kind == "postgres":
        raw = engine.raw_connection()
        try:
            with (
                raw.driver_connection.cursor() as cursor,
                cursor.copy(f"COPY runs ({', '.join(RUN_COLUMNS)}) FROM STDIN") as copy,
            ):
                for row in rows:
                    copy.write_row(row)
            raw.commit()
        finally:
            raw.close()
        with engine.connect() as connection:
            connection.execution_options(isolation_level="AUTOCOMMIT").execute(
                text("VACUUM ANALYZE runs")
            )
    else:
        table = Run.__table__
        chunk: list[dict] = []
        with engine.begin() as connection:
            for row in rows:
                chunk.append(dict(zip(RUN_COLUMNS, row, strict=True)))
                if len(chunk) == 10_000:
                    connection.execute(insert(table), chunk)
                    chunk = []
            if chunk:
                connection.execute(insert(table), chunk)
        with engine.connect() as connection:
            connection.exec_driver_sql("ANALYZE")
    return time.perf_counter() - began


def deep_cursor_id(engine, workspace_id: int) -> int:
    """An id ~PAGE+10 rows above the oldest run: the page after it is the last full one."""
    with engine.connect() as connection:
        ids = connection.execute(
            select(Run.id).where(Run.workspace_id == workspace_id).order_by(Run.id).limit(PAGE + 11)
        ).all()
    return ids[-1][0]


def encode_cursor(kind: str, last_id: int) -> str:
    # As hookboard.services.encode_cursor: urlsafe base64 of "r:<id>", unpadded.
    return base64.urlsafe_b64encode(f"{kind}:{last_id}".encode()).decode().rstrip("=")


def explain(db: Database, engine, workspace_id: int, before_id: int | None) -> str:
    query, params = runs_query(workspace_id=workspace_id, before_id=before_id, limit=PAGE + 1)
    sql = str(
        query.params(params).compile(dialect=engine.dialect, compile_kwargs={"literal_binds": True})
    )
    prefix = "EXPLAIN (ANALYZE, BUFFERS) " if db.kind == "postgres" else "EXPLAIN QUERY PLAN "
    with engine.connect() as connection:
        connection.exec_driver_sql(prefix + sql).all()  # warm the cache first
        rows = connection.exec_driver_sql(prefix + sql).all()
    if db.kind == "postgres":
        return "\n".join(row[0] for row in rows)
    return "\n".join(str(row[-1]) for row in rows)


# --------------------------------------------------------------------------- processes


def cpu_ticks(pid: int) -> int:
    try:
        fields = Path(f"/proc/{pid}/stat").read_text().rsplit(")", 1)[1].split()
        return int(fields[11]) + int(fields[12])  # utime + stime
    except (OSError, IndexError, ValueError):
        return 0


def children(pid: int) -> list[int]:
    found = []
    for path in Path("/proc").glob("[0-9]*/stat"):
        try:
            stat = path.read_text().rsplit(")", 1)[1].split()
        except OSError:
            continue
        if int(stat[1]) == pid:
            found.append(int(path.parent.name))
    return found


def pids_named(fragment: str) -> list[int]:
    found = []
    for path in Path("/proc").glob("[0-9]*/cmdline"):
        try:
            if fragment in path.read_bytes().replace(b"\0", b" ").decode(errors="replace"):
                found.append(int(path.parent.name))
        except OSError:
            continue
    return found


class CpuMeter:
    """CPU% (100 = one core) of process groups over a measurement (pids found again at the
    end: database backends may come and go)."""

    def __init__(self, groups: dict[str, Callable[[], list[int]]]):
        self.groups = groups
        self.hz = os.sysconf("SC_CLK_TCK")

    def _ticks(self) -> dict[str, dict[int, int]]:
        return {name: {pid: cpu_ticks(pid) for pid in find()} for name, find in self.groups.items()}

    def start(self) -> None:
        self.began = time.monotonic()
        self.ticks = self._ticks()
        self.client = time.process_time()
        self.machine = machine_ticks()

    def stop(self) -> dict[str, float]:
        elapsed = time.monotonic() - self.began
        now = self._ticks()
        used = {
            name: sum(max(0, t - self.ticks[name].get(pid, 0)) for pid, t in pids.items()) / self.hz
            for name, pids in now.items()
        }
        used["client"] = time.process_time() - self.client
        shares = {name: 100 * seconds / elapsed for name, seconds in used.items()}
        busy, total = machine_ticks()
        cores = os.cpu_count() or 1
        shares["machine"] = 100 * cores * (busy - self.machine[0]) / max(1, total - self.machine[1])
        return shares


@contextlib.contextmanager
def serve_api(args, db: Database, redis_url: str, workdir: Path) -> Iterator[tuple[str, int]]:
    port = free_port()
    env = dict(os.environ)
    env.update(
        DATABASE_URL=db.url,
        REDIS_URL=redis_url,
        QUEUE_NAME="hb-apibench",
        DATA_DIR=str(workdir / "data"),
        # The key the workspace's signing secret was written with here (it is encrypted).
        SECRET_KEY=get_settings().effective_secret_key(),
        ALLOW_PRIVATE_TARGETS="true",
        MAX_SCHEDULES_PER_USER="1000000000",
        RATE_LIMIT_PER_MINUTE="0",
        USER_RATE_LIMIT_PER_MINUTE="0",
        LOG_LEVEL="WARNING",
    )
    command = [sys.executable, "-m", "granian", "--interface", "asgi", "--factory"]
    command += ["--host", "127.0.0.1", "--port", str(port), "--log-level", "warning"]
    command += ["--workers", str(args.workers), "--no-access-log"]
    if args.backpressure:
        command += ["--backpressure", str(args.backpressure)]
    command += ["hookboard.api.app:create_api"]
    log("server: " + " ".join(command[1:]))
    server_log = (workdir / "server.log").open("ab")
    process = subprocess.Popen(
        command,
        cwd=PROJECT_ROOT,
        env=env,
        start_new_session=True,
        stdout=server_log,
        stderr=subprocess.STDOUT,
    )
    base = f"http://127.0.0.1:{port}"
    try:
        deadline = time.monotonic() + 60
        while True:
            try:
                with urllib.request.urlopen(f"{base}/health", timeout=2) as response:
                    if response.status == 200:
                        break
            except OSError:
                if process.poll() is not None or time.monotonic() > deadline:
                    raise RuntimeError("the API did not start") from None
                time.sleep(0.2)
        yield base, process.pid
    finally:
        with contextlib.suppress(ProcessLookupError):
            os.killpg(process.pid, signal.SIGTERM)
        try:
            process.wait(timeout=15)
        except subprocess.TimeoutExpired:
            os.killpg(process.pid, signal.SIGKILL)
            process.wait(timeout=5)
        server_log.close()


# --------------------------------------------------------------------------- load


@dataclass
class Sample:
    latencies: list[float] = field(default_factory=list)
    statuses: Counter = field(default_factory=Counter)
    seconds: float = 0.0
    cpu: dict[str, float] = field(default_factory=dict)
    new_sessions: int | None = None  # PostgreSQL backends the API opened meanwhile

    def pct(self, p: float) -> float:
        ordered = sorted(self.latencies)
        index = min(len(ordered) - 1, max(0, math.ceil(p / 100 * len(ordered)) - 1))
        return ordered[index] * 1000

    @property
    def rate(self) -> float:
        return len(self.latencies) / self.seconds


class RawClient:
    """A minimal HTTP/1.1 keep-alive client on asyncio streams: one connection, requests
    in sequence. httpx costs ~2.5 ms of CPU per request here, which on a 2-core machine
    is taken from the server under test (`--client httpx` measures with it anyway)."""

    def __init__(self, host: str, port: int, headers: dict[str, str]):
        self.host, self.port = host, port
        self.head = "".join(f"{name}: {value}\r\n" for name, value in headers.items())

    async def open(self) -> None:
        self.reader, self.writer = await asyncio.open_connection(self.host, self.port)

    async def request(self, method: str, path: str, params=None, json=None) -> tuple[int, bytes]:
        if params:
            path += "?" + urllib.parse.urlencode(params)
        body = b"" if json is None else jsonlib.dumps(json).encode()
        head = f"{method} {path} HTTP/1.1\r\nHost: {self.host}:{self.port}\r\n{self.head}"
        if json is not None:
            head += "Content-Type: application/json\r\n"
        head += f"Content-Length: {len(body)}\r\n\r\n"
        self.writer.write(head.encode() + body)
        status_line = await self.reader.readuntil(b"\r\n")
        status = int(status_line.split()[1])
        length, chunked = 0, False
        while (line := await self.reader.readuntil(b"\r\n")) != b"\r\n":
            name, _, value = line.decode("latin-1").partition(":")
            name = name.strip().lower()
            if name == "content-length":
                length = int(value)
            elif name == "transfer-encoding" and "chunked" in value.lower():
                chunked = True
        if not chunked:
            return status, await self.reader.readexactly(length)
        parts = []
        while size := int((await self.reader.readuntil(b"\r\n")).split(b";")[0], 16):
            parts.append(await self.reader.readexactly(size + 2))
        await self.reader.readuntil(b"\r\n")
        return status, b"".join(part[:-2] for part in parts)

    async def aclose(self) -> None:
        self.writer.close()
        with contextlib.suppress(OSError):
            await self.writer.wait_closed()


class HttpxClient:
    def __init__(self, base: str, headers: dict[str, str]):
        limits = httpx.Limits(max_connections=1, max_keepalive_connections=1)
        self.client = httpx.AsyncClient(base_url=base, headers=headers, limits=limits, timeout=120)

    async def open(self) -> None:
        await self.client.get("/health")

    async def request(self, method: str, path: str, **kwargs) -> tuple[int, bytes]:
        response = await self.client.request(method, path, **kwargs)
        return response.status_code, response.content

    async def aclose(self) -> None:
        await self.client.aclose()


async def drive(args, base: str, token: str, make_request, total: int, clients: int) -> Sample:
    """`clients` clients, each with its own keep-alive connection, send `total` requests
    back to back between them; latency of each. (One shared httpx pool of 100 connections
    costs the client O(connections) per request: it became the bottleneck.)"""
    sample = Sample()
    headers = {"Authorization": f"Bearer {token}"}
    url = urllib.parse.urlsplit(base)
    pool = [
        RawClient(url.hostname, url.port, headers)
        if args.client == "raw"
        else HttpxClient(base, headers)
        for _ in range(clients)
    ]
    try:
        # Open every connection first: no connection set-up in the measurement.
        await asyncio.gather(*(client.open() for client in pool))
        counter = iter(range(total))

        async def one_client(client) -> None:
            for n in counter:
                method, path, kwargs = make_request(n)
                began = time.perf_counter()
                status, _ = await client.request(method, path, **kwargs)
                sample.latencies.append(time.perf_counter() - began)
                sample.statuses[status] += 1

        began = time.perf_counter()
        await asyncio.gather(*(one_client(client) for client in pool))
        sample.seconds = time.perf_counter() - began
    finally:
        await asyncio.gather(*(client.aclose() for client in pool))
    return sample


def sessions_so_far(db: Database) -> int | None:
    """pg_stat_database.sessions of the bench database: a pool that churns (opens and
    closes connections under steady load) shows here; read over the admin database."""
    if not db.name:
        return None
    admin = create_engine(db.admin_url, isolation_level="AUTOCOMMIT")
    try:
        with admin.connect() as connection:
            return connection.execute(
                text("SELECT sessions FROM pg_stat_database WHERE datname = :name"),
                {"name": db.name},
            ).scalar_one()
    finally:
        admin.dispose()


def measure(args, base, token, make_request, total, clients, meter: CpuMeter, db) -> Sample:
    sessions_before = sessions_so_far(db)
    meter.start()
    sample = asyncio.run(drive(args, base, token, make_request, total, clients))
    sample.cpu = meter.stop()
    if sessions_before is not None:
        time.sleep(0.6)  # ended backends report their session count at exit
        sample.new_sessions = sessions_so_far(db) - sessions_before
    return sample


def pages(deep_cursor: str):
    def first(_n):
        return "GET", "/api/v1/runs", {"params": {"limit": PAGE}}

    def deep(_n):
        return "GET", "/api/v1/runs", {"params": {"limit": PAGE, "cursor": deep_cursor}}

    return first, deep


def creates(prefix: str):
    def create(n):
        body = {
            "name": f"{prefix}-{n}",
            "kind": "interval",
            "every": 1,
            "unit": "hours",
            "request": {"url": TARGET_URL, "method": "POST", "body": '{"n": 1}'},
        }
        return "POST", "/api/v1/schedules", {"json": body}

    return create


# --------------------------------------------------------------------------- profiling


def start_profile(args, server_pid: int, label: str) -> tuple[subprocess.Popen, Path] | None:
    if not args.profile:
        return None
    directory = Path(args.profile)
    directory.mkdir(parents=True, exist_ok=True)
    out = directory / f"{label}.collapsed"
    command = [str(Path(sys.executable).with_name("py-spy")), "record", "--format", "raw"]
    command += ["--subprocesses", "--gil", "--rate", "250", "--nonblocking", "-o", str(out)]
    command += ["--pid", str(server_pid)]
    process = subprocess.Popen(command, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
    time.sleep(1.0)  # let py-spy attach
    return process, out


def stop_profile(handle) -> Path | None:
    if handle is None:
        return None
    process, out = handle
    process.send_signal(signal.SIGINT)
    try:
        process.wait(timeout=30)
    except subprocess.TimeoutExpired:
        process.kill()
    return out if out.exists() else None


KEY_FUNCTIONS = [
    # (label, frame name prefix, file fragment): inclusive share of the GIL-holding samples
    ("auth: get_principal", "get_principal (", "api/deps.py"),
    ("GET /runs route", "list_runs (", "routes/runs.py"),
    ("  service.list_runs (query + ORM rows)", "list_runs (", "hookboard/services/__init__.py"),
    ("  RunPublic.of x50 (pydantic from ORM)", "RunPublic.of (", "api/schemas.py"),
    ("POST /schedules route", "create_schedule (", "routes/schedules.py"),
    ("  service.create_schedule", "create_schedule (", "hookboard/services/__init__.py"),
    ("  wake(): Redis publish", "wake (", "routes/schedules.py"),
    ("  Session.commit", "Session.commit (", "sqlalchemy/orm/session.py"),
    ("FastAPI: request body/params validation", "request_params_to_args (", "fastapi/"),
    ("FastAPI: serialize_response (response_model)", "serialize_response (", "fastapi/"),
    ("JSONResponse.render (json.dumps)", "JSONResponse.render (", "starlette/"),
    ("get_session exit: close/rollback", "get_session (", "api/deps.py"),
    ("SQLAlchemy: statement compile", "compile (", "sqlalchemy/"),
    ("psycopg: execute + wait", "Cursor.execute (", "psycopg/"),
]


def summarise_profile(path: Path, top: int) -> str:
    """Where the API workers' Python time goes (py-spy --gil: only the thread holding the
    GIL is sampled, so shares are of CPU spent in Python, not of waiting)."""
    by_package: Counter = Counter()
    by_key: Counter = Counter()
    by_leaf: Counter = Counter()
    total = 0
    for line in path.read_text().splitlines():
        stack, _, count = line.rpartition(" ")
        if not count.isdigit():
            continue
        frames = [f for f in stack.split(";") if not f.startswith("process ")]
        if not frames:
            continue
        n = int(count)
        total += n
        by_package[_package(frames[-1])] += n
        by_leaf[_short(frames[-1])] += n
        for label, name, where in KEY_FUNCTIONS:
            if any(f.startswith(name) and where in f for f in frames):
                by_key[label] += n
    if not total:
        return "  (no samples)"
    share = lambda n: f"{100 * n / total:5.1f}%"  # noqa: E731
    lines = [f"  {total} samples holding the GIL. Self time by package:"]
    lines += [f"    {share(n)}  {name}" for name, n in by_package.most_common(12)]
    lines.append("  Inclusive time of the request's steps:")
    lines += [f"    {share(by_key[label])}  {label}" for label, _, _ in KEY_FUNCTIONS]
    lines.append(f"  Top {top} functions by self time:")
    lines += [f"    {share(n)}  {name}" for name, n in by_leaf.most_common(top)]
    return "\n".join(lines)


def _package(frame: str) -> str:
    where = frame.partition(" (")[2].rstrip(")")
    if where.startswith("<sqlalchemy"):
        return "sqlalchemy"
    parts = where.rsplit(":", 1)[0].split("/")
    return parts[0] if len(parts) > 1 else "stdlib/builtins"


def _short(frame: str) -> str:
    # "function (path/to/module.py:123)" -> "function (to/module.py)"
    name, _, where = frame.partition(" (")
    where = where.rstrip(")").rsplit(":", 1)[0]
    return f"{name} ({'/'.join(Path(where).parts[-2:])})"


# --------------------------------------------------------------------------- report


def spread(values: list[float], fmt: str = "{:.0f}") -> str:
    ordered = sorted(values)
    return "/".join(fmt.format(v) for v in (ordered[0], statistics.median(ordered), ordered[-1]))


def server_errors(workdir: Path) -> Counter:
    """Exceptions in the server log (the 500s), by their unindented "Error: message" line."""
    errors: Counter = Counter()
    path = workdir / "server.log"
    if path.exists():
        for line in path.read_text(errors="replace").splitlines():
            if re.match(r"[A-Za-z_][\w.]*(Error|Exception): ", line):
                errors[line[:150]] += 1
    return errors


def machine_ticks() -> tuple[int, int]:
    """(busy, total) jiffies of the whole machine."""
    values = [int(v) for v in Path("/proc/stat").read_text().split("\n", 1)[0].split()[1:]]
    idle = values[3] + values[4]
    return sum(values) - idle, sum(values)


def report(args, db, results: dict[str, list[Sample]], meta: dict) -> None:
    print()
    print(
        f"{'PostgreSQL' if db.kind == 'postgres' else 'SQLite'}: {meta['runs']:,} runs "
        f"(inserted in {meta['insert_s']:.0f} s), {meta['schedules']} schedules; granian "
        f"--workers {args.workers} --backpressure {args.backpressure or 'default'}; "
        f"{args.clients} {args.client} clients; {args.repeat} x {args.requests} "
        f"requests ({args.creates} creates) per row; min/median/max over the repeats; "
        f"machine speed: a 2M-step Python loop takes {meta['python_loop_ms']:.0f} ms"
    )
    header = (
        f"{'measurement':<27} {'p50 ms':>14} {'p99 ms':>16} {'req/s':>14} "
        f"{'target':>15} {'non-2xx':>8} {'new PG sessions':>16}  cpu% api/db/client/machine"
    )
    print(header)
    print("-" * len(header))
    for name, samples in results.items():
        if not samples:
            continue
        p50 = spread([s.pct(50) for s in samples], "{:.1f}")
        p99 = spread([s.pct(99) for s in samples], "{:.1f}")
        rate = spread([s.rate for s in samples])
        bad = sum(n for s in samples for code, n in s.statuses.items() if not 200 <= code < 300)
        cpu = "/".join(
            f"{statistics.median(s.cpu.get(k, 0) for s in samples):.0f}"
            for k in ("api", "db", "client", "machine")
        )
        if name.startswith("POST"):
            ok = min(s.rate for s in samples) >= args.target_creates
            target = f">={args.target_creates:.0f}/s {'ok' if ok else 'MISS'}"
        elif "1 client" in name:
            target = ""
        else:
            ok = max(s.pct(99) for s in samples) <= args.target_p99_ms
            target = f"p99<={args.target_p99_ms:.0f} {'ok' if ok else 'MISS'}"
        opened = [s.new_sessions for s in samples if s.new_sessions is not None]
        sessions = spread(opened) if opened else "-"
        print(
            f"{name:<27} {p50:>14} {p99:>16} {rate:>14} {target:>15} {bad:>8} {sessions:>16}  {cpu}"
        )
    print()
    print(f"deep-page query plan (cursor id {meta['deep_id']}):")
    print("  " + meta["plan"].replace("\n", "\n  "))
    if meta.get("first_plan"):
        print("first-page query plan:")
        print("  " + meta["first_plan"].replace("\n", "\n  "))
    if meta.get("errors"):
        print("server errors (500s):")
        for line, count in meta["errors"].most_common(5):
            print(f"  {count:5d} x {line}")
    for label, summary in meta.get("profiles", {}).items():
        print(f"\npy-spy, API workers during '{label}':")
        print(summary)


def run(args) -> None:
    with tempfile.TemporaryDirectory(prefix="hookboard-apibench-") as tmp:
        workdir = Path(tmp)
        redis_port = free_port()
        redis_process = start_redis(redis_port, workdir / "redis", workdir / "redis.log")
        redis_url = f"redis://127.0.0.1:{redis_port}/0"
        try:
            with Database.create(args.database, args.admin_url, workdir) as db:
                bench(args, db, redis_url, workdir)
        finally:
            redis_process.terminate()
            redis_process.wait(timeout=10)


def bench(args, db: Database, redis_url: str, workdir: Path) -> None:
    engine = make_engine(db.url)
    log(f"{db.kind}: {db.name or db.url}")
    workspace_id, token = create_user(engine)
    schedule_ids = create_schedules(engine, workspace_id, args.schedules)
    log(f"inserting {args.runs:,} runs ...")
    insert_seconds = insert_runs(db, engine, workspace_id, schedule_ids, args.runs)
    with engine.connect() as connection:
        count = connection.execute(select(func.count()).select_from(Run.__table__)).scalar_one()
    log(f"{count:,} runs in {insert_seconds:.1f} s")
    deep_id = deep_cursor_id(engine, workspace_id)
    deep_cursor = encode_cursor("r", deep_id)
    meta = {
        "runs": count,
        "schedules": args.schedules,
        "insert_s": insert_seconds,
        "deep_id": deep_id,
        "plan": explain(db, engine, workspace_id, deep_id),
        "first_plan": explain(db, engine, workspace_id, None) if args.first_plan else "",
        "profiles": {},
        "python_loop_ms": python_loop_ms(),
    }
    first, deep = pages(deep_cursor)
    results: dict[str, list[Sample]] = {
        "GET /runs first page": [],
        "GET /runs deep page": [],
        "POST /schedules": [],
        "first page, 1 client": [],
        "deep page, 1 client": [],
    }
    with serve_api(args, db, redis_url, workdir) as (base, server_pid):
        time.sleep(1.0)
        meter = CpuMeter(
            {
                "api": lambda: [server_pid, *children(server_pid)],
                # the backends serving this database only (not other users of the server)
                "db": lambda: pids_named(f" {db.name} ") if db.name else [],
            }
        )
        # A deep page must really be deep: its items are the oldest runs.
        check = httpx.get(
            f"{base}/api/v1/runs",
            params={"limit": PAGE, "cursor": deep_cursor},
            headers={"Authorization": f"Bearer {token}"},
            timeout=60,
        )
        check.raise_for_status()
        ids = [item["id"] for item in check.json()["items"]]
        assert len(ids) == PAGE and max(ids) < deep_id, check.text[:300]
        log(f"deep page: ids {ids[0]}..{ids[-1]} (oldest run is {deep_id - PAGE - 10})")

        warm = max(args.clients * 2, 200)
        for rep in range(args.repeat):
            for name, make, total in (
                ("GET /runs first page", first, args.requests),
                ("GET /runs deep page", deep, args.requests),
                ("POST /schedules", creates(f"bench{rep}"), args.creates),
            ):
                warm_make = creates(f"warm{rep}-{name[:3]}") if name.startswith("POST") else make
                measure(args, base, token, warm_make, warm, args.clients, meter, db)
                label = f"{name} #{rep + 1}"
                handle = start_profile(args, server_pid, label.replace(" ", "_").replace("/", ""))
                sample = measure(args, base, token, make, total, args.clients, meter, db)
                path = stop_profile(handle)
                if path:
                    meta["profiles"][label] = summarise_profile(path, args.profile_top)
                results[name].append(sample)
                log(
                    f"{label}: p50 {sample.pct(50):.1f} ms, p99 {sample.pct(99):.1f} ms, "
                    f"{sample.rate:.0f}/s, statuses {dict(sample.statuses)}, "
                    f"cpu { ({k: round(v) for k, v in sample.cpu.items()}) }"
                )
            for name, make in (("first page, 1 client", first), ("deep page, 1 client", deep)):
                sample = measure(args, base, token, make, args.single_requests, 1, meter, db)
                results[name].append(sample)
                log(f"{name} #{rep + 1}: p50 {sample.pct(50):.1f} ms, p99 {sample.pct(99):.1f}")
    engine.dispose()
    meta["errors"] = server_errors(workdir)
    report(args, db, results, meta)


def parse_args(argv=None):
    parser = argparse.ArgumentParser(
        description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter
    )
    parser.add_argument("--database", choices=["postgres", "sqlite"], default="postgres")
    parser.add_argument("--admin-url", default=os.environ.get("BENCH_DATABASE_URL", ADMIN_URL))
    parser.add_argument("--runs", type=int, default=1_000_000)
    parser.add_argument("--schedules", type=int, default=8, help="the runs are spread over them")
    parser.add_argument("--workers", type=int, default=2, help="granian worker processes")
    parser.add_argument(
        "--backpressure",
        type=int,
        default=0,
        help="granian --backpressure (0: its default). It caps open keep-alive connections"
        " per worker, not requests: below the clients per worker, the rest stall for ~60 s",
    )
    parser.add_argument("--client", choices=["raw", "httpx"], default="raw")
    parser.add_argument("--clients", type=int, default=100)
    parser.add_argument("--requests", type=int, default=3000, help="per page measurement")
    parser.add_argument("--creates", type=int, default=2000, help="per create measurement")
    parser.add_argument("--single-requests", type=int, default=200, help="1-client rows")
    parser.add_argument("--repeat", type=int, default=3)
    parser.add_argument("--target-p99-ms", type=float, default=100)
    parser.add_argument("--target-creates", type=float, default=300)
    parser.add_argument("--first-plan", action="store_true", help="also EXPLAIN the first page")
    parser.add_argument("--profile", metavar="DIR", help="py-spy the API workers (raw stacks)")
    parser.add_argument("--profile-top", type=int, default=25)
    return parser.parse_args(argv)


if __name__ == "__main__":
    _args = parse_args()
    if _args.database == "sqlite" and "--runs" not in " ".join(sys.argv):
        _args.runs = 200_000
    run(_args)
