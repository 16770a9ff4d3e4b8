"""Every bound and choice a schedule or target field accepts, declared once.

The service checks, the API and import schemas, the storage columns, the
settings and the dashboard's inputs all read these, so a limit changes in one
place. Pure data: this module imports nothing, and settings may import it."""

from __future__ import annotations

HTTP_METHODS = ("GET", "POST", "PUT", "PATCH", "DELETE", "HEAD", "OPTIONS")
SCHEDULE_KINDS = ("cron", "interval", "once", "window")
INTERVAL_UNITS = ("seconds", "minutes", "hours", "days", "weeks", "months", "years")
BACKOFFS = ("fixed", "linear", "exponential")
MISFIRES = ("coalesce", "skip")  # a fire missed while down: run once, or not at all
OVERLAPS = ("skip", "allow")  # a fire while the last run is still going

MAX_NAME_CHARS = 200
MAX_URL_CHARS = 2048
MAX_CRON_CHARS = 200
MAX_TIMEZONE_CHARS = 64
MAX_STORED_EVERY = 2**31 - 1  # an interval's step fits a 32-bit column
MAX_AUTO_PAUSE_AFTER = 1000  # failed runs in a row; 0 turns auto-pause off
# Destination allowlists (PRIVATE_TARGET_ALLOWLIST, TARGET_HOST_ALLOWLIST): parsed at startup.
MAX_ALLOWLIST_ENTRIES = 500
MAX_ALLOWLIST_ENTRY_CHARS = 300  # a 253-character host name, a port, brackets
# Response headers an attempt keeps (names and values, UTF-8 bytes); the rest are counted.
MAX_STORED_RESPONSE_HEADER_BYTES = 16 * 1024

# Numeric schedule fields: (lowest, highest), both allowed.
RANGES = {
    "timeout_seconds": (1, 1800),
    "max_attempts": (1, 20),
    "base_delay_seconds": (0, 86_400),
    "max_delay_seconds": (0, 604_800),
    "auto_pause_after": (0, MAX_AUTO_PAUSE_AFTER),
}

# Schedule fields with a fixed set of values.
CHOICES = {
    "backoff": BACKOFFS,
    "misfire": MISFIRES,
    "overlap": OVERLAPS,
}
