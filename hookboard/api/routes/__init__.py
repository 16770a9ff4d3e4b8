"""One module per resource, each with `router = APIRouter(prefix=..., tags=[...])`."""

from hookboard.api.routes import (
    account,
    api_keys,
    audit,
    auth,
    invitations,
    runs,
    schedules,
    sessions,
    signing_secret,
    targets,
    two_factor,
    workspaces,
)


def v1_routers():
    return [
        module.router
        for module in (
            auth,
            two_factor,
            sessions,
            account,
            api_keys,
            signing_secret,
            schedules,
            targets,
            runs,
            workspaces,
            invitations,
            audit,
        )
    ]
