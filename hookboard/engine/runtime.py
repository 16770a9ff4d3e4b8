"""The worker's delivery engine: many requests in flight, few transactions.

An RQ job costs a few milliseconds, and a receiver may take seconds to
answer, so a job waits for neither its requests nor the database: it hands
its run ids to this runtime (blocking only while the worker is at capacity)
and returns. A database thread works in rounds: one transaction records every
attempt that finished since the last round and claims every run id that came
in, so batches grow with the load instead of transactions multiplying. The
event loop sends the claimed runs through httpx over aiohttp's connection pool
(see net.transport). The database lease, not RQ's job state, guarantees
that a run whose worker died, or whose ids were never claimed, is delivered
again.
"""

from __future__ import annotations

import asyncio
import itertools
import logging
import threading
import time
from collections.abc import Callable
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta

import httpx
from sqlalchemy import Engine

from hookboard.core.outage import Outage, is_outage
from hookboard.domain.signing import delivery_headers
from hookboard.engine.claim import ClaimedRun
from hookboard.engine.record import Delivered, RetryLater, Written, record_and_claim
from hookboard.net.attempt import make_client, send_attempt
from hookboard.net.guard import NetPolicy

log = logging.getLogger("hookboard.worker")

ROUND_MAX = 500  # attempts recorded, and run ids claimed, per transaction at most
# A round that fails for another reason than an outage (a bug) is tried this
# many times, then left to the leases, so that it cannot wedge the worker.
ROUND_TRIES_ON_A_BUG = 3
BUG_RETRY_SECONDS = 1.0


@dataclass(frozen=True)
class RuntimeConfig:
    max_in_flight: int = 256
    http_clients: int = 8
    excerpt_bytes: int = 65536
    lease_grace: timedelta = timedelta(seconds=30)


