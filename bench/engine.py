"""Delivery-engine benchmark: real ticker + worker processes against loopback receivers.

Not a test: it prints figures. For each database it

* creates a fresh database (SQLite file in a temp dir, or `hookboard_bench_<random>`
  on PostgreSQL, dropped at the end) and Redis db 14 (FLUSHDB, never FLUSHALL);
* bulk-inserts N interval schedules (every N/rate seconds, anchors spread uniformly,
  so ~rate firings/s) pointing at receivers that answer after --delay;
* runs `ticker.py` + --workers `worker.py` and measures, over --duration seconds
  after a --warmup, the attempts whose started_at falls in the window:
  deliveries/s and fire lag (attempt.started_at - run.scheduled_for), plus the
  CPU% of every process and the ticker's RSS;
* before that, measures the raw ceiling: the same receivers driven by a bare loop
  of the same HTTP client (bench/raw_load.py), --raw-reps times (machine noise).

    .venv/bin/python bench/engine.py --database both
    .venv/bin/python bench/engine.py --database sqlite --rate 10 --duration 30
    .venv/bin/python bench/engine.py --schedules 1000000 --rate 10 --database postgres --duration 30

`--profile DIR` also records py-spy profiles (collapsed stacks) of the ticker and
workers during the window and prints their top functions (`--profile-idle`: wall
time, waiting included). Every figure is printed with the CPU used by processes
that are not the benchmark's, since a shared 2-core machine makes them noisy.
`--sniffio-shim` is a what-if (a stub `sniffio` module for the engine and raw clients).
"""

from __future__ import annotations

import argparse
import contextlib
import json
import math
import os
import shutil
import signal
import statistics
import subprocess
import sys
import tempfile
import time
import uuid
from collections import Counter
from dataclasses import dataclass, field
from datetime import UTC, datetime, timedelta
from pathlib import Path
from types import SimpleNamespace

PROJECT_ROOT = Path(__file__).resolve().parent.parent
if str(PROJECT_ROOT) not in sys.path:
    sys.path.insert(0, str(PROJECT_ROOT))

from redis import Redis  # noqa: E402
from sqlalchemy import (  # noqa: E402
    BigInteger,
    Float,
    String,
    bindparam,
    case,
    cast,
    create_engine,
    func,
    literal,
    null,
    select,
    text,
    update,
)
from sqlalchemy.engine import make_url  # noqa: E402
from sqlmodel import Session  # noqa: E402

from hookboard.core.db import make_engine  # noqa: E402
from hookboard.core.migrate import upgrade_to_head  # noqa: E402
from hookboard.domain.firing import plan_firing  # noqa: E402
from hookboard.models import Attempt, Run, Schedule  # noqa: E402
from hookboard.services import crud  # noqa: E402
from hookboard.settings import get_settings, normalise_database_url  # noqa: E402

schedules_t = Schedule.__table__
runs_t = Run.__table__
attempts_t = Attempt.__table__

CLK_TCK = os.sysconf("SC_CLK_TCK")
EPOCH = datetime(1970, 1, 1, tzinfo=UTC)
BENCH_DIR = Path(__file__).resolve().parent
STARTUP_LEAD_SECONDS = 5.0  # processes start this long before the first measured firing
SETTLE_SECONDS = 2.0  # after the window, before stopping (lets in-flight attempts finish)


# --- /proc helpers --------------------------------------------------------------------------


def cpu_seconds(pid: int) -> float | None:
    try:
        stat = Path(f"/proc/{pid}/stat").read_text()
    except OSError:
        return None
    rest = stat[stat.rindex(")") + 2 :].split()
    return (int(rest[11]) + int(rest[12])) / CLK_TCK  # utime + stime


def status_kb(pid: int, key: str) -> int | None:
    try:
        for line in Path(f"/proc/{pid}/status").read_text().splitlines():
            if line.startswith(key + ":"):
                return int(line.split()[1])
    except OSError:
        return None
    return None


def pids_named(name: str) -> list[int]:
    found = []
    for entry in Path("/proc").iterdir():
        if entry.name.isdigit():
            try:
                if (entry / "comm").read_text().strip() == name:
                    found.append(int(entry.name))
            except OSError:
                continue
    return found


def machine_ticks() -> tuple[int, int]:
    """(busy, total) jiffies over all cores."""
    values = [int(v) for v in Path("/proc/stat").read_text().splitlines()[0].split()[1:]]
    idle = values[3] + values[4]
    return sum(values) - idle, sum(values)


