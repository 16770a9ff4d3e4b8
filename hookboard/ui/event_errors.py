"""What the dashboard shows when an event handler fails: a toast that says what happened.

A service's error (a schedule not found, a value refused, a rate limit) is the
user's to read, as the API's JSON error is. Anything else is a bug or an
outage: it is logged with its traceback (never the event's data, which may hold
secrets) and the toast says so instead of Reflex's "An error occurred".
"""

import logging

import reflex as rx
from reflex.event import EventSpec
from sqlalchemy.exc import OperationalError
from sqlalchemy.exc import TimeoutError as PoolTimeoutError

from hookboard.services import ServiceError

log = logging.getLogger("hookboard.ui")

UNAVAILABLE = "The database is busy or unavailable; try again in a moment."
UNEXPECTED = "Something went wrong on the server; it has been logged. Reload the page to go on."


def toast_for_error(exception: Exception) -> EventSpec:
    """Reflex's backend_exception_handler: one error toast per failed event."""
    if isinstance(exception, ServiceError):
        message = str(exception)
    elif isinstance(exception, OperationalError | PoolTimeoutError):
        log.warning("dashboard: database unavailable: %s", type(exception).__name__)
        message = UNAVAILABLE
    else:
        log.error("dashboard event failed: %s", type(exception).__name__, exc_info=exception)
        message = UNEXPECTED
    return rx.toast.error(message[:1].upper() + message[1:])
