"""Liveness and readiness probes: is the database reachable, is Redis?"""

from __future__ import annotations

import time
from dataclasses import dataclass

from redis import Redis
from sqlalchemy import Engine, text


@dataclass(frozen=True)
class Probe:
    ok: bool
    latency_ms: float
    error: str | None = None

    def as_dict(self) -> dict:
        data = {"ok": self.ok, "latency_ms": round(self.latency_ms, 2)}
        if self.error:
            data["error"] = self.error
        return data


def _timed(check) -> Probe:
    started = time.perf_counter()
    try:
        check()
    except Exception as error:  # a probe reports any failure instead of raising
        detail = str(error).strip().splitlines()[0][:200] if str(error).strip() else ""
        reason = f"{type(error).__name__}: {detail}" if detail else type(error).__name__
        return Probe(False, (time.perf_counter() - started) * 1000, reason)
    return Probe(True, (time.perf_counter() - started) * 1000)


def probe_database(engine: Engine) -> Probe:
    def check():
        with engine.connect() as connection:
            connection.execute(text("SELECT 1"))

    return _timed(check)


def probe_redis(redis: Redis) -> Probe:
    return _timed(redis.ping)