class CpuMeter:
    """CPU% (of one core) per named process group between start() and stop().

    A group is a list of pids, or a callable returning them (looked up again at
    each sample, for PostgreSQL's backends that come and go)."""

    def __init__(self, groups: dict):
        self.groups = groups
        self.begin: dict[str, dict[int, float]] = {}
        self.result: dict[str, float] = {}
        self.machine = 0.0
        self.others = 0.0

    def _sample(self) -> dict[str, dict[int, float]]:
        sample = {}
        for name, pids in self.groups.items():
            pids = pids() if callable(pids) else pids
            sample[name] = {pid: cpu for pid in pids if (cpu := cpu_seconds(pid)) is not None}
        return sample

    def start(self) -> None:
        self.t0 = time.monotonic()
        self.m0 = machine_ticks()
        self.begin = self._sample()

    def stop(self) -> None:
        elapsed = time.monotonic() - self.t0
        end = self._sample()
        m1 = machine_ticks()
        self.result = {}
        for name in self.groups:
            before = self.begin[name]
            used = sum(cpu - before.get(pid, 0.0) for pid, cpu in end[name].items())
            self.result[name] = 100 * used / elapsed
        busy, total = m1[0] - self.m0[0], m1[1] - self.m0[1]
        # In % of one core, like the groups: 200 = both cores of a 2-core machine busy.
        self.machine = 100 * (os.cpu_count() or 1) * busy / total if total else 0.0
        self.others = max(0.0, self.machine - sum(self.result.values()))


# --- small helpers --------------------------------------------------------------------------


def percentile(sorted_values: list[float], p: float) -> float:
    if not sorted_values:
        return float("nan")
    rank = max(0, min(len(sorted_values) - 1, math.ceil(p / 100 * len(sorted_values)) - 1))
    return sorted_values[rank]


def lag_stats(values: list[float]) -> dict[str, float]:
    values = sorted(values)
    return {
        "p50": percentile(values, 50),
        "p95": percentile(values, 95),
        "p99": percentile(values, 99),
        "max": values[-1] if values else float("nan"),
    }


def ms(seconds: float) -> str:
    if seconds != seconds:  # nan
        return "-"
    return f"{seconds * 1000:.0f}" if seconds < 100 else f"{seconds * 1000:.3g}"


def log(message: str) -> None:
    print(f"[{time.strftime('%H:%M:%S')}] {message}", flush=True)


def machine_busy(seconds: float = 3.0) -> float:
    """CPU busy over `seconds`, in % of one core (200 = a 2-core machine fully busy)."""
    b0, t0 = machine_ticks()
    time.sleep(seconds)
    b1, t1 = machine_ticks()
    return 100 * (os.cpu_count() or 1) * (b1 - b0) / max(1, t1 - t0)


def wait_for_quiet(args) -> float:
    """Wait (at most --quiet-wait s) until other processes leave the machine mostly idle.
    Returns the last busy figure; the run goes ahead anyway after the wait."""
    deadline = time.monotonic() + args.quiet_wait
    while True:
        busy = machine_busy()
        if busy <= args.quiet_threshold or time.monotonic() >= deadline:
            if busy > args.quiet_threshold:
                log(f"  machine still {busy:.0f}% busy (of one core) before the run: noisy figures")
            return busy
        log(f"  machine {busy:.0f}% busy (of one core) by other processes; waiting")
        time.sleep(5)


def sleep_until(epoch: float) -> None:
    while (remaining := epoch - time.time()) > 0:
        time.sleep(min(remaining, 0.5))


def stop_process(process: subprocess.Popen, timeout: float = 30) -> None:
    if process.poll() is None:
        process.terminate()
    try:
        process.wait(timeout=timeout)
    except subprocess.TimeoutExpired:
        process.kill()
        process.wait(10)


def child_env(args) -> dict[str, str]:
    env = dict(os.environ)
    if args.sniffio_shim:
        shim = Path(tempfile.gettempdir()) / "hookboard_bench_sniffio_shim"
        shim.mkdir(exist_ok=True)
        (shim / "sniffio.py").write_text("def current_async_library():\n    return 'asyncio'\n")
        env["PYTHONPATH"] = os.pathsep.join(filter(None, [str(shim), env.get("PYTHONPATH")]))
    return env


# --- receivers and the raw ceiling ----------------------------------------------------------


class Receivers:
    """--receivers processes, each running one asyncio receiver (bench/receiver_server.py)."""

    def __init__(self, count: int, delay: float, max_seconds: float):
        self.processes: list[subprocess.Popen] = []
        self.urls: list[str] = []
        for _ in range(count):
            process = subprocess.Popen(
                [
                    sys.executable,
                    str(BENCH_DIR / "receiver_server.py"),
                    "--delay",
                    str(delay),
                    "--max-seconds",
                    str(max_seconds),
                ],
                stdin=subprocess.PIPE,
                stdout=subprocess.PIPE,
                stderr=subprocess.PIPE,
                text=True,
            )
            self.processes.append(process)
        for process in self.processes:
            line = process.stdout.readline()
            if not line:
                raise RuntimeError(f"receiver failed to start: {process.stderr.read()}")
            self.urls.extend(json.loads(line)["urls"])

    @property
    def pids(self) -> list[int]:
        return [p.pid for p in self.processes]

    def close(self) -> int:
        """Stop the receivers (stdin EOF); returns how many requests they answered."""
        total = 0
        for process in self.processes:
            with contextlib.suppress(OSError):
                process.stdin.close()
        for process in self.processes:
            try:
                process.wait(timeout=15)
                lines = process.stderr.read().strip().splitlines()
                total += json.loads(lines[-1])["requests"]
            except Exception:
                if process.poll() is None:
                    process.kill()
                    process.wait()
        return total


