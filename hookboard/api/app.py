"""The REST API as a FastAPI app; Reflex mounts it through `api_transformer`."""

from fastapi import FastAPI

from hookboard import __version__
from hookboard.api.routes import health


def create_api() -> FastAPI:
    api = FastAPI(
        title="Hookboard",
        version=__version__,
        description="Cron for webhooks: schedules, deliveries and their logs.",
    )
    api.include_router(health.router)
    return api
