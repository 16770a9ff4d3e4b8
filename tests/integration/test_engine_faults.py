"""The delivery engine survives crashes: kill -9 of a worker or a ticker, a Redis
that comes back empty, and several tickers and workers racing over the same work.

Every test runs the real ticker.py / worker.py processes on both databases and
checks the database record (runs, attempts, the unique firing constraint) and
what a real HTTP receiver on 127.0.0.1 saw. The processes use a private
redis-server of this module: the shared test database (db 13) is FLUSHDB'ed by
any other test session running at the same time, which would drop our jobs.
"""

from __future__ import annotations

import contextlib
import itertools
import math
import os
import signal
import subprocess
import time
from collections import Counter
from datetime import UTC, datetime, timedelta
from pathlib import Path

import pytest
from redis import Redis
from sqlalchemy import func, select
from sqlalchemy.exc import IntegrityError
from sqlmodel import Session

from hookboard.engine.claim import claim_runs
from hookboard.engine.dispatch import dispatch_due, recover_stale_runs
from hookboard.models import Attempt, Run, RunStatus, Schedule
from hookboard.services import crud
from tests.support.engine import (
    EngineProcesses,
    attempts_of,
    get_schedule,
    make_schedule,
    make_workspace,
    runs_of,
    wait_until,
)
from tests.support.receiver import Receiver

runs_table = Run.__table__
attempts_table = Attempt.__table__

FINAL = {RunStatus.succeeded, RunStatus.failed, RunStatus.skipped}
SECOND = timedelta(seconds=1)


def _now() -> datetime:
    return datetime.now(UTC)


def _next_whole_second(after: float = 0) -> datetime:
    """A whole UTC second at least `after` seconds from now (instants easy to compare)."""
    return datetime.fromtimestamp(math.ceil(time.time() + after), UTC)


def _firing_counts(engine, schedule_id: int | None = None) -> tuple[int, int]:
    """(runs, distinct (schedule_id, scheduled_for)): equal when no firing is duplicated."""
    where = [] if schedule_id is None else [runs_table.c.schedule_id == schedule_id]
    distinct = (
        select(runs_table.c.schedule_id, runs_table.c.scheduled_for)
        .where(*where)
        .distinct()
        .subquery()
    )
    with engine.connect() as connection:
        total = connection.execute(select(func.count()).select_from(runs_table).where(*where))
        unique = connection.execute(select(func.count()).select_from(distinct))
        return total.scalar_one(), unique.scalar_one()


def _assert_firing_is_unique(engine, run: Run) -> None:
    """The database itself refuses a second run for the same firing."""
    with engine.connect() as connection, pytest.raises(IntegrityError):
        connection.execute(
            runs_table.insert().values(
                workspace_id=run.workspace_id,
                schedule_id=run.schedule_id,
                scheduled_for=run.scheduled_for,
                trigger="schedule",
                status=RunStatus.skipped,
                attempt_count=0,
                max_attempts=1,
                created_at=_now(),
            )
        )


def _unfinished(engine, scheduled_before: datetime | None = None) -> list[tuple[int, str]]:
    query = select(runs_table.c.id, runs_table.c.status).where(
        runs_table.c.status.not_in([s.value for s in FINAL])
    )
    if scheduled_before is not None:
        query = query.where(runs_table.c.scheduled_for < scheduled_before)
    with engine.connect() as connection:
        return list(connection.execute(query))


def _children(pid: int) -> list[int]:
    """Live child processes of `pid` (a worker forks RQ's scheduler)."""
    found = []
    for entry in Path("/proc").iterdir():
        if not entry.name.isdigit():
            continue
        try:
            fields = (entry / "stat").read_text().rsplit(")", 1)[1].split()
        except (OSError, IndexError):
            continue
        if int(fields[1]) == pid and fields[0] != "Z":
            found.append(int(entry.name))
    return found


def _alive(pid: int) -> bool:
    try:
        return (Path("/proc") / str(pid) / "stat").read_text().rsplit(")", 1)[1].split()[0] != "Z"
    except OSError:
        return False


def _kill_now(pids: list[int]) -> None:
    for pid in pids:
        with contextlib.suppress(ProcessLookupError):
            os.kill(pid, signal.SIGKILL)


