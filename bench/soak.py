"""Soak: the engine at a steady delivery rate for minutes, with API traffic alongside.

Not a test: it prints figures. It reuses bench/engine.py's machinery (a fresh
database, loopback receivers in their own processes, N interval schedules
spread to offer --rate firings/s) and runs one ticker, --workers workers and
the API (granian) against it, while --api-clients threads call the API. Then
it stops the ticker, lets the workers drain, and reports:

* lost runs: firings the schedules were due for (from each schedule's anchor
  to its final next_run_at) with no run recorded, plus runs never finished
  after the drain (must be 0);
* duplicate runs (two runs for one firing) and duplicate deliveries (requests
  the receivers answered beyond the attempts recorded; must be 0);
* the RSS of every process sampled over time, and whether it levels off:
  growth over the second half against the first (after a warm-up);
* API latency p50/p95/p99 and errors under that load; deliveries/s reached.

    .venv/bin/python bench/soak.py                      # 500 deliveries/s for 10 minutes
    .venv/bin/python bench/soak.py --minutes 2 --database sqlite
"""

from __future__ import annotations

import argparse
import contextlib
import math
import os
import random
import signal
import subprocess
import sys
import tempfile
import threading
import time
import urllib.error
import urllib.request
import uuid
from dataclasses import dataclass, field
from datetime import UTC, datetime, timedelta
from pathlib import Path
from types import SimpleNamespace

PROJECT_ROOT = Path(__file__).resolve().parent.parent
if str(PROJECT_ROOT) not in sys.path:
    sys.path.insert(0, str(PROJECT_ROOT))

from redis import Redis  # noqa: E402
from sqlalchemy import func, select  # noqa: E402
from sqlmodel import Session  # noqa: E402

from bench.api import free_port  # noqa: E402
from bench.engine import (  # noqa: E402
    STARTUP_LEAD_SECONDS,
    Database,
    Receivers,
    insert_schedules,
    log,
    percentile,
    shift_overdue,
    status_kb,
    stop_process,
)
from hookboard.domain.tokens import new_session_token  # noqa: E402
from hookboard.models import Attempt, AuthSession, Run, Schedule  # noqa: E402
from hookboard.settings import get_settings  # noqa: E402

UNFINISHED = ("pending", "running", "retrying")
DRAIN_TIMEOUT_SECONDS = 120


# --------------------------------------------------------------------------- memory


@dataclass
class MemorySampler:
    """RSS of every watched process every --sample-seconds, in a thread."""

    interval: float
    pids: dict[str, list[int]]
    samples: dict[str, list[tuple[float, int]]] = field(default_factory=dict)
    _stop: threading.Event = field(default_factory=threading.Event)

    def start(self) -> None:
        threading.Thread(target=self._run, daemon=True).start()

    def stop(self) -> None:
        self._stop.set()

    def _run(self) -> None:
        while not self._stop.is_set():
            now = time.monotonic()
            for name, pids in self.pids.items():
                kb = sum(status_kb(pid, "VmRSS") or 0 for pid in pids)
                if kb:
                    self.samples.setdefault(name, []).append((now, kb))
            self._stop.wait(self.interval)


def _process_tree(pid: int) -> list[int]:
    found = [pid]
    with contextlib.suppress(OSError):
        for child in Path(f"/proc/{pid}/task/{pid}/children").read_text().split():
            found += _process_tree(int(child))
    return found


