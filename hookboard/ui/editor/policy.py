"""The editor's "Retries and policies" section: retries, auto-pause, badge, misfire, overlap."""

from __future__ import annotations

import reflex as rx

from hookboard.domain.limits import BACKOFFS
from hookboard.ui.editor.controls import bounds, choice, grid, section, switch, text_input


def policy_section() -> rx.Component:
    return section(
        "Retries and policies",
        grid(
            text_input("max_attempts", "Max attempts", **bounds("max_attempts")),
            choice(
                "backoff",
                "Backoff",
                [(backoff, backoff.capitalize()) for backoff in BACKOFFS],
            ),
            text_input("base_delay_seconds", "Base delay (s)", **bounds("base_delay_seconds")),
            text_input("max_delay_seconds", "Max delay (s)", **bounds("max_delay_seconds")),
            columns="4",
        ),
        switch("jitter", "Jitter (spread each delay over [d/2, d])"),
        grid(
            text_input(
                "auto_pause_after",
                "Auto-pause after N failed runs in a row",
                **bounds("auto_pause_after"),
                hint="0 = never. Resuming starts the count over; alerts tell you either way.",
            ),
            rx.vstack(
                switch("badge", "Public status badge"),
                rx.text(
                    "A public SVG (passing, failing, paused) for a README or status page; "
                    "turning it off retires its URL.",
                    size="1",
                    color_scheme="gray",
                ),
                padding_top="24px",
                spacing="1",
            ),
        ),
        grid(
            choice(
                "misfire",
                "After downtime (misfire)",
                [("coalesce", "Coalesce: one run for all missed"), ("skip", "Skip missed firings")],
            ),
            choice(
                "overlap",
                "While the previous run is in flight",
                [("skip", "Skip this firing"), ("allow", "Send anyway")],
            ),
        ),
    )
