"""`hookboard doctor`: is this installation able to fire webhooks right now?

Each check says ok, warn or fail with one line of detail; any fail makes the
command exit 1, so it fits a deploy script or a container health check.
"""

from __future__ import annotations

import time
from collections.abc import Callable, Iterator
from dataclasses import dataclass
from datetime import UTC, datetime

from alembic.runtime.migration import MigrationContext
from alembic.script import ScriptDirectory
from redis import Redis
from rq import Worker
from sqlalchemy import Engine, text

from hookboard.core.health import probe_database, probe_redis
from hookboard.core.metrics import read_heartbeats
from hookboard.core.migrate import alembic_config
from hookboard.engine.queueing import delivery_queue
from hookboard.settings import Settings

# A ticker or worker silent longer than this is considered down.
ALIVE_WITHIN_SECONDS = 30.0
SKEW_WARN_SECONDS = 1.0
SKEW_FAIL_SECONDS = 30.0


@dataclass(frozen=True)
class Check:
    name: str
    status: str  # "ok", "warn" or "fail"
    detail: str


def run_checks(settings: Settings, engine: Engine, redis: Redis) -> Iterator[Check]:
    yield from _settings(settings)
    database_ok = probe_database(engine)
    if not database_ok.ok:
        yield Check("database", "fail", f"cannot connect ({database_ok.error})")
    else:
        yield Check("database", "ok", f"reachable in {database_ok.latency_ms:.1f} ms")
        yield _guard("migrations", lambda: _migrations(engine))
        yield _guard("clock (database)", lambda: _database_clock(engine))
    redis_ok = probe_redis(redis)
    if not redis_ok.ok:
        yield Check("redis", "fail", f"cannot connect ({redis_ok.error})")
        return
    yield Check("redis", "ok", f"reachable in {redis_ok.latency_ms:.1f} ms")
    yield _guard("clock (redis)", lambda: _redis_clock(redis))
    yield _guard("tickers", lambda: _heartbeats(redis, settings.queue_name, "ticker"))
    yield _guard("workers", lambda: _workers(redis, settings.queue_name))


def _guard(name: str, check: Callable[[], Check]) -> Check:
    try:
        return check()
    except Exception as error:  # a check reports, it never crashes the doctor
        return Check(name, "fail", f"{type(error).__name__}: {error}")


def _settings(settings: Settings) -> Iterator[Check]:
    yield Check("settings", "ok", f"ENVIRONMENT={settings.environment}")
    sqlite = settings.effective_database_url.startswith("sqlite")
    if settings.environment == "production" and sqlite:
        yield Check(
            "settings", "warn", "SQLite in production: one host only; PostgreSQL scales out"
        )
    if settings.allow_private_targets:
        yield Check(
            "settings", "warn", "ALLOW_PRIVATE_TARGETS=true: webhooks may reach internal hosts"
        )


def _migrations(engine: Engine) -> Check:
    heads = set(ScriptDirectory.from_config(alembic_config()).get_heads())
    with engine.connect() as connection:
        current = set(MigrationContext.configure(connection).get_current_heads())
    if current == heads:
        return Check("migrations", "ok", f"at head ({', '.join(sorted(heads))})")
    shown = ", ".join(sorted(current)) or "none"
    return Check(
        "migrations",
        "fail",
        f"at {shown}, head is {', '.join(sorted(heads))}: run `hookboard migrate`",
    )


def _skew(name: str, other: datetime) -> Check:
    skew = abs((datetime.now(UTC) - other).total_seconds())
    detail = f"{skew * 1000:.0f} ms apart from this host"
    if skew > SKEW_FAIL_SECONDS:
        return Check(name, "fail", detail + ": fix NTP; firings would be recorded late or early")
    if skew > SKEW_WARN_SECONDS:
        return Check(name, "warn", detail)
    return Check(name, "ok", detail)


def _database_clock(engine: Engine) -> Check:
    if engine.dialect.name != "postgresql":
        return Check("clock (database)", "ok", "SQLite shares this host's clock")
    with engine.connect() as connection:
        now = connection.execute(text("SELECT now()")).scalar_one()
    return _skew("clock (database)", now)


def _redis_clock(redis: Redis) -> Check:
    seconds, micros = redis.time()
    return _skew("clock (redis)", datetime.fromtimestamp(seconds + micros / 1e6, UTC))


def _heartbeats(redis: Redis, namespace: str, role: str) -> Check:
    ages = read_heartbeats(redis, namespace, role, time.time())
    alive = [age for age in ages.values() if age <= ALIVE_WITHIN_SECONDS]
    silent = len(ages) - len(alive)
    name = f"{role}s"
    if not alive:
        detail = f"no {role} reported in the last {ALIVE_WITHIN_SECONDS:g} s"
        return Check(name, "fail", detail + (f" ({silent} went silent)" if silent else ""))
    detail = f"{len(alive)} alive, newest heartbeat {min(alive):.1f} s ago"
    return Check(
        name, "warn" if silent else "ok", detail + (f"; {silent} silent" if silent else "")
    )


def _workers(redis: Redis, namespace: str) -> Check:
    check = _heartbeats(redis, namespace, "worker")
    registered = len(Worker.all(queue=delivery_queue(redis, namespace)))
    return Check(check.name, check.status, f"{check.detail}; {registered} in RQ's registry")