def raw_ceiling(args, receivers: Receivers) -> dict:
    """One measurement: --workers bare client processes for --raw-duration seconds."""
    start_at = time.time() + 3.0  # imports + warm-up
    processes = [
        subprocess.Popen(
            [
                sys.executable,
                str(BENCH_DIR / "raw_load.py"),
                "--urls",
                *receivers.urls,
                "--in-flight",
                str(args.max_in_flight),
                "--clients",
                str(args.http_clients),
                "--start-at",
                str(start_at),
                "--duration",
                str(args.raw_duration),
            ],
            stdout=subprocess.PIPE,
            text=True,
            cwd=PROJECT_ROOT,
            env=child_env(args),
        )
        for _ in range(args.workers)
    ]
    meter = CpuMeter({"client": [p.pid for p in processes], "receivers": receivers.pids})
    sleep_until(start_at)
    meter.start()
    sleep_until(start_at + args.raw_duration)
    meter.stop()
    results = []
    for process in processes:
        out, _ = process.communicate(timeout=args.raw_duration + 60)
        results.append(json.loads(out.strip().splitlines()[-1]))
    ok = sum(r["ok"] for r in results)
    first_error = next((r["first_error"] for r in results if "first_error" in r), None)
    if first_error:
        log(f"  raw client error: {first_error}")
    return {
        "rate": ok / args.raw_duration,
        "errors": sum(r["errors"] + r["bad"] for r in results),
        "cpu": meter.result,
        "machine": meter.machine,
        "others": meter.others,
    }


# --- databases ------------------------------------------------------------------------------


class Database:
    """A fresh database of our own: a SQLite file in a temp dir, or a PostgreSQL database."""

    def __init__(self, kind: str, admin_url: str, workdir: Path):
        self.kind = kind
        self.admin_url = normalise_database_url(admin_url)
        self.name = None
        if kind == "sqlite":
            self.url = f"sqlite:///{workdir / 'bench.db'}"
        else:
            self.name = f"hookboard_bench_{uuid.uuid4().hex[:10]}"
            admin = create_engine(self.admin_url, isolation_level="AUTOCOMMIT")
            try:
                with admin.connect() as connection:
                    connection.execute(text(f'CREATE DATABASE "{self.name}"'))
            finally:
                admin.dispose()
            self.url = (
                make_url(self.admin_url)
                .set(database=self.name)
                .render_as_string(hide_password=False)
            )
        upgrade_to_head(self.url)
        self.engine = make_engine(self.url)

    def drop(self) -> None:
        self.engine.dispose()
        if self.name:
            admin = create_engine(self.admin_url, isolation_level="AUTOCOMMIT")
            try:
                with admin.connect() as connection:
                    connection.execute(text(f'DROP DATABASE IF EXISTS "{self.name}" WITH (FORCE)'))
            finally:
                admin.dispose()


def insert_schedules(db: Database, args, urls: list[str], every: int, base: datetime) -> float:
    """Bulk insert (SQLAlchemy Core) N interval schedules; returns seconds taken.

    Schedule i is anchored at base + i*every/N and first due at its anchor, so
    firings are spread uniformly at N/every per second from `base` on.
    """
    with Session(db.engine) as session:
        user = crud.create_user(session, email="bench@example.com", password="bench password")
        session.commit()
        workspace_id = crud.personal_workspace_id(session, user.id)
    now = datetime.now(UTC)
    constant = {
        "workspace_id": workspace_id,
        "status": "active",
        "paused_reason": None,
        "kind": "interval",
        "cron": None,
        "timezone": "UTC",
        "every": every,
        "unit": "seconds",
        "run_at": None,
        "starts_at": None,
        "ends_at": None,
        "target_id": None,
        "method": "POST",
        "headers": {"Content-Type": "application/json"},
        "timeout_seconds": 10.0,
        "follow_redirects": False,
        "max_attempts": 3,
        "backoff": "exponential",
        "base_delay_seconds": 10.0,
        "max_delay_seconds": 3600.0,
        "jitter": True,
        "misfire": "coalesce",
        "overlap": "skip",
        "last_run_at": None,
        "last_run_id": None,
        "consecutive_failures": 0,
        "created_at": now,
        "updated_at": now,
    }
    n = args.schedules
    started = time.monotonic()
    with db.engine.begin() as connection:
        connection.execute(_series_insert(db.kind, n, every, base, urls, constant))
        if db.kind == "postgresql":
            connection.execute(text("ANALYZE schedules"))
    elapsed = time.monotonic() - started
    check_inserted(db, n, every, base, urls)
    # Sanity: the engine's own planner agrees that the next firing is anchor + every.
    probe = SimpleNamespace(**constant, anchor_at=base, next_run_at=base)
    plan = plan_firing(probe, base, base, misfire="coalesce", misfire_grace=timedelta(seconds=30))
    assert plan.fire_at == base and plan.next_run_at == base + timedelta(seconds=every), plan
    return elapsed


def offset_us(i: int, n: int, every: int) -> int:
    """Schedule i's phase in microseconds: i * every / n, rounded down."""
    return i * every * 1_000_000 // n