def _kill_worker(processes: EngineProcesses, worker: subprocess.Popen) -> None:
    """kill -9 of the whole worker, its forked RQ scheduler included (as when its
    container or cgroup is killed); see test_kill_9_of_a_worker_leaves_no_orphan."""
    children = _children(worker.pid)
    processes.kill(worker)
    _kill_now(children)


# --------------------------------------------------------------------------------------
# 1. kill -9 of a worker in the middle of a delivery


def test_a_delivery_cut_by_kill_9_of_its_worker_is_sent_again_under_the_same_id(
    engine, database_url, engine_redis_url
):
    workspace_id = make_workspace(engine)
    # The first request is answered after 3 s: long enough to kill its worker meanwhile.
    with (
        Receiver(delay=3) as receiver,
        EngineProcesses(database_url, engine_redis_url, LEASE_GRACE_SECONDS="1") as processes,
    ):
        schedule_id = make_schedule(
            engine,
            workspace_id,
            kind="interval",
            every=1,
            unit="hours",  # fires once now, then not again during the test
            url=receiver.url + "/hook",
            timeout_seconds=2,
            overlap="allow",
        )
        processes.ticker()
        worker = processes.worker()
        [first] = receiver.wait_for(1, timeout=20)
        receiver.set_response(delay=0)  # later requests are answered at once
        _kill_worker(processes, worker)
        [run] = runs_of(engine, schedule_id)
        assert run.status == RunStatus.running  # claimed by the worker that died
        assert attempts_of(engine, run.id) == []

        processes.worker()
        wait_until(
            lambda: runs_of(engine, schedule_id)[0].status in FINAL, timeout=15, interval=0.2
        )
        requests = receiver.wait_for(2, timeout=5)

    [run] = runs_of(engine, schedule_id)
    assert run.status == RunStatus.succeeded
    # The dead worker's claim took attempt 1 and recorded nothing: its request may
    # or may not have been answered, so the row is missing, the number is not reused.
    assert run.attempt_count == 2 and run.status_code == 200
    [attempt] = attempts_of(engine, run.id)
    assert (attempt.number, attempt.status_code, attempt.error_class) == (2, 200, "success")
    # At least once, under one id: the receiver can deduplicate.
    ids = [request.headers["webhook-id"] for request in requests]
    assert ids == [run.delivery_key, run.delivery_key]
    assert first.headers["webhook-id"] == attempt.request_headers["webhook-id"]
    assert _unfinished(engine) == []


def test_a_running_run_whose_lease_ran_out_is_claimable_once_recovery_requeues_it(engine):
    """The same path without processes: the orphan's lease runs out, the ticker's
    recovery queues it again, and the next worker to see the job must claim it."""
    workspace_id = make_workspace(engine)
    schedule_id = make_schedule(
        engine, workspace_id, kind="interval", every=1, unit="hours", url="http://127.0.0.1:9/"
    )
    now = _now()
    with Session(engine) as session:
        run = Run(
            workspace_id=workspace_id,
            schedule_id=schedule_id,
            scheduled_for=now - 10 * SECOND,
            status=RunStatus.running,  # claimed by a worker that then died
            started_at=now - 10 * SECOND,
            created_at=now - 10 * SECOND,
            lease_expires_at=now - SECOND,
        )
        session.add(run)
        session.commit()
        run_id = run.id
    grace = timedelta(seconds=30)
    assert recover_stale_runs(engine, now, lease_grace=grace) == [run_id]
    # A worker dequeues the recovered job a moment later.
    claimed = claim_runs(engine, [run_id], now + timedelta(milliseconds=50), lease_grace=grace)
    assert [c.run_id for c in claimed] == [run_id]


# --------------------------------------------------------------------------------------
# 2. kill -9 of the ticker


# A skip grace well under the downtime (3 s and more) but above the odd late wake-up of
# a ticker on a busy 2-core machine: a ticker's first, cold transaction can make the
# next instant a few hundred ms late, which 0.5 s would already drop.
MISFIRE_GRACE = {"coalesce": 0.5, "skip": 1.5}
DOWNTIME_SECONDS = 3
# Short, so that runs a killed ticker recorded but never queued come back soon.
LEASE_GRACE_SECONDS = 5


