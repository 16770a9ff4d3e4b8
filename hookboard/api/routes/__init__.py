"""One module per resource, each with `router = APIRouter(prefix=..., tags=[...])`."""

from hookboard.api.routes import account, api_keys, auth, runs, schedules, signing_secret, targets


def v1_routers():
    return [
        module.router
        for module in (auth, account, api_keys, signing_secret, schedules, targets, runs)
    ]
