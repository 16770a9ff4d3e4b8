"""Reflex configuration. Ports come from Hookboard's settings (PORT)."""

import reflex as rx
from reflex.plugins.sitemap import SitemapPlugin

from hookboard.api.middleware.cors import cors_origins
from hookboard.settings import get_settings

settings = get_settings()

config = rx.Config(
    app_name="hookboard",
    telemetry_enabled=False,
    # The launcher serves pages and API on this one port (`--single-port`).
    frontend_port=settings.port,
    backend_port=settings.port,
    show_built_with_reflex=False,
    # Reflex's own CORS layer (default "*") must follow CORS_ORIGINS too.
    cors_allowed_origins=cors_origins(settings),
    # The dashboard's client IP (login throttle) by the API's rule (api/client_ip.py).
    trusted_proxy_hops=settings.trusted_proxy_hops,
    # Reflex's sitemap plugin wants a public deploy URL; a self-hosted app has none.
    disable_plugins=[SitemapPlugin],
    # Where Reflex 0.10 wants the app's Radix theme (App(theme=...) is deprecated).
    plugins=[
        rx.plugins.RadixThemesPlugin(
            theme=rx.theme(
                accent_color="violet", gray_color="slate", radius="medium", has_background=True
            )
        )
    ],
)
