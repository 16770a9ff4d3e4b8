"""Reflex configuration, from Hookboard's settings.

Ports: the dashboard is on PORT. `scripts/run.sh` serves the API there too
(`--env prod --single-port`); `reflex run` (development) puts the backend on
Reflex's own port (8000, or the next free one) and the dev frontend finds it
through Reflex's api_url, which follows the backend port.
"""

import reflex as rx
from reflex.plugins.sitemap import SitemapPlugin
from reflex.utils.exec import is_prod_mode

from hookboard.api.middleware.cors import cors_origins
from hookboard.cli.dev_engine import DevEngine
from hookboard.cli.local_redis import answers
from hookboard.settings import get_settings

settings = get_settings()

config = rx.Config(
    app_name="hookboard",
    telemetry_enabled=False,
    frontend_port=settings.port,
    show_built_with_reflex=False,
    # Each browser tab's state (its session token inside) lives in Redis, shared
    # by every web process, rather than in .states/ on one host's disk. Reflex's
    # keys (`<tab token>_<state>`, `..._lock`, `token_manager_...`) never meet
    # Hookboard's (`rq:...`, `<QUEUE_NAME>:...`), so both share REDIS_URL.
    redis_url=settings.redis_url if answers(settings.redis_url) else None,
    # Reflex's own CORS layer (default "*") must follow CORS_ORIGINS too.
    cors_allowed_origins=cors_origins(settings),
    # The dashboard's client IP (login throttle) by the API's rule (api/client_ip.py).
    trusted_proxy_hops=settings.trusted_proxy_hops,
    # Reflex's sitemap plugin wants a public deploy URL; a self-hosted app has none.
    disable_plugins=[SitemapPlugin],
    plugins=[
        # Where Reflex 0.10 wants the app's Radix theme (App(theme=...) is deprecated).
        rx.plugins.RadixThemesPlugin(
            theme=rx.theme(
                accent_color="violet", gray_color="slate", radius="medium", has_background=True
            )
        ),
        # `reflex run` (development only) starts a ticker and a worker beside the backend.
        DevEngine(),
    ],
)

# In development the pages come from another origin (the dev frontend's port):
# it must be admitted, or the dashboard's websocket is refused (by Reflex's CORS
# layer when CORS_ORIGINS lists origins, by ui/socket_origin.py when it is empty).
if not is_prod_mode() and "*" not in config.cors_allowed_origins:
    config.cors_allowed_origins = [
        *config.cors_allowed_origins,
        *(f"http://{host}:{config.frontend_port}" for host in ("localhost", "127.0.0.1")),
    ]
