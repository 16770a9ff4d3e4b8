"""One module per resource, each with `router = APIRouter(prefix=..., tags=[...])`."""

import importlib

V1_MODULES = [
    "auth",
    "api_keys",
    "signing_secret",
    "schedules",
    "targets",
    "runs",
]


def v1_routers():
    routers = []
    for name in V1_MODULES:
        try:
            module = importlib.import_module(f"hookboard.api.routes.{name}")
        except ModuleNotFoundError as error:
            if error.name != f"hookboard.api.routes.{name}":
                raise
            continue  # not written yet
        routers.append(module.router)
    return routers
