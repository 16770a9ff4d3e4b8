"""/badges/{token}.svg: a schedule's public status badge (opt-in, no authentication).

The token is random and issued when the schedule's `badge` is turned on; a
badge that is off or unknown answers 404. Cached briefly by browsers and
proxies, so a README embedding it does not hit the database on every view.
"""

from __future__ import annotations

from fastapi import APIRouter, Response

from hookboard.api.deps import SessionDep
from hookboard.api.errors import not_found
from hookboard.services.badge import badge_state, render_svg

router = APIRouter(prefix="/badges", tags=["badges"])

CACHE_CONTROL = "public, max-age=60"
SVG = "image/svg+xml"


@router.get(
    "/{token}.svg",
    response_class=Response,
    responses={200: {"content": {SVG: {"schema": {"type": "string"}}}, "description": "SVG"}},
)
def schedule_badge(token: str, session: SessionDep) -> Response:
    """`hookboard | passing`, `failing`, `paused` or `unknown` (no finished run yet)."""
    state = badge_state(session, token)
    if state is None:
        raise not_found("badge")
    return Response(
        render_svg(state),
        media_type=SVG,
        headers={"Cache-Control": CACHE_CONTROL},
    )
