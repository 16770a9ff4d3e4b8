"""The REST API as a FastAPI app; Reflex mounts it through `api_transformer`."""

from fastapi import FastAPI

from hookboard import __version__
from hookboard.api.cors import add_cors
from hookboard.api.errors import ERROR_RESPONSES, install_error_handlers
from hookboard.api.routes import health

API_PREFIX = "/api/v1"


def create_api() -> FastAPI:
    api = FastAPI(
        title="Hookboard",
        version=__version__,
        description="Cron for webhooks: schedules, deliveries and their logs.",
    )
    install_error_handlers(api)
    add_cors(api)
    api.include_router(health.router)
    for router in _v1_routers():
        api.include_router(router, prefix=API_PREFIX, responses=ERROR_RESPONSES)
    return api


def _v1_routers():
    # Each resource is a module in hookboard/api/routes with its own APIRouter.
    from hookboard.api.routes import v1_routers

    return v1_routers()
