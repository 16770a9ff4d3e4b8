"""A worker paused past its lease (SIGSTOP, a long GC, a frozen VM) still sent its
request: it is recorded as an attempt of its own, and its outcome never overrides
the newer claim's, whichever of the two is recorded first."""

from __future__ import annotations

import os
import signal
import time
from datetime import UTC, datetime, timedelta

from hookboard.engine.claim import ClaimedRun, claim_runs
from hookboard.engine.dispatch import dispatch_due
from hookboard.engine.record import Delivered, Written, record_outcomes
from hookboard.models import RunStatus
from hookboard.net.outcome import AttemptOutcome
from tests.support.engine import (
    EngineProcesses,
    attempts_of,
    make_schedule,
    make_workspace,
    runs_of,
    wait_until,
)
from tests.support.receiver import Receiver

GRACE = timedelta(seconds=1)
TIMEOUT = 5  # the schedule's timeout: a claim's lease is TIMEOUT + GRACE


def _claimed_once(engine) -> tuple[int, list[int], ClaimedRun, datetime]:
    workspace_id = make_workspace(engine)
    schedule_id = make_schedule(
        engine,
        workspace_id,
        kind="once",
        run_at=datetime.now(UTC),
        url="http://a.test/",
        timeout_seconds=TIMEOUT,
        max_attempts=3,
    )
    now = datetime.now(UTC) + timedelta(seconds=1)
    run_ids = dispatch_due(engine, now, limit=10, misfire_grace=GRACE, lease_grace=GRACE).run_ids
    [claimed] = claim_runs(engine, run_ids, now, lease_grace=GRACE)
    assert claim_runs(engine, run_ids, now + timedelta(seconds=1), lease_grace=GRACE) == []
    return schedule_id, run_ids, claimed, now


def _claimed_twice(engine) -> tuple[int, ClaimedRun, ClaimedRun]:
    """A run claimed once, then again by another worker after the lease ran out."""
    schedule_id, run_ids, stale, now = _claimed_once(engine)
    later = now + timedelta(seconds=TIMEOUT) + GRACE + timedelta(seconds=1)
    [fresh] = claim_runs(engine, run_ids, later, lease_grace=GRACE)
    return schedule_id, stale, fresh


def _outcome(run: ClaimedRun, status: int, *, at_seconds: float) -> Delivered:
    started = run.scheduled_for.replace(tzinfo=UTC) + timedelta(seconds=at_seconds)
    error_class = "success" if status < 300 else "http_5xx"
    outcome = AttemptOutcome(started, 10.0, status, {}, "", error_class, None, None)
    return Delivered(run, outcome, dict(run.request.headers))


def _record(engine, item: Delivered) -> Written:
    return record_outcomes(engine, [item], item.outcome.started_at, lease_grace=GRACE)


def test_each_claim_takes_its_own_attempt_number(engine):
    _, stale, fresh = _claimed_twice(engine)
    assert (stale.attempt_number, fresh.attempt_number) == (1, 2)
    assert stale.webhook_id == fresh.webhook_id  # one message, two tries


def test_a_stale_success_recorded_first_neither_finishes_the_run_nor_is_lost(engine):
    schedule_id, stale, fresh = _claimed_twice(engine)

    written = _record(engine, _outcome(stale, 200, at_seconds=30))
    [run] = runs_of(engine, schedule_id)
    assert (run.status, run.attempt_count) == (RunStatus.running, 2)  # the new claim goes on
    assert (written.moved, written.recorded) == (set(), {(run.id, 1)})

    written = _record(engine, _outcome(fresh, 500, at_seconds=31))
    [run] = runs_of(engine, schedule_id)
    assert (run.status, run.attempt_count, run.status_code) == (RunStatus.retrying, 2, 500)
    assert written.moved == {(run.id, 2)} and [r.run_id for r in written.retries] == [run.id]
    numbers = [(a.number, a.status_code) for a in attempts_of(engine, run.id)]
    assert numbers == [(1, 200), (2, 500)]


def test_a_stale_failure_recorded_after_the_new_success_keeps_the_success(engine):
    schedule_id, stale, fresh = _claimed_twice(engine)

    _record(engine, _outcome(fresh, 200, at_seconds=30))
    written = _record(engine, _outcome(stale, 500, at_seconds=31))

    [run] = runs_of(engine, schedule_id)
    assert (run.status, run.attempt_count, run.status_code) == (RunStatus.succeeded, 2, 200)
    assert written.retries == [] and written.moved == set()
    numbers = [(a.number, a.status_code) for a in attempts_of(engine, run.id)]
    assert numbers == [(1, 500), (2, 200)]


def test_an_outcome_past_its_lease_that_nobody_claimed_again_still_counts(engine):
    """A late outcome is stale only once a newer claim exists."""
    schedule_id, _, claimed, _ = _claimed_once(engine)
    written = _record(engine, _outcome(claimed, 200, at_seconds=60))
    [run] = runs_of(engine, schedule_id)
    assert (run.status, run.attempt_count) == (RunStatus.succeeded, 1)
    assert written.moved == {(run.id, 1)}


def test_a_worker_paused_past_its_lease_has_its_request_recorded_as_its_own_attempt(
    engine, database_url, engine_redis_url
):
    """The fault drill, with real processes: SIGSTOP the worker while its request is
    in flight, let another worker claim and deliver the run, then SIGCONT."""
    workspace_id = make_workspace(engine)
    with (
        Receiver(delay=1.5) as receiver,
        EngineProcesses(database_url, engine_redis_url, LEASE_GRACE_SECONDS="1") as processes,
    ):
        processes.ticker()
        paused = processes.worker()
        schedule_id = make_schedule(
            engine,
            workspace_id,
            kind="once",
            run_at=datetime.now(UTC) + timedelta(seconds=1),
            url=receiver.url + "/hook",
            timeout_seconds=2,
            max_attempts=1,
        )
        receiver.wait_for(1, timeout=20)
        os.kill(paused.pid, signal.SIGSTOP)
        try:
            processes.worker()  # takes the run back once its lease (2 s + 1 s) runs out
            receiver.wait_for(2, timeout=30)
            [run] = wait_until(
                lambda: [r for r in runs_of(engine, schedule_id) if r.finished_at], timeout=20
            )
        finally:
            os.kill(paused.pid, signal.SIGCONT)

        def both_recorded():
            attempts = attempts_of(engine, run.id)
            return attempts if len(attempts) == 2 else None

        attempts = wait_until(both_recorded, timeout=20)
        time.sleep(1)  # nothing more may arrive
        [run] = runs_of(engine, schedule_id)

    assert len(receiver.requests) == 2
    assert [a.number for a in attempts] == [1, 2]
    assert (run.status, run.attempt_count) == (RunStatus.succeeded, 2)
    assert len(attempts_of(engine, run.id)) == 2
