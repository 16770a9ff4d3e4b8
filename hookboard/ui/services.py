"""What the dashboard's event handlers share with the API: the engine, the
service configuration, the delivery queue and the ticker wake-up. No Reflex."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta
from functools import lru_cache

from rq import Queue
from sqlalchemy import Engine
from sqlmodel import Session

from hookboard.core.db import get_engine
from hookboard.core.redis_client import get_redis
from hookboard.engine.queueing import delivery_queue
from hookboard.engine.wake import wake
from hookboard.services import ServiceConfig
from hookboard.settings import get_settings

__all__ = ["config", "db", "engine", "lease_grace", "now", "queue", "wake"]


def db() -> Session:
    """A session on the app's engine (the one the API uses); use it in a `with`."""
    return Session(get_engine(), expire_on_commit=False)


def engine() -> Engine:
    return get_engine()


@lru_cache
def config() -> ServiceConfig:
    return ServiceConfig.from_settings(get_settings())


def queue() -> Queue:
    return delivery_queue(get_redis(), get_settings().queue_name)


def lease_grace() -> timedelta:
    return timedelta(seconds=get_settings().lease_grace_seconds)


def now() -> datetime:
    return datetime.now(UTC)