@pytest.mark.parametrize("misfire", ["coalesce", "skip"])
def test_a_ticker_killed_and_restarted_neither_duplicates_nor_replays_missed_firings(
    engine, database_url, engine_redis_url, misfire
):
    workspace_id = make_workspace(engine)
    grace = MISFIRE_GRACE[misfire]
    with (
        Receiver() as receiver,
        EngineProcesses(
            database_url,
            engine_redis_url,
            MISFIRE_GRACE_SECONDS=str(grace),
            LEASE_GRACE_SECONDS=str(LEASE_GRACE_SECONDS),
        ) as processes,
    ):
        ticker = processes.ticker()
        processes.worker()
        # Whole seconds, late enough for the processes to be up: no firing is late
        # except the ones the test makes late.
        starts_at = _next_whole_second(3)
        schedule_id = make_schedule(
            engine,
            workspace_id,
            kind="interval",
            every=1,
            unit="seconds",
            starts_at=starts_at,
            url=receiver.url + "/tick",
            misfire=misfire,
            overlap="allow",
        )
        wait_until(lambda: len(runs_of(engine, schedule_id)) >= 3, timeout=15)
        processes.kill(ticker)
        before = runs_of(engine, schedule_id)
        time.sleep(DOWNTIME_SECONDS)  # the ticker is down: 3 or 4 instants are missed
        restarted_at = _now()
        new_ticker = processes.ticker()
        wait_until(
            lambda: sum(r.scheduled_for > restarted_at for r in runs_of(engine, schedule_id)) >= 3,
            timeout=15,
        )
        # A ticker killed between recording runs and queueing them leaves them to
        # the next one, once their lease runs out: let the new ticker recover them.
        wait_until(
            lambda: not _unfinished(engine, scheduled_before=restarted_at),
            timeout=LEASE_GRACE_SECONDS + 20,
        )
        processes.stop(new_ticker)  # no more firings while we look; its last tick queued
        wait_until(lambda: not _unfinished(engine), timeout=15)

    runs = sorted(runs_of(engine, schedule_id), key=lambda r: r.scheduled_for)
    instants = [r.scheduled_for for r in runs]
    # No duplicate: distinct instants, the database's own count, and its constraint.
    assert len(set(instants)) == len(instants)
    assert _firing_counts(engine, schedule_id) == (len(runs), len(runs))
    _assert_firing_is_unique(engine, runs[-1])
    assert all((t - starts_at) % SECOND == timedelta(0) for t in instants)  # on the grid
    assert {r.status for r in runs} == {RunStatus.succeeded}
    assert receiver.request_count == len(runs)

    last_before = max(r.scheduled_for for r in before)
    # Instants older than the grace when the new ticker came up are the missed ones.
    missed_until = restarted_at - timedelta(seconds=grace)
    in_downtime = [r for r in runs if last_before < r.scheduled_for <= missed_until]
    if misfire == "coalesce":
        # The instants missed while the ticker was down become exactly one late run,
        # for the first of them (next_run_at as the dead ticker left it).
        [late] = in_downtime
        assert late.scheduled_for == last_before + SECOND
        assert late.created_at >= restarted_at
        downtime_gap_starts = late
    else:
        # Missed by more than the grace: dropped, no run at all.
        assert in_downtime == []
        downtime_gap_starts = next(r for r in runs if r.scheduled_for == last_before)
        # A run recorded later than the grace means the misfire policy was not applied.
        assert all(r.created_at - r.scheduled_for <= timedelta(seconds=grace) for r in runs)

    # Consecutive instants are 1 s apart except across the downtime. (Under coalesce a
    # ticker starved of CPU for over 1 s - more than the grace - also leaves a gap,
    # after a run recorded that late; such a gap is explained, any other is a loss.)
    lateness = {r.scheduled_for: r.created_at - r.scheduled_for for r in runs}
    downtime_gap = None
    unexplained = []
    for a, b in itertools.pairwise(runs):
        gap = b.scheduled_for - a.scheduled_for
        if a is downtime_gap_starts:
            downtime_gap = gap
        elif gap != SECOND and not (misfire == "coalesce" and lateness[a.scheduled_for] > SECOND):
            unexplained.append((a.scheduled_for, gap))
    following = runs[runs.index(downtime_gap_starts) + 1]
    assert following.scheduled_for > missed_until  # the gap covers the downtime
    assert downtime_gap is not None and downtime_gap > SECOND
    assert unexplained == [], (unexplained, lateness)


