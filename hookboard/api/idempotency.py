"""Idempotency-Key for creating requests (POST /schedules, /targets, /schedules/{id}/trigger).

A client that retries a create after a timeout sends the same `Idempotency-Key`
header and gets the first answer back (same status, same body, the same new
id) instead of a second schedule. Records live in Redis, not in the database:

    {QUEUE_NAME}:idempotency:{workspace_id}:{sha256(key)}  ->  JSON
        {"state": "pending" | "done", "fingerprint": ..., "status": 201, "body": {...}}

* keyed by workspace, so two workspaces may use the same key;
* `fingerprint` is a hash of the method, path and the parsed body: the same key
  with a different request is refused (`IdempotencyKeyReused`, a 422, as the
  IETF draft "The Idempotency-Key HTTP Header Field" says);
* a `pending` record (the first request is still running) makes a concurrent
  retry fail fast (`IdempotencyInProgress`, a 409) instead of creating twice;
  it expires after PENDING_TTL_SECONDS should that request die;
* a `done` record is kept DONE_TTL_SECONDS (24 h), then the key may be reused;
* a request that fails (4xx, 5xx) drops its pending record, so it can be retried
  with the same key once fixed.

What is stored is the response body as first sent. If Redis is lost, keys are
forgotten (a retry after that creates anew); if the process dies between the
database commit and storing the answer, the pending record expires and a retry
creates anew: at-most-once is best effort, never a wrong answer.
"""

from __future__ import annotations

import hashlib
import json
import logging
from collections.abc import Callable
from dataclasses import dataclass
from typing import Any

from redis import Redis
from redis.exceptions import RedisError

log = logging.getLogger("hookboard.idempotency")

DONE_TTL_SECONDS = 24 * 3600
PENDING_TTL_SECONDS = 120
MAX_KEY_CHARS = 255


class IdempotencyError(Exception):
    pass


class InvalidIdempotencyKey(IdempotencyError):
    pass


class IdempotencyKeyReused(IdempotencyError):
    """The key was used for a different request."""


class IdempotencyInProgress(IdempotencyError):
    """The first request with this key has not finished yet."""


@dataclass(frozen=True)
class StoredResponse:
    status: int
    body: Any
    replayed: bool


def check_key(key: str) -> str:
    if not 1 <= len(key) <= MAX_KEY_CHARS or not all(" " <= ch <= "~" for ch in key):
        raise InvalidIdempotencyKey(
            f"Idempotency-Key must be 1 to {MAX_KEY_CHARS} printable ASCII characters"
        )
    return key


def fingerprint(method: str, path: str, payload: Any) -> str:
    canonical = json.dumps([method.upper(), path, payload], sort_keys=True, default=str)
    return hashlib.sha256(canonical.encode()).hexdigest()


def record_key(namespace: str, workspace_id: int, key: str) -> str:
    digest = hashlib.sha256(key.encode()).hexdigest()
    return f"{namespace}:idempotency:{workspace_id}:{digest}"


def run_once(
    redis: Redis,
    *,
    namespace: str,
    workspace_id: int,
    key: str,
    request_fingerprint: str,
    produce: Callable[[], tuple[int, Any]],
) -> StoredResponse:
    """`produce()` -> (status, JSON-able body) once per key; later calls replay it.

    Raises IdempotencyKeyReused, IdempotencyInProgress, InvalidIdempotencyKey,
    redis errors, and whatever `produce` raises (the key is then released).
    """
    check_key(key)
    name = record_key(namespace, workspace_id, key)
    pending = json.dumps({"state": "pending", "fingerprint": request_fingerprint})
    for _ in range(3):
        if redis.set(name, pending, nx=True, ex=PENDING_TTL_SECONDS):
            break
        raw = redis.get(name)
        if raw is None:
            continue  # expired between SET and GET: try to claim it again
        stored = json.loads(raw)
        if stored.get("fingerprint") != request_fingerprint:
            raise IdempotencyKeyReused(
                "this Idempotency-Key was already used for a different request"
            )
        if stored.get("state") != "done":
            raise IdempotencyInProgress(
                "a request with this Idempotency-Key is still in progress; retry shortly"
            )
        return StoredResponse(stored["status"], stored["body"], replayed=True)
    else:
        raise IdempotencyInProgress("this Idempotency-Key is busy; retry shortly")

    try:
        status, body = produce()
    except BaseException:
        try:
            redis.delete(name)
        except RedisError:
            log.warning("could not release an idempotency key; it expires by itself")
        raise
    done = {"state": "done", "fingerprint": request_fingerprint, "status": status, "body": body}
    try:
        redis.set(name, json.dumps(done), ex=DONE_TTL_SECONDS)
    except RedisError:
        # The work is done and committed: answer it; only a later replay is lost.
        log.warning("could not store an idempotent response; a retry would run again")
    return StoredResponse(status, body, replayed=False)