class DeliveryRuntime:
    """Owns an event loop thread, the HTTP pools and the writer thread."""

    def __init__(
        self,
        engine: Engine,
        policy: NetPolicy,
        config: RuntimeConfig,
        schedule_retry: Callable[[RetryLater], None],
        observe: Callable[[list[Delivered], Written], None] | None = None,
    ):
        self._engine = engine
        self._observe = observe  # metrics: called once per written batch
        self._policy = policy
        self._config = config
        self._schedule_retry = schedule_retry
        # One unit per run from its claim until its attempt is recorded: while the
        # database is down, finished outcomes wait in memory and no new run is taken.
        self._capacity = threading.BoundedSemaphore(config.max_in_flight)
        self._outage = Outage(log, "recording attempts and claiming runs")
        # Work for the database thread: finished attempts, and run ids to claim.
        self._inbox = threading.Condition()
        self._results: list[Delivered] = []
        self._to_claim: list[int] = []
        self._pending = 0  # submitted, not yet written (or dropped)
        self._pending_lock = threading.Condition()
        self._loop = asyncio.new_event_loop()
        self._clients: list[httpx.AsyncClient] = []
        self._next_client = itertools.cycle(range(config.http_clients))
        self._stopping = threading.Event()
        self._threads = [
            threading.Thread(target=self._run_loop, name="delivery-loop", daemon=True),
            threading.Thread(target=self._rounds_forever, name="delivery-db", daemon=True),
        ]
        for thread in self._threads:
            thread.start()
        asyncio.run_coroutine_threadsafe(self._open_clients(), self._loop).result()

    # --- called from the RQ job ---------------------------------------------------------

    def submit(self, run_ids: list[int]) -> int:
        """Take the runs for claiming and delivery; returns how many were taken."""
        for _ in run_ids:
            self._capacity.acquire()  # back-pressure: wait while the worker is full
        with self._pending_lock:
            self._pending += len(run_ids)
        with self._inbox:
            self._to_claim.extend(run_ids)
            self._inbox.notify()
        return len(run_ids)

    def drain(self, timeout: float = 60) -> bool:
        """Wait until every claimed run is delivered and written."""
        deadline = time.monotonic() + timeout
        with self._pending_lock:
            while self._pending:
                remaining = deadline - time.monotonic()
                if remaining <= 0:
                    return False
                self._pending_lock.wait(remaining)
        return True

    def close(self, timeout: float = 60) -> None:
        self.drain(timeout)
        self._stopping.set()
        asyncio.run_coroutine_threadsafe(self._close_clients(), self._loop).result(10)
        self._loop.call_soon_threadsafe(self._loop.stop)
        for thread in self._threads:
            thread.join(5)

    # --- the event loop ----------------------------------------------------------------

    def _run_loop(self) -> None:
        asyncio.set_event_loop(self._loop)
        self._loop.run_forever()

    async def _open_clients(self) -> None:
        per_client = max(1, self._config.max_in_flight // self._config.http_clients)
        self._clients = [
            make_client(max_connections=per_client) for _ in range(self._config.http_clients)
        ]

    async def _close_clients(self) -> None:
        for client in self._clients:
            await client.aclose()

    def _start_delivery(self, run: ClaimedRun) -> None:
        self._loop.create_task(self._deliver(run))

    async def _deliver(self, run: ClaimedRun) -> None:
        try:
            body = (run.request.body or "").encode()
            headers = delivery_headers(run.secrets, run.webhook_id, body)
            client = self._clients[next(self._next_client)]
            outcome = await send_attempt(
                client,
                run.request,
                policy=self._policy,
                extra_headers=headers,
                excerpt_bytes=self._config.excerpt_bytes,
            )
            delivered = Delivered(run, outcome, {**run.request.headers, **headers})
        except Exception:
            # A bug must not leak capacity; the lease brings the run back later.
            log.exception("delivery of run %s failed unexpectedly", run.run_id)
            self._release(1)
            return
        with self._inbox:
            self._results.append(delivered)
            self._inbox.notify()

    # --- the database thread ------------------------------------------------------------

    def _rounds_forever(self) -> None:
        while True:
            results, run_ids = self._next_round()
            if results or run_ids:
                self._round(results, run_ids)
            elif self._stopping.is_set():
                return

    def _next_round(self) -> tuple[list[Delivered], list[int]]:
        """Whatever arrived since the last round (no lingering: under load,
        work piles up while a round runs, and the next one takes it all)."""
        with self._inbox:
            if not (self._results or self._to_claim):
                self._inbox.wait(0.2)
            results, self._results = self._results[:ROUND_MAX], self._results[ROUND_MAX:]
            run_ids, self._to_claim = self._to_claim[:ROUND_MAX], self._to_claim[ROUND_MAX:]
        return results, run_ids

    def _round(self, results: list[Delivered], run_ids: list[int]) -> None:
        """Record and claim, retried for as long as the database is out: an outcome
        is never dropped (its run would be sent again once its lease ran out)."""
        bugs = 0
        while True:
            try:
                written, claimed = record_and_claim(
                    self._engine, results, run_ids, _now(), lease_grace=self._config.lease_grace
                )
                break
            except Exception as error:
                if is_outage(error):
                    time.sleep(self._outage.failed(error))
                    continue
                bugs += 1
                log.exception("recording %d attempts and claiming runs failed", len(results))
                if bugs >= ROUND_TRIES_ON_A_BUG:
                    # Left as they were: the leases bring the runs back.
                    self._release(len(run_ids) + len(results))
                    return
                time.sleep(BUG_RETRY_SECONDS)
        self._outage.worked()
        for run in claimed:
            self._loop.call_soon_threadsafe(self._start_delivery, run)
        self._release(len(run_ids) - len(claimed))  # another worker has them
        self._after_commit(results, written)

    def _after_commit(self, results: list[Delivered], written: Written) -> None:
        for retry in written.retries:
            try:
                self._schedule_retry(retry)
            except Exception:
                log.exception("queueing the retry of run %s failed", retry.run_id)
        if self._observe is not None and results:
            try:
                self._observe(results, written)
            except Exception:
                log.exception("recording delivery metrics failed")
        self._release(len(results))  # recorded: their capacity is free

    def _release(self, count: int) -> None:
        """Give back the capacity of runs done with (recorded, or not ours)."""
        for _ in range(count):
            self._capacity.release()
        self._finished(count)

    def _finished(self, count: int) -> None:
        with self._pending_lock:
            self._pending -= count
            self._pending_lock.notify_all()


def _now() -> datetime:
    return datetime.now(UTC)