def test_a_ticker_late_by_less_than_the_misfire_grace_loses_no_firing(engine):
    """What a busy ticker does: it reaches an every-second schedule 1.5 s late. Neither
    instant is missed (grace 30 s), so both must be recorded, late."""
    workspace_id = make_workspace(engine)
    due = _next_whole_second(30)
    schedule_id = make_schedule(
        engine,
        workspace_id,
        kind="interval",
        every=1,
        unit="seconds",
        starts_at=due,
        url="http://127.0.0.1:9/",
        overlap="allow",
    )
    assert get_schedule(engine, schedule_id).next_run_at == due
    late = due + timedelta(seconds=1.5)
    grace = {"misfire_grace": timedelta(seconds=30), "lease_grace": timedelta(seconds=30)}
    for tick in range(3):  # the ticker loops while something is due
        dispatch_due(engine, late + tick * timedelta(milliseconds=10), limit=500, **grace)
    recorded = sorted(r.scheduled_for for r in runs_of(engine, schedule_id))
    assert recorded == [due, due + SECOND]
    assert get_schedule(engine, schedule_id).next_run_at == due + 2 * SECOND


def test_kill_9_of_a_worker_leaves_no_orphan(sqlite_url, private_redis):
    with EngineProcesses(sqlite_url, private_redis.url) as processes:
        worker = processes.worker()
        children = wait_until(lambda: _children(worker.pid), timeout=20)
        processes.kill(worker)
        try:
            time.sleep(2)
            survivors = [pid for pid in children if _alive(pid)]
        finally:
            _kill_now(children)
    assert survivors == []


# --------------------------------------------------------------------------------------
# 3. Redis restarted empty


def test_runs_whose_jobs_died_with_redis_are_delivered_after_it_comes_back_empty(
    engine, database_url, private_redis
):
    workspace_id = make_workspace(engine)
    with (
        Receiver() as receiver,
        EngineProcesses(database_url, private_redis.url, LEASE_GRACE_SECONDS="1") as processes,
    ):
        schedule_id = make_schedule(
            engine,
            workspace_id,
            kind="interval",
            every=1,
            unit="seconds",
            starts_at=_next_whole_second(2),
            url=receiver.url + "/hook",
            overlap="allow",
        )
        processes.ticker()  # no worker yet: runs are recorded and queued, not delivered
        wait_until(lambda: len(runs_of(engine, schedule_id)) >= 4, timeout=15)
        queue_key = f"rq:queue:{processes.queue_name}"
        with private_redis.client() as client:
            queued_before = set(client.lrange(queue_key, 0, -1))
        assert queued_before  # their jobs are in Redis ...

        private_redis.restart_empty()  # ... and now they are gone
        with private_redis.client() as client:
            # (the ticker keeps running, so a new firing may already be queued)
            assert queued_before.isdisjoint(client.lrange(queue_key, 0, -1))
        lost = runs_of(engine, schedule_id)
        assert {r.status for r in lost} == {RunStatus.pending}
        assert attempts_of(engine, lost[0].id) == []

        processes.worker()  # the ticker kept running across the outage
        wait_until(
            lambda: all(
                r.status in FINAL for r in runs_of(engine, schedule_id) if r.id <= lost[-1].id
            ),
            timeout=25,
            interval=0.2,
        )
        seen = {request.headers["webhook-id"] for request in receiver.requests}

    by_id = {r.id: r for r in runs_of(engine, schedule_id)}
    for run in lost:
        assert by_id[run.id].status == RunStatus.succeeded, by_id[run.id]
        assert run.delivery_key in seen
        [attempt] = attempts_of(engine, run.id)
        assert attempt.status_code == 200
    assert _firing_counts(engine, schedule_id)[0] == _firing_counts(engine, schedule_id)[1]


# --------------------------------------------------------------------------------------
# 4. Two tickers and two workers over 10,000 firings

SCHEDULES = 500
FIRINGS = 20


