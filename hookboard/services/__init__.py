"""Schedules, targets and runs as the API and the dashboard see them.

Keyword-only functions that take a Session. They validate everything they are
given (the API's pydantic models only add types and ranges in front), raise the
errors below, flush, and never commit: the caller's transaction decides. No
FastAPI here; the routes map the errors to HTTP:

* `InvalidInput(field, message)` -> 422, `field` a dotted API path ("request.url");
* `NotFound(what)` -> 404; another user's row is "not found" exactly like a missing one;
* `Conflict(message, code=..., field=...)` -> 409.

Lists use keyset pagination on the primary key with an opaque cursor, so a page
a million rows deep costs what the first page costs (runs: index (user_id, id)
or (schedule_id, id), walked newest first).
"""

from hookboard.services.config import (
    ServiceConfig,
)
from hookboard.services.errors import (
    Conflict,
    InvalidInput,
    NotFound,
    ServiceError,
)
from hookboard.services.fields import (
    DEFAULT_METHOD,
    FIELD_PATHS,
    MAX_HEADER_NAME_CHARS,
    MAX_HEADER_VALUE_CHARS,
    MAX_HEADERS,
    api_field,
    check_body,
    check_headers,
    check_method,
    check_request_fields,
    check_templated_url,
    check_text,
    check_url_allowed,
    keep_masked_secrets,
)
from hookboard.services.pagination import (
    DEFAULT_PAGE_SIZE,
    MAX_ID,
    MAX_PAGE_SIZE,
    Page,
    decode_cursor,
    encode_cursor,
    make_page,
    page_size,
    valid_id,
)
from hookboard.services.preview import (
    PREVIEW_COUNT,
    Preview,
    preview_schedule,
)
from hookboard.services.runs import (
    get_run,
    list_runs,
    run_attempts,
    runs_query,
)
from hookboard.services.schedule_rules import (
    SCHEDULE_COLUMNS,
    TIMING_FIELDS,
)
from hookboard.services.schedules import (
    create_schedule,
    delete_schedule,
    get_schedule,
    last_runs,
    list_schedules,
    pause_schedule,
    resume_schedule,
    update_schedule,
)
from hookboard.services.send_test import (
    build_test_request,
    prepare_test_delivery,
    send_test_delivery,
)
from hookboard.services.stats import (
    STATS_SAMPLE_LIMIT,
    ScheduleStats,
    percentile,
    schedule_stats,
)
from hookboard.services.targets import (
    USED_BY_SHOWN,
    TargetUsage,
    create_target,
    delete_target,
    get_target,
    list_targets,
    target_usage,
    update_target,
)

__all__ = [
    "DEFAULT_METHOD",
    "DEFAULT_PAGE_SIZE",
    "FIELD_PATHS",
    "MAX_HEADERS",
    "MAX_HEADER_NAME_CHARS",
    "MAX_HEADER_VALUE_CHARS",
    "MAX_ID",
    "MAX_PAGE_SIZE",
    "PREVIEW_COUNT",
    "SCHEDULE_COLUMNS",
    "STATS_SAMPLE_LIMIT",
    "TIMING_FIELDS",
    "USED_BY_SHOWN",
    "Conflict",
    "InvalidInput",
    "NotFound",
    "Page",
    "Preview",
    "ScheduleStats",
    "ServiceConfig",
    "ServiceError",
    "TargetUsage",
    "api_field",
    "build_test_request",
    "check_body",
    "check_headers",
    "check_method",
    "check_request_fields",
    "check_templated_url",
    "check_text",
    "check_url_allowed",
    "create_schedule",
    "create_target",
    "decode_cursor",
    "delete_schedule",
    "delete_target",
    "encode_cursor",
    "get_run",
    "get_schedule",
    "get_target",
    "keep_masked_secrets",
    "last_runs",
    "list_runs",
    "list_schedules",
    "list_targets",
    "make_page",
    "page_size",
    "pause_schedule",
    "percentile",
    "prepare_test_delivery",
    "preview_schedule",
    "resume_schedule",
    "run_attempts",
    "runs_query",
    "schedule_stats",
    "send_test_delivery",
    "target_usage",
    "update_schedule",
    "update_target",
    "valid_id",
]
