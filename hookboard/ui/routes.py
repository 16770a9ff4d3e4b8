"""The dashboard's paths, in one place."""

LOGIN = "/login"
SIGNUP = "/signup"
OVERVIEW = "/"
SCHEDULES = "/schedules"
NEW_SCHEDULE = "/schedules/new"
TARGETS = "/targets"
LOGS = "/logs"
NOTIFICATIONS = "/notifications"
KEYS = "/keys"
SETTINGS = "/settings"
SECURITY = "/security"
MEMBERS = "/members"
AUDIT = "/audit"
INVITE = "/invite"


def schedule(schedule_id: int | str) -> str:
    return f"/schedules/{schedule_id}"


def edit_schedule(schedule_id: int | str) -> str:
    return f"/schedules/{schedule_id}/edit"


def run(run_id: int | str) -> str:
    return f"/runs/{run_id}"