def _make_window_schedules(engine, workspace_id: int, url: str, starts_at: datetime) -> list[int]:
    now = _now()
    with Session(engine) as session:
        ids = [
            crud.create_schedule(
                session,
                workspace_id=workspace_id,
                now=now,
                name=f"window {n}",
                kind="window",
                every=1,
                unit="seconds",
                starts_at=starts_at,
                ends_at=starts_at + (FIRINGS - 1) * SECOND,  # inclusive: 20 firings
                url=url,
                overlap="allow",  # a backlog must not turn firings into skipped runs
            ).id
            for n in range(SCHEDULES)
        ]
        session.commit()
    return ids


@pytest.mark.slow
def test_two_tickers_and_two_workers_deliver_10000_firings_exactly_once_each(
    engine, database_url, engine_redis_url
):
    workspace_id = make_workspace(engine)
    started = time.monotonic()
    with (
        Receiver(record=False) as receiver,
        EngineProcesses(database_url, engine_redis_url) as processes,
        Redis.from_url(engine_redis_url) as redis,
    ):
        for _ in range(2):
            processes.ticker()
            processes.worker()
        # Processes first, then schedules whose first firing is a few seconds away,
        # so no firing is late (a late interval firing coalesces the instants it missed).
        starts_at = _next_whole_second(4)
        schedule_ids = _make_window_schedules(engine, workspace_id, receiver.url + "/w", starts_at)
        total = SCHEDULES * FIRINGS

        progress: list[dict] = []

        def all_final():
            with engine.connect() as connection:
                # Schedules first: a schedule completes in the transaction that records
                # its last run, so none active here means every run exists for the
                # count below. The other order races the ticker (PostgreSQL gives each
                # statement its own snapshot) and can see 0 active but runs missing.
                active = connection.execute(
                    select(func.count())
                    .select_from(Schedule.__table__)
                    .where(Schedule.__table__.c.status == "active")
                ).scalar_one()
                counts = dict(
                    connection.execute(
                        select(runs_table.c.status, func.count()).group_by(runs_table.c.status)
                    ).all()
                )
            queued = redis.llen(f"rq:queue:{processes.queue_name}")
            progress.append(
                {"t": round(time.monotonic() - started, 1), "active": active, "jobs": queued}
                | counts
            )
            unfinished = sum(n for status, n in counts.items() if status not in FINAL)
            return counts if active == 0 and unfinished == 0 else None

        try:
            counts = wait_until(all_final, timeout=75, interval=0.5)
        finally:
            print("\n" + "\n".join(str(p) for p in progress[::4] + progress[-1:]))
        elapsed = time.monotonic() - started
        delivered = receiver.request_count

    print(f"\n{database_url.split(':')[0]}: {total} firings final in {elapsed:.1f}s")
    with engine.connect() as connection:
        rows = connection.execute(
            select(runs_table.c.schedule_id, runs_table.c.scheduled_for, runs_table.c.created_at)
        ).all()
        attempt_rows = connection.execute(select(func.count()).select_from(attempts_table))
        attempts = attempt_rows.scalar_one()
    recorded = len(rows)
    assert counts == {RunStatus.succeeded: recorded}  # every recorded firing delivered
    assert _firing_counts(engine) == (recorded, recorded)  # zero duplicates
    assert attempts == recorded
    assert delivered >= recorded  # at least once (a duplicate send is allowed, a loss is not)
    with Session(engine) as session:
        statuses = Counter(session.get(Schedule, sid).status for sid in schedule_ids)
    assert statuses == {"completed": SCHEDULES}

    expected = [starts_at + k * SECOND for k in range(FIRINGS)]
    lateness: dict[int, dict[datetime, timedelta]] = {sid: {} for sid in schedule_ids}
    for schedule_id, scheduled_for, created_at in rows:
        lateness[schedule_id][scheduled_for] = created_at - scheduled_for
    extra = {
        sid: set(got) - set(expected) for sid, got in lateness.items() if set(got) - set(expected)
    }
    assert extra == {}
    missing = {sid: [t for t in expected if t not in got] for sid, got in lateness.items()}
    missing = {sid: lost for sid, lost in missing.items() if lost}
    assert missing == {}  # zero missing
    assert recorded == total
