"""The landing page until the dashboard (schedules, logs, keys) arrives."""

import reflex as rx


def page() -> rx.Component:
    return rx.center(
        rx.vstack(
            rx.heading("Hookboard", size="8"),
            rx.text("Cron for webhooks: schedules fired on time, signed, retried and logged."),
            rx.hstack(
                rx.link("API documentation", href="/docs"),
                rx.link("Readiness", href="/health/ready"),
            ),
            align="center",
            spacing="4",
        ),
        min_height="100vh",
    )