def memory_verdict(samples: list[tuple[float, int]], warmup: float) -> tuple[str, bool]:
    """'start -> mid -> end MiB (+first/+second half)' and whether growth levels off."""
    start_time = samples[0][0] + warmup
    kept = [kb for at, kb in samples if at >= start_time] or [kb for _at, kb in samples]
    first, mid, last = kept[0], kept[len(kept) // 2], kept[-1]
    grow1, grow2 = (mid - first) / 1024, (last - mid) / 1024
    # Levelling off: the second half grows by at most half the first, or by < 4 MiB.
    ok = grow2 <= max(grow1 / 2, 4.0)
    text = f"{first / 1024:.0f} -> {mid / 1024:.0f} -> {last / 1024:.0f} MiB "
    return text + f"(+{grow1:.1f} first half, +{grow2:.1f} second half)", ok


# --------------------------------------------------------------------------- API traffic


@dataclass
class ApiLoad:
    base: str
    token: str
    schedule_ids: list[int]
    latencies: list[float] = field(default_factory=list)
    errors: dict[str, int] = field(default_factory=dict)
    _stop: threading.Event = field(default_factory=threading.Event)

    def request(self, method: str, path: str, body: bytes | None = None) -> None:
        request = urllib.request.Request(self.base + path, data=body, method=method)
        request.add_header("Authorization", f"Bearer {self.token}")
        if body is not None:
            request.add_header("Content-Type", "application/json")
        started = time.perf_counter()
        try:
            with urllib.request.urlopen(request, timeout=30) as response:
                response.read()
        except urllib.error.HTTPError as error:
            key = f"{method} {path.split('?')[0]}: {error.code}"
            self.errors[key] = self.errors.get(key, 0) + 1
        except OSError as error:
            key = f"{method}: {type(error).__name__}"
            self.errors[key] = self.errors.get(key, 0) + 1
        self.latencies.append(time.perf_counter() - started)

    def one_round(self, rng: random.Random) -> None:
        schedule_id = rng.choice(self.schedule_ids)
        self.request("GET", "/api/v1/schedules?limit=50")
        self.request("GET", f"/api/v1/schedules/{schedule_id}")
        self.request("GET", f"/api/v1/runs?limit=50&schedule_id={schedule_id}")
        self.request("GET", "/api/v1/runs?limit=50")
        body = b'{"name": "soak", "kind": "cron", "cron": "0 3 * * *", "paused": true,'
        body += b' "request": {"url": "http://127.0.0.1:9/none"}}'
        self.request("POST", "/api/v1/schedules", body)
        self.request("GET", "/metrics")

    def run(self, rate: float, seed: int) -> None:
        rng = random.Random(seed)
        interval = 6 / rate  # six requests per round
        while not self._stop.is_set():
            started = time.monotonic()
            self.one_round(rng)
            self._stop.wait(max(0.0, interval - (time.monotonic() - started)))

    def stop(self) -> None:
        self._stop.set()


@contextlib.contextmanager
def serve_api(env: dict[str, str], workdir: Path):
    """The API (granian, one process) on a free port: yields (base URL, pid)."""
    port = free_port()
    command = [sys.executable, "-m", "granian", "--interface", "asgi", "--factory"]
    command += ["--host", "127.0.0.1", "--port", str(port), "--log-level", "warning"]
    command += ["--no-access-log", "hookboard.api.app:create_api"]
    with open(workdir / "api.log", "wb") as api_log:
        process = subprocess.Popen(
            command, cwd=PROJECT_ROOT, env=env, stdout=api_log, stderr=subprocess.STDOUT
        )
        base = f"http://127.0.0.1:{port}"
        try:
            deadline = time.monotonic() + 60
            while True:
                try:
                    with urllib.request.urlopen(f"{base}/health", timeout=2):
                        break
                except OSError:
                    if process.poll() is not None or time.monotonic() > deadline:
                        raise RuntimeError("the API did not start") from None
                    time.sleep(0.2)
            yield base, process.pid
        finally:
            stop_process(process)


def session_token(db: Database) -> str:
    issued = new_session_token()
    with Session(db.engine) as session:
        session.add(
            AuthSession(
                user_id=1,
                token_hash=issued.token_hash,
                expires_at=datetime.now(UTC) + timedelta(days=1),
            )
        )
        session.commit()
    return issued.token


# --------------------------------------------------------------------------- the check


def count_losses(db: Database, first_due: datetime) -> dict[str, int]:
    """Firings each schedule was due for vs runs recorded, duplicates, unfinished runs.

    Interval firings are anchor + k*every; the first is the first at or after
    `first_due` (earlier ones were shifted ahead before the start) and
    next_run_at is the first not fired yet."""
    with db.engine.connect() as connection:
        rows = connection.execute(
            select(
                Schedule.every,
                Schedule.anchor_at,
                Schedule.next_run_at,
                func.count(Run.id),
                func.count(func.distinct(Run.scheduled_for)),
            )
            .select_from(Schedule)
            .outerjoin(Run, (Run.schedule_id == Schedule.id) & (Run.trigger == "schedule"))
            .where(Schedule.name != "soak")
            .group_by(Schedule.id)
        ).all()
        unfinished = connection.execute(
            select(func.count()).select_from(Run).where(Run.status.in_(UNFINISHED))
        ).scalar_one()
        statuses = dict(
            connection.execute(select(Run.status, func.count()).group_by(Run.status)).all()
        )
        attempts = connection.execute(select(func.count()).select_from(Attempt)).scalar_one()
    expected = recorded = duplicates = 0
    for every, anchor, next_run_at, runs, distinct in rows:
        anchor, next_run_at = _aware(anchor), _aware(next_run_at)
        if next_run_at is None:
            continue
        first = max(0, math.ceil((first_due - anchor).total_seconds() / every - 1e-6))
        expected += round((next_run_at - anchor).total_seconds() / every) - first
        recorded += distinct
        duplicates += runs - distinct
    return {
        "expected": expected,
        "recorded": recorded,
        "missing": max(0, expected - recorded),
        "duplicate_runs": duplicates,
        "unfinished": unfinished,
        "attempts": attempts,
        **{f"runs_{status}": count for status, count in statuses.items()},
    }


def _aware(value: datetime | None) -> datetime | None:
    if value is not None and value.tzinfo is None:
        return value.replace(tzinfo=UTC)
    return value


def drain(db: Database, redis: Redis, queue_name: str) -> float:
    """Wait until no run is unfinished and the queue is empty; returns seconds waited."""
    started = time.monotonic()
    while time.monotonic() - started < DRAIN_TIMEOUT_SECONDS:
        with db.engine.connect() as connection:
            left = connection.execute(
                select(func.count()).select_from(Run).where(Run.status.in_(("pending", "running")))
            ).scalar_one()
        if left == 0 and redis.llen(f"rq:queue:{queue_name}") == 0:
            break
        time.sleep(1)
    return time.monotonic() - started


# --------------------------------------------------------------------------- main


@dataclass
class Outcome:
    losses: dict[str, int]
    sampler: MemorySampler
    loads: list[ApiLoad]
    elapsed: float
    drained: float


def soak(args) -> int:
    workdir = Path(tempfile.mkdtemp(prefix="hookboard-soak-"))
    receivers = Receivers(args.receivers, args.delay, max_seconds=args.minutes * 60 + 600)
    db = Database(args.database, args.postgres_admin_url, workdir)
    redis = Redis.from_url(args.redis_url)
    redis.flushdb()  # our own database number only
    queue_name = f"hb-soak-{uuid.uuid4().hex[:8]}"
    processes: list[subprocess.Popen] = []
    answered = None
    try:
        every = max(1, round(args.schedules / args.rate))
        offered = args.schedules / every
        log(f"{args.database}: {args.schedules:,} schedules every {every}s: {offered:,.0f}/s")
        base = datetime.now(UTC) + timedelta(seconds=3 + args.schedules / 30_000)
        insert_schedules(db, SimpleNamespace(schedules=args.schedules), receivers.urls, every, base)
        first_due = max(base, datetime.now(UTC) + timedelta(seconds=STARTUP_LEAD_SECONDS))
        shift_overdue(db, first_due, every)
        env = {
            **os.environ,
            "DATABASE_URL": db.url,
            "REDIS_URL": args.redis_url,
            "QUEUE_NAME": queue_name,
            "ALLOW_PRIVATE_TARGETS": "true",
            "LOG_LEVEL": "WARNING",
            "DATA_DIR": str(workdir / "data"),
            # The key the workspace's signing secret was written with here (it is encrypted).
            "SECRET_KEY": get_settings().effective_secret_key(),
            "RATE_LIMIT_PER_MINUTE": "0",
            "USER_RATE_LIMIT_PER_MINUTE": "0",
            "MAX_SCHEDULES_PER_USER": "100000000",
        }

        def start(script: str, label: str) -> subprocess.Popen:
            logfile = open(workdir / f"{label}.log", "w")  # noqa: SIM115
            process = subprocess.Popen(
                [sys.executable, script], cwd=PROJECT_ROOT, env=env,
                stdout=logfile, stderr=subprocess.STDOUT,
            )  # fmt: skip
            processes.append(process)
            return process

        ticker = start("ticker.py", "ticker")
        workers = [start("worker.py", f"worker{i}") for i in range(args.workers)]
        with serve_api(env, workdir) as (base_url, api_pid):
            pids = {
                "ticker": [ticker.pid],
                **{f"worker{i}": [w.pid] for i, w in enumerate(workers)},
                "api": _process_tree(api_pid),
                **{f"receivers{i}": [pid] for i, pid in enumerate(receivers.pids)},
            }
            loads = [
                ApiLoad(base_url, session_token(db), list(range(1, min(args.schedules, 1000) + 1)))
                for _ in range(args.api_clients)
            ]
            outcome = run_window(args, db, redis, queue_name, ticker, pids, loads, first_due)
        for process in processes:
            stop_process(process)
        answered = receivers.close()
        return report(args, outcome, answered)
    finally:
        for process in processes:
            stop_process(process)
        if answered is None:
            receivers.close()
        db.drop()
        redis.flushdb()
        log(f"logs in {workdir}")


def run_window(args, db, redis, queue_name, ticker, pids, loads, first_due) -> Outcome:
    sampler = MemorySampler(args.sample_seconds, pids)
    while datetime.now(UTC) < first_due:
        time.sleep(0.2)
    started = time.monotonic()
    sampler.start()
    per_client = args.api_rate / len(loads)
    threads = [
        threading.Thread(target=load.run, args=(per_client, i), daemon=True)
        for i, load in enumerate(loads)
    ]
    for thread in threads:
        thread.start()
    deadline = started + args.minutes * 60
    while time.monotonic() < deadline:
        time.sleep(min(30, deadline - time.monotonic()))
        so_far = time.monotonic() - started
        with db.engine.connect() as connection:
            attempts = connection.execute(select(func.count()).select_from(Attempt)).scalar_one()
        log(f"  {so_far:5.0f}s: {attempts:,} attempts ({attempts / so_far:,.0f}/s)")
    for load in loads:
        load.stop()
    for thread in threads:
        thread.join(60)
    elapsed = time.monotonic() - started
    ticker.send_signal(signal.SIGTERM)  # no new firings from here on
    ticker.wait(30)
    drained = drain(db, redis, queue_name)
    sampler.stop()
    return Outcome(count_losses(db, first_due), sampler, loads, elapsed, drained)


def report(args, outcome: Outcome, answered: int) -> int:
    losses, elapsed = outcome.losses, outcome.elapsed
    latencies = sorted(v for load in outcome.loads for v in load.latencies)
    errors: dict[str, int] = {}
    for load in outcome.loads:
        for key, count in load.errors.items():
            errors[key] = errors.get(key, 0) + count
    lost = losses["missing"] + losses["unfinished"]
    extra_deliveries = max(0, answered - losses["attempts"])
    runs = {
        status: losses.get(f"runs_{status}", 0) for status in ("succeeded", "failed", "skipped")
    }
    lines = [
        "",
        f"soak: {args.minutes:g} min, {args.rate:g}/s offered, {args.workers} workers, "
        f"{args.database}",
        f"  runs: {losses['expected']:,} firings due, {losses['recorded']:,} recorded; "
        f"{runs['succeeded']:,} succeeded, {runs['failed']:,} failed, "
        f"{runs['skipped']:,} skipped (overlap policy)",
        f"  deliveries: {losses['attempts']:,} attempts, {losses['attempts'] / elapsed:,.0f}/s; "
        f"the receivers answered {answered:,} (drain took {outcome.drained:.0f} s)",
        f"  LOST runs: {lost} ({losses['missing']} firings without a run, "
        f"{losses['unfinished']} runs unfinished after the drain)",
        f"  DUPLICATE runs: {losses['duplicate_runs']}; duplicate deliveries: {extra_deliveries}",
        "  memory (RSS; after a warm-up of a fifth of the run, start -> middle -> end):",
    ]
    verdicts = []
    for name, samples in outcome.sampler.samples.items():
        text, ok = memory_verdict(samples, warmup=elapsed / 5)
        verdicts.append(ok)
        lines.append(f"    {name:11} {text} {'levels off' if ok else 'STILL GROWING'}")
    p50, p95, p99 = (percentile(latencies, p) * 1000 for p in (50, 95, 99))
    lines.append(
        f"  API: {len(latencies):,} requests ({len(latencies) / elapsed:.1f}/s), "
        f"p50 {p50:.0f} ms, p95 {p95:.0f} ms, p99 {p99:.0f} ms; errors: {errors or 'none'}"
    )
    print("\n".join(lines), flush=True)
    clean = lost == 0 and losses["duplicate_runs"] == 0 and extra_deliveries == 0
    return 0 if clean and all(verdicts) else 1


def parse_args(argv=None):
    parser = argparse.ArgumentParser(
        description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter
    )
    parser.add_argument("--minutes", type=float, default=10)
    parser.add_argument("--rate", type=float, default=500, help="firings offered per second")
    parser.add_argument("--schedules", type=int, help="default: rate x 10 (each every 10 s)")
    parser.add_argument("--database", choices=["postgresql", "sqlite"], default="postgresql")
    parser.add_argument("--workers", type=int, default=2)
    parser.add_argument("--receivers", type=int, default=2, help="receiver processes")
    parser.add_argument("--delay", type=float, default=0.05, help="receiver answer delay (s)")
    parser.add_argument("--api-clients", type=int, default=2)
    parser.add_argument("--api-rate", type=float, default=20, help="API requests/s in all")
    parser.add_argument("--sample-seconds", type=float, default=5)
    parser.add_argument("--redis-url", default="redis://127.0.0.1:6379/14")
    parser.add_argument(
        "--postgres-admin-url", default="postgresql://postgres@127.0.0.1:5432/postgres"
    )
    args = parser.parse_args(argv)
    if args.schedules is None:
        args.schedules = int(args.rate * 10)
    return args


def main(argv=None) -> None:
    sys.exit(soak(parse_args(argv)))


if __name__ == "__main__":
    main()