def _series_insert(kind: str, n: int, every: int, base: datetime, urls: list[str], constant):
    """INSERT INTO schedules SELECT ... FROM a series 0..n-1: the rows are made by
    the database itself, so 1,000,000 schedules take seconds, not minutes."""
    if kind == "postgresql":
        series = func.generate_series(0, n - 1).table_valued("g").render_derived(name="series")
        g = cast(series.c.g, BigInteger)
        source = [series]
    else:
        seq = select(literal(0).label("g")).cte("series", recursive=True)
        seq = seq.union_all(select(seq.c.g + 1).where(seq.c.g < n - 1))
        g = seq.c.g
        source = [seq]
    base_us = (base - EPOCH) // timedelta(microseconds=1)
    at_us = literal(base_us, BigInteger) + (g * literal(every * 1_000_000, BigInteger)) // n
    if kind == "postgresql":
        at = func.to_timestamp(cast(at_us, Float) / 1_000_000)
    else:
        # SQLAlchemy's SQLite DateTime text: 'YYYY-MM-DD HH:MM:SS.ffffff' (UTC).
        seconds = func.strftime("%Y-%m-%d %H:%M:%S", at_us // 1_000_000, "unixepoch", type_=String)
        at = seconds + func.printf(".%06d", at_us % 1_000_000, type_=String)
    index = cast(g, String)
    values = {
        "name": literal("bench ") + index,
        "url": case({i: url for i, url in enumerate(urls)}, value=g % len(urls)) + "/hook/" + index,
        "body": literal('{"schedule": ') + index + "}",
        "anchor_at": at,
        "next_run_at": at,
    }
    for name, value in constant.items():
        column = schedules_t.c[name]
        if value is None:
            values[name] = null()
        elif name == "headers":
            encoded = literal(json.dumps(value), String)
            values[name] = cast(encoded, column.type) if kind == "postgresql" else encoded
        else:
            values[name] = literal(value, column.type)
    names = list(values)
    return schedules_t.insert().from_select(names, select(*values.values()).select_from(*source))


def check_inserted(db: Database, n: int, every: int, base: datetime, urls: list[str]) -> None:
    """Read a few rows back through the ORM types: times and URLs as planned."""
    probes = sorted({0, 1, n // 2, n - 1})
    with db.engine.connect() as connection:
        count = connection.execute(select(func.count()).select_from(schedules_t)).scalar_one()
        rows = connection.execute(
            select(
                schedules_t.c.name,
                schedules_t.c.url,
                schedules_t.c.anchor_at,
                schedules_t.c.next_run_at,
                schedules_t.c.headers,
                schedules_t.c.created_at,
                schedules_t.c.jitter,
                schedules_t.c.every,
            ).where(schedules_t.c.name.in_([f"bench {i}" for i in probes]))
        ).all()
    assert count == n, (count, n)
    assert len(rows) == len(probes), rows
    for row in rows:
        i = int(row.name.split()[1])
        expected = base + timedelta(microseconds=offset_us(i, n, every))
        assert row.anchor_at == expected == row.next_run_at, (row, expected)
        assert row.url == f"{urls[i % len(urls)]}/hook/{i}", row
        assert row.headers == {"Content-Type": "application/json"}, row
        assert row.created_at.year >= 2000 and row.jitter is True and row.every == every, row


def shift_overdue(db: Database, cutoff: datetime, every: int) -> int:
    """Schedules whose first firing would come before `cutoff` (the insert took longer
    than planned) skip ahead whole periods, so nothing is overdue at start."""
    period = timedelta(seconds=every)
    with db.engine.begin() as connection:
        rows = connection.execute(
            select(schedules_t.c.id, schedules_t.c.next_run_at).where(
                schedules_t.c.status == "active", schedules_t.c.next_run_at < cutoff
            )
        ).all()
        if rows:
            values = []
            for schedule_id, next_run_at in rows:
                k = math.ceil((cutoff - next_run_at) / period)
                values.append({"b_id": schedule_id, "b_next": next_run_at + k * period})
            connection.execute(
                update(schedules_t)
                .where(schedules_t.c.id == bindparam("b_id"))
                .values(next_run_at=bindparam("b_next")),
                values,
            )
    return len(rows)


# --- one engine run -------------------------------------------------------------------------


@dataclass
class EngineResult:
    database: str
    schedules: int
    every: int
    offered: float
    insert_seconds: float
    attempts: int = 0
    ok: int = 0
    error_classes: Counter = field(default_factory=Counter)
    lag: dict = field(default_factory=dict)
    ticker_lag: dict = field(default_factory=dict)
    queue_lag: dict = field(default_factory=dict)
    send_lag: dict = field(default_factory=dict)
    runs_by_status: Counter = field(default_factory=Counter)
    overdue_at_end: int = 0
    queue_len_at_end: int = 0
    cpu: dict = field(default_factory=dict)
    machine: float = 0.0
    others: float = 0.0
    busy_before: float = 0.0
    ticker_rss_kb: int = 0
    ticker_rss_max_kb: int = 0
    ticker_hwm_kb: int = 0
    profiles: dict = field(default_factory=dict)
    duration: float = 0.0
    recovery_seconds: float | None = None  # --kill-worker-after: kill -9 to all caught up

    @property
    def rate(self) -> float:
        return self.attempts / self.duration if self.duration else 0.0


def run_engine(args, kind: str, receivers: Receivers, workdir: Path) -> EngineResult:
    every = max(1, round(args.schedules / args.rate))
    log(
        f"{kind}: {args.schedules:,} schedules, every {every}s -> "
        f"{args.schedules / every:,.1f} firings/s offered"
    )
    busy_before = wait_for_quiet(args)
    db = Database(kind, args.postgres_admin_url, workdir)
    redis = Redis.from_url(args.redis_url)
    redis.flushdb()  # our own database number only
    queue_name = f"hb-bench-{uuid.uuid4().hex[:8]}"
    processes: list[subprocess.Popen] = []
    profilers: list[tuple[str, subprocess.Popen, Path]] = []
    try:
        estimate = 3.0 + args.schedules / 30_000  # seconds the insert should take
        base = datetime.now(UTC) + timedelta(seconds=estimate + STARTUP_LEAD_SECONDS)
        insert_seconds = insert_schedules(db, args, receivers.urls, every, base)
        log(f"  inserted in {insert_seconds:.1f}s ({args.schedules / insert_seconds:,.0f}/s)")
        first_due = max(base, datetime.now(UTC) + timedelta(seconds=STARTUP_LEAD_SECONDS))
        shifted = shift_overdue(db, first_due, every)
        if shifted:
            log(f"  {shifted} schedules moved one period ahead (insert slower than planned)")

        env = {
            **child_env(args),
            "DATABASE_URL": db.url,
            "REDIS_URL": args.redis_url,
            "QUEUE_NAME": queue_name,
            "ALLOW_PRIVATE_TARGETS": "true",
            "LOG_LEVEL": "WARNING",
            "DELIVERY_BATCH_SIZE": str(args.batch_size),
            "WORKER_MAX_IN_FLIGHT": str(args.max_in_flight),
            "WORKER_HTTP_CLIENTS": str(args.http_clients),
            "DATA_DIR": str(workdir / "data"),
            # The key the schedules' owner (and signing secret) was written with here.
            "SECRET_KEY": get_settings().effective_secret_key(),
            "PYTHONUNBUFFERED": "1",
        }

        def start(script: str, label: str) -> subprocess.Popen:
            logfile = open(workdir / f"{kind}-{label}.log", "w")  # noqa: SIM115
            process = subprocess.Popen(
                [sys.executable, script],
                cwd=PROJECT_ROOT,
                env=env,
                stdout=logfile,
                stderr=subprocess.STDOUT,
            )
            processes.append(process)
            return process

        ticker = start("ticker.py", "ticker")
        workers = [start("worker.py", f"worker{i}") for i in range(args.workers)]

        window_start = first_due.timestamp() + args.warmup
        window_end = window_start + args.duration
        groups = {
            "ticker": [ticker.pid],
            **{f"worker{i}": [w.pid] for i, w in enumerate(workers)},
            "receivers": receivers.pids,
            "redis(all)": pids_named("redis-server"),
        }
        if kind == "postgresql":
            groups["postgres(all dbs)"] = lambda: pids_named("postgres")
        meter = CpuMeter(groups)
        sleep_until(window_start)
        for process in processes:
            if process.poll() is not None:
                raise RuntimeError(f"an engine process exited early; see logs in {workdir}")
        if args.profile:
            profilers = start_profilers(args, kind, ticker, workers)
        meter.start()
        rss_samples = []
        kill_at = None
        if args.kill_worker_after is not None:
            kill_at = window_start + args.kill_worker_after
        killed = False
        while time.time() < window_end:
            rss_samples.append(status_kb(ticker.pid, "VmRSS") or 0)
            if kill_at is not None and not killed and time.time() >= kill_at:
                workers[0].kill()
                killed = True
                log(f"  kill -9 worker0 at +{time.time() - window_start:.1f}s of the window")
            time.sleep(min(1.0, max(0.0, window_end - time.time())))
        meter.stop()
        recovery = caught_up_after(db, kill_at) if killed else None
        end_dt = datetime.fromtimestamp(window_end, UTC)
        rss_end = status_kb(ticker.pid, "VmRSS") or 0
        hwm = status_kb(ticker.pid, "VmHWM") or 0
        with db.engine.connect() as connection:
            overdue = connection.execute(
                select(func.count())
                .select_from(schedules_t)
                .where(
                    schedules_t.c.status == "active",
                    schedules_t.c.next_run_at < end_dt - timedelta(seconds=1),
                )
            ).scalar_one()
        queue_len = redis.llen(f"rq:queue:{queue_name}")
        time.sleep(SETTLE_SECONDS)
        for _, profiler, _ in profilers:
            try:
                profiler.wait(timeout=60)
            except subprocess.TimeoutExpired:
                profiler.kill()
        for process in processes:
            stop_process(process)

        result = EngineResult(
            database=kind,
            schedules=args.schedules,
            every=every,
            offered=args.schedules / every,
            insert_seconds=insert_seconds,
            duration=args.duration,
            cpu=meter.result,
            machine=meter.machine,
            others=meter.others,
            busy_before=busy_before,
            ticker_rss_kb=rss_end,
            ticker_rss_max_kb=max([*rss_samples, rss_end]),
            ticker_hwm_kb=hwm,
            overdue_at_end=overdue,
            queue_len_at_end=queue_len,
            recovery_seconds=recovery,
        )
        collect(db, result, datetime.fromtimestamp(window_start, UTC), end_dt)
        for label, _, path in profilers:
            result.profiles[label] = summarise_profile(path)
        return result
    finally:
        for _, profiler, _ in profilers:
            if profiler.poll() is None:
                profiler.kill()
                profiler.wait()
        for process in processes:
            stop_process(process)
        redis.flushdb()
        redis.close()
        db.drop()


def caught_up_after(db: Database, kill_at: float, timeout: float = 600) -> float | None:
    """Seconds from the kill until no run due before it is unfinished (the dead
    worker's runs recovered through their leases, the backlog delivered)."""
    due_before = datetime.fromtimestamp(kill_at, UTC)
    deadline = time.time() + timeout
    while time.time() < deadline:
        with db.engine.connect() as connection:
            unfinished = connection.execute(
                select(func.count())
                .select_from(runs_t)
                .where(
                    runs_t.c.scheduled_for < due_before,
                    runs_t.c.status.in_(("pending", "running", "retrying")),
                )
            ).scalar_one()
        if not unfinished:
            return time.time() - kill_at
        time.sleep(0.5)
    return None


def collect(db: Database, result: EngineResult, start: datetime, end: datetime) -> None:
    with db.engine.connect() as connection:
        rows = connection.execute(
            select(
                attempts_t.c.started_at,
                attempts_t.c.number,
                attempts_t.c.error_class,
                runs_t.c.scheduled_for,
                runs_t.c.created_at,
                runs_t.c.started_at.label("claimed_at"),
            )
            .select_from(attempts_t.join(runs_t, runs_t.c.id == attempts_t.c.run_id))
            .where(attempts_t.c.started_at >= start, attempts_t.c.started_at < end)
        ).all()
        statuses = connection.execute(
            select(runs_t.c.status, func.count())
            .where(runs_t.c.scheduled_for >= start, runs_t.c.scheduled_for < end)
            .group_by(runs_t.c.status)
        ).all()
    result.attempts = len(rows)
    result.error_classes = Counter(row.error_class for row in rows)
    result.ok = result.error_classes.get("success", 0)
    firsts = [row for row in rows if row.number == 1]
    result.lag = lag_stats([(r.started_at - r.scheduled_for).total_seconds() for r in firsts])
    result.ticker_lag = lag_stats(
        [(r.created_at - r.scheduled_for).total_seconds() for r in firsts]
    )
    result.queue_lag = lag_stats([(r.claimed_at - r.created_at).total_seconds() for r in firsts])
    result.send_lag = lag_stats([(r.started_at - r.claimed_at).total_seconds() for r in firsts])
    result.runs_by_status = Counter(dict(statuses))


# --- profiling (optional) -------------------------------------------------------------------


def start_profilers(args, kind, ticker, workers) -> list[tuple[str, subprocess.Popen, Path]]:
    py_spy = Path(sys.executable).parent / "py-spy"
    if not py_spy.exists():
        raise SystemExit("--profile needs py-spy: .venv/bin/pip install py-spy")
    out_dir = Path(args.profile)
    out_dir.mkdir(parents=True, exist_ok=True)
    duration = max(1, int(min(args.profile_seconds, args.duration)))
    started = []
    for label, process in [("ticker", ticker)] + [(f"worker{i}", w) for i, w in enumerate(workers)]:
        path = out_dir / f"{kind}-{label}.txt"  # collapsed stacks
        profiler = subprocess.Popen(
            [
                str(py_spy),
                "record",
                "--nonblocking",
                "--threads",
                *(["--idle"] if args.profile_idle else []),
                "-r",
                "50",
                "-d",
                str(duration),
                "-f",
                "raw",
                "-o",
                str(path),
                "--pid",
                str(process.pid),
            ],
            stdout=subprocess.DEVNULL,
            stderr=subprocess.DEVNULL,
        )
        started.append((label, profiler, path))
    return started


def summarise_profile(path: Path, top: int = 12) -> dict:
    """Self and inclusive sample shares per function from py-spy's collapsed stacks."""
    if path.suffix != ".txt" or not path.exists():
        return {}
    self_counts: Counter = Counter()
    inclusive: Counter = Counter()
    threads: Counter = Counter()
    total = 0
    for line in path.read_text().splitlines():
        stack, _, count = line.rpartition(" ")
        if not stack or not count.isdigit():  # py-spy may write a truncated last line
            continue
        count = int(count)
        frames = stack.split(";")
        total += count
        threads[frames[0]] += count
        frames = frames[1:]
        if not frames:
            continue
        self_counts[_short(frames[-1])] += count
        for name in {_short(f) for f in frames if not any(b in f for b in BOILERPLATE)}:
            inclusive[name] += count
    return {
        "samples": total,
        "threads": threads.most_common(6),
        "self": self_counts.most_common(top),
        "inclusive": inclusive.most_common(top),
    }


BOILERPLATE = ("(threading.py:", "(asyncio/base_events.py:", "(asyncio/events.py:", "<module>")


def _short(frame: str) -> str:
    # "func (path/to/module.py:123)" -> "func (module.py)"
    name, _, where = frame.partition(" (")
    where = where.rstrip(")")
    file = where.rsplit(":", 1)[0]
    parts = Path(file).parts
    return f"{name} ({'/'.join(parts[-2:])})"


# --- report ---------------------------------------------------------------------------------


def print_report(args, raws: list[dict], results: list[EngineResult]) -> None:
    print()
    print("=" * 100)
    print(
        f"Hookboard engine benchmark: {args.schedules:,} schedules, rate {args.rate}/s, "
        f"delay {args.delay}s, {args.workers} worker(s), duration {args.duration}s "
        f"(warm-up {args.warmup}s), batch {args.batch_size}, in-flight {args.max_in_flight} "
        f"over {args.http_clients} pools, {os.cpu_count()} cores"
        + ("; WHAT-IF: sniffio stub on PYTHONPATH" if args.sniffio_shim else "")
    )
    raw_median = raw_ms = None
    if raws:
        per_request = [10 * r["cpu"]["client"] / r["rate"] for r in raws if r["rate"]]
        raw_ms = statistics.median(per_request) if per_request else None
        rates = sorted(r["rate"] for r in raws)
        raw_median = statistics.median(rates)
        print(
            f"Raw ceiling ({len(raws)} x {args.raw_duration}s, {args.workers} client process(es)): "
            f"min {rates[0]:,.0f}  median {raw_median:,.0f}  max {rates[-1]:,.0f} req/s  "
            f"(errors {sum(r['errors'] for r in raws)}; client CPU "
            + ", ".join(f"{r['cpu']['client']:.0f}%" for r in raws)
            + "; receivers CPU "
            + ", ".join(f"{r['cpu']['receivers']:.0f}%" for r in raws)
            + "; other processes (not the benchmark's) "
            + ", ".join(f"{r['others']:.0f}%" for r in raws)
            + " of one core)"
        )
    print("-" * 100)
    header = (
        f"{'database':<11}{'offered/s':>10}{'deliv/s':>9}{'ok%':>6}"
        f"{'lag p50':>9}{'p95':>7}{'p99':>7}{'max':>8}{'engine/raw':>11}"
    )
    print(header + "   (lag in ms)")
    for r in results:
        ratio = f"{r.rate / raw_median:.2f}" if raw_median else "-"
        ok = 100 * r.ok / r.attempts if r.attempts else 0
        print(
            f"{r.database:<11}{r.offered:>10,.1f}{r.rate:>9,.1f}{ok:>6.1f}"
            f"{ms(r.lag['p50']):>9}{ms(r.lag['p95']):>7}{ms(r.lag['p99']):>7}"
            f"{ms(r.lag['max']):>8}{ratio:>11}"
        )
    print("-" * 100)
    for r in results:
        print(f"{r.database}:")
        errors = dict(r.error_classes - Counter(success=r.ok)) or 0
        print(
            f"  insert {r.schedules:,} schedules: {r.insert_seconds:.1f}s; every {r.every}s; "
            f"attempts in window {r.attempts:,}; errors {errors}"
        )
        print(
            "  lag stages p50/p99 ms: ticker (run.created-scheduled) "
            f"{ms(r.ticker_lag['p50'])}/{ms(r.ticker_lag['p99'])}; "
            f"queue+claim (run.started-created) {ms(r.queue_lag['p50'])}/{ms(r.queue_lag['p99'])}; "
            f"send (attempt.started-claimed) {ms(r.send_lag['p50'])}/{ms(r.send_lag['p99'])}"
        )
        print(
            f"  runs scheduled in window by status: {dict(r.runs_by_status)}; at window end: "
            f"{r.overdue_at_end} schedules overdue >1s, {r.queue_len_at_end} jobs queued in RQ"
        )
        if r.recovery_seconds is not None:
            print(
                f"  after kill -9 of worker0: every run due before it final "
                f"{r.recovery_seconds:.1f}s later"
            )
        print(
            "  CPU% of one core over the window: "
            + ", ".join(f"{k} {v:.0f}" for k, v in r.cpu.items())
            + f"; other processes (not the benchmark's) {r.others:.0f}"
            + f"; machine {r.machine:.0f} of {100 * (os.cpu_count() or 1)}"
            + f" (busy {r.busy_before:.0f} just before the run)"
        )
        workers_cpu = sum(v for k, v in r.cpu.items() if k.startswith("worker"))
        if r.rate:
            print(
                f"  CPU per delivery: workers {10 * workers_cpu / r.rate:.2f} ms, "
                f"ticker {10 * r.cpu.get('ticker', 0) / r.rate:.2f} ms"
                + (f" (raw client: {raw_ms:.2f} ms per request)" if raw_ms else "")
            )
        print(
            f"  ticker RSS: {r.ticker_rss_kb / 1024:.0f} MiB at end, "
            f"{r.ticker_rss_max_kb / 1024:.0f} MiB max sampled, "
            f"VmHWM {r.ticker_hwm_kb / 1024:.0f} MiB"
        )
        for label, summary in r.profiles.items():
            if not summary:
                continue
            kind_of = "wall-clock (idle included)" if args.profile_idle else "non-idle"
            print(f"  py-spy {label}: {summary['samples']} {kind_of} samples")
            total = summary["samples"] or 1
            print(
                "    threads: "
                + "; ".join(f"{name} {100 * c / total:.0f}%" for name, c in summary["threads"])
            )
            print("    top self:")
            for name, c in summary["self"]:
                print(f"      {100 * c / total:5.1f}%  {name}")
            print("    top inclusive:")
            for name, c in summary["inclusive"]:
                print(f"      {100 * c / total:5.1f}%  {name}")
    print("=" * 100)


def parse_args(argv=None):
    parser = argparse.ArgumentParser(
        description=__doc__, formatter_class=argparse.RawTextHelpFormatter
    )
    parser.add_argument("--schedules", type=int, default=10_000)
    parser.add_argument("--rate", type=float, default=1000, help="firings per second offered")
    parser.add_argument("--delay", type=float, default=0.05, help="receiver answer delay (s)")
    parser.add_argument(
        "--workers",
        type=int,
        default=None,
        help="worker processes (default 2; 1 above 100k schedules)",
    )
    parser.add_argument("--duration", type=float, default=60)
    parser.add_argument(
        "--kill-worker-after",
        type=float,
        metavar="SECONDS",
        help="kill -9 worker0 this far into the window; report the recovery time",
    )
    parser.add_argument("--warmup", type=float, default=5)
    parser.add_argument("--database", choices=["sqlite", "postgres", "both"], default="both")
    parser.add_argument("--receivers", type=int, default=2, help="receiver processes")
    parser.add_argument("--raw-duration", type=float, default=12)
    parser.add_argument(
        "--raw-reps",
        type=int,
        default=None,
        help="raw ceiling runs (default 3; 0 above 100k schedules)",
    )
    parser.add_argument("--batch-size", type=int, default=100, help="DELIVERY_BATCH_SIZE")
    parser.add_argument("--max-in-flight", type=int, default=256, help="WORKER_MAX_IN_FLIGHT")
    parser.add_argument("--http-clients", type=int, default=1, help="WORKER_HTTP_CLIENTS")
    parser.add_argument("--redis-url", default="redis://127.0.0.1:6379/14")
    parser.add_argument(
        "--postgres-admin-url", default="postgresql://postgres@127.0.0.1:5432/postgres"
    )
    parser.add_argument("--profile", metavar="DIR", help="py-spy record ticker+workers into DIR")
    parser.add_argument("--profile-seconds", type=float, default=20)
    parser.add_argument(
        "--profile-idle",
        action="store_true",
        help="include waiting threads in the profile (where wall time goes, not CPU)",
    )
    parser.add_argument(
        "--quiet-wait",
        type=float,
        default=20,
        help="wait up to this long before each measurement for other load to pass",
    )
    parser.add_argument("--quiet-threshold", type=float, default=40, help="%% of one core")
    parser.add_argument(
        "--sniffio-shim",
        action="store_true",
        help="what-if: give engine and raw clients a stub `sniffio` module (httpcore imports\n"
        "it on every request and, when it is missing, pays for a failed import each time)",
    )
    args = parser.parse_args(argv)
    big = args.schedules > 100_000
    if args.workers is None:
        args.workers = 1 if big else 2
    if args.raw_reps is None:
        args.raw_reps = 0 if big else 3
    for url in (args.redis_url, args.postgres_admin_url):
        host = make_url(url.replace("redis://", "postgresql://", 1)).host if "://" in url else None
        if host not in ("127.0.0.1", "::1", "localhost"):
            raise SystemExit(f"loopback only: {url}")
    if make_url(args.redis_url.replace("redis://", "postgresql://", 1)).database in (None, "", "0"):
        raise SystemExit("use a Redis database number of the benchmark's own (e.g. /14)")
    return args


def main(argv=None) -> None:
    args = parse_args(argv)
    kinds = {"sqlite": ["sqlite"], "postgres": ["postgresql"], "both": ["sqlite", "postgresql"]}
    workdir = Path(tempfile.mkdtemp(prefix="hookboard_bench_"))
    # Bounded: receivers stop by themselves after this long.
    budget = 600 + len(kinds[args.database]) * (args.duration + args.schedules / 5000 + 120)
    receivers = Receivers(args.receivers, args.delay, budget)
    log(f"receivers: {receivers.urls}; workdir {workdir}")
    signal.signal(signal.SIGTERM, lambda *_: sys.exit(1))
    results: list[EngineResult] = []
    raws: list[dict] = []
    failed = False
    try:
        for i in range(args.raw_reps):
            wait_for_quiet(args)
            raws.append(raw_ceiling(args, receivers))
            log(f"raw ceiling {i + 1}/{args.raw_reps}: {raws[-1]['rate']:,.0f} req/s")
        for kind in kinds[args.database]:
            result = run_engine(args, kind, receivers, workdir)
            log(
                f"{kind}: {result.rate:,.1f} deliveries/s, lag p50 {ms(result.lag['p50'])} ms "
                f"p99 {ms(result.lag['p99'])} ms"
            )
            results.append(result)
    except BaseException:
        failed = True
        raise
    finally:
        total = receivers.close()
        log(f"receivers answered {total:,} requests in all")
        if failed:
            log(f"engine logs kept in {workdir}")
        else:
            shutil.rmtree(workdir, ignore_errors=True)
    print_report(args, raws, results)


if __name__ == "__main__":
    main()
