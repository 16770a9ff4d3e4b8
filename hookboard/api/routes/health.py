"""GET /health (the process answers) and GET /health/ready (its dependencies do)."""

from fastapi import APIRouter
from fastapi.concurrency import run_in_threadpool
from fastapi.responses import JSONResponse

from hookboard import __version__
from hookboard.core.db import get_engine
from hookboard.core.health import probe_database, probe_redis
from hookboard.core.redis_client import get_redis

router = APIRouter(tags=["health"])


@router.get("/health")
def alive() -> dict:
    return {"status": "ok", "version": __version__}


@router.get("/health/ready")
async def ready() -> JSONResponse:
    database = await run_in_threadpool(probe_database, get_engine())
    redis = await run_in_threadpool(probe_redis, get_redis())
    ok = database.ok and redis.ok
    body = {
        "status": "ok" if ok else "unavailable",
        "database": database.as_dict(),
        "redis": redis.as_dict(),
    }
    return JSONResponse(body, status_code=200 if ok else 503)
