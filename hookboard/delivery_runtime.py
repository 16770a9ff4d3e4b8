"""The worker's delivery engine: many requests in flight, few transactions.

An RQ job costs a few milliseconds, and a receiver may take seconds to
answer, so a job does not wait for its requests: it claims its runs, hands
them to this runtime's event loop (blocking only while the worker is at
capacity) and returns. The loop sends through httpx over aiohttp's
connection pool (see pinned_transport); a writer thread records finished
attempts in batches. The database lease, not RQ's
job state, guarantees that a run whose worker died is delivered again.
"""

from __future__ import annotations

import asyncio
import itertools
import logging
import queue
import threading
import time
from collections.abc import Callable
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta

import httpx
from sqlalchemy import Engine

from hookboard import __version__
from hookboard.attempt import make_client, send_attempt
from hookboard.delivery import ClaimedRun, Delivered, RetryLater, claim_runs, record_outcomes
from hookboard.netguard import NetPolicy
from hookboard.signing import webhook_headers

log = logging.getLogger("hookboard.worker")

USER_AGENT = f"Hookboard/{__version__}"
WRITE_BATCH_MAX = 500
WRITE_LINGER_SECONDS = 0.02  # gather results this long to share one transaction
WRITE_RETRY_SECONDS = 1.0


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
        observe: Callable[[list[Delivered], list[RetryLater]], None] | None = None,
    ):
        self._engine = engine
        self._observe = observe  # metrics: called once per written batch
        self._policy = policy
        self._config = config
        self._schedule_retry = schedule_retry
        self._capacity = threading.BoundedSemaphore(config.max_in_flight)
        self._results: queue.SimpleQueue[Delivered] = queue.SimpleQueue()
        self._pending = 0  # claimed but not yet written
        self._pending_lock = threading.Condition()
        self._loop = asyncio.new_event_loop()
        self._clients: list[httpx.AsyncClient] = []
        self._next_client = itertools.cycle(range(config.http_clients))
        self._stopping = threading.Event()
        self._threads = [
            threading.Thread(target=self._run_loop, name="delivery-loop", daemon=True),
            threading.Thread(target=self._write_forever, name="delivery-writer", daemon=True),
        ]
        for thread in self._threads:
            thread.start()
        asyncio.run_coroutine_threadsafe(self._open_clients(), self._loop).result()

    # --- called from the RQ job ---------------------------------------------------------

    def submit(self, run_ids: list[int]) -> int:
        """Claim the runs and start their deliveries; returns how many were claimed."""
        claimed = claim_runs(self._engine, run_ids, _now(), lease_grace=self._config.lease_grace)
        for run in claimed:
            self._capacity.acquire()  # back-pressure: wait while the worker is full
            with self._pending_lock:
                self._pending += 1
            self._loop.call_soon_threadsafe(self._start_delivery, run)
        return len(claimed)

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
            headers = self._signed_headers(run, body)
            client = self._clients[next(self._next_client)]
            outcome = await send_attempt(
                client,
                run.request,
                policy=self._policy,
                extra_headers=headers,
                excerpt_bytes=self._config.excerpt_bytes,
            )
            self._results.put(Delivered(run, outcome, {**run.request.headers, **headers}))
        except Exception:
            # A bug must not leak capacity; the lease brings the run back later.
            log.exception("delivery of run %s failed unexpectedly", run.run_id)
            self._finished(1)
        finally:
            self._capacity.release()

    def _signed_headers(self, run: ClaimedRun, body: bytes) -> dict[str, str]:
        if not run.secrets:
            return {"User-Agent": USER_AGENT, "webhook-id": run.webhook_id}
        timestamp = int(time.time())
        return webhook_headers(run.secrets, run.webhook_id, timestamp, body, USER_AGENT)

    # --- the writer --------------------------------------------------------------------

    def _write_forever(self) -> None:
        while not (self._stopping.is_set() and self._results.empty()):
            batch = self._next_batch()
            if batch:
                self._write(batch)

    def _next_batch(self) -> list[Delivered]:
        try:
            batch = [self._results.get(timeout=0.2)]
        except queue.Empty:
            return []
        deadline = time.monotonic() + WRITE_LINGER_SECONDS
        while len(batch) < WRITE_BATCH_MAX:
            remaining = deadline - time.monotonic()
            if remaining <= 0:
                break
            try:
                batch.append(self._results.get(timeout=remaining))
            except queue.Empty:
                break
        return batch

    def _write(self, batch: list[Delivered]) -> None:
        for attempt in range(3):
            try:
                retries = record_outcomes(
                    self._engine, batch, _now(), lease_grace=self._config.lease_grace
                )
                break
            except Exception:
                log.exception("recording %d attempts failed (try %d)", len(batch), attempt + 1)
                time.sleep(WRITE_RETRY_SECONDS)
        else:
            # Left `running`: their leases run out and the ticker queues them again.
            self._finished(len(batch))
            return
        for retry in retries:
            try:
                self._schedule_retry(retry)
            except Exception:
                log.exception("queueing the retry of run %s failed", retry.run_id)
        if self._observe is not None:
            try:
                self._observe(batch, retries)
            except Exception:
                log.exception("recording delivery metrics failed")
        self._finished(len(batch))

    def _finished(self, count: int) -> None:
        with self._pending_lock:
            self._pending -= count
            self._pending_lock.notify_all()


def _now() -> datetime:
    return datetime.now(UTC)
