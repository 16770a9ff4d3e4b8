"""What the dashboard adds around Reflex's own app: the socket's origin check, the
upload guard and error toasts. `secure_dashboard(app)` once, right after rx.App()."""

from __future__ import annotations

from collections.abc import Sequence

import reflex as rx

from hookboard.core.private_files import keep_new_files_private
from hookboard.ui.event_errors import toast_for_error
from hookboard.ui.socket_origin import guard_socket_origin
from hookboard.ui.upload_guard import UploadGuard


def secure_dashboard(app: rx.App) -> None:
    # Reflex keeps each tab's state (session token included) in .states/ when it does
    # not use Redis: the owner's only, also when started without the launcher.
    keep_new_files_private()
    guard_socket_origin(app)
    app.backend_exception_handler = toast_for_error
    # Reflex applies api_transformer in order: UploadGuard, last, wraps everything.
    transformers = app.api_transformer
    if transformers is None:
        transformers = []
    elif not isinstance(transformers, Sequence):
        transformers = [transformers]
    app.api_transformer = [*transformers, UploadGuard]
