"""The Reflex app: the dashboard, with the REST API mounted beside it."""

import reflex as rx

from hookboard.api.app import create_api
from hookboard.core.db import get_engine
from hookboard.core.startup import exit_on_wrong_encryption_key
from hookboard.settings import get_settings
from hookboard.ui import routes
from hookboard.ui.editor import (
    view as editor,
)
from hookboard.ui.editor.state import EditorState
from hookboard.ui.hardening import secure_dashboard
from hookboard.ui.pages import (
    audit,
    auth,
    invite,
    keys,
    logs,
    members,
    notifications,
    overview,
    run_detail,
    schedule_detail,
    schedules,
    security,
    settings,
    targets,
)

app = rx.App(
    api_transformer=create_api(),
    stylesheets=["/hookboard.css"],
)
secure_dashboard(app)  # socket origin check, upload guard, error toasts (ui/hardening.py)


def refuse_a_wrong_encryption_key() -> None:
    """The web process's start-up check (the worker and ticker make their own)."""
    exit_on_wrong_encryption_key(get_engine(), get_settings())


app.register_lifespan_task(refuse_a_wrong_encryption_key)

# (view, route, title, on_load); every signed-in page's loader sends visitors to log in.
PAGES = (
    (auth.login_page, routes.LOGIN, "Log in", auth.CredentialsState.skip_if_signed_in),
    (auth.signup_page, routes.SIGNUP, "Sign up", auth.CredentialsState.skip_if_signed_in),
    (overview.view, routes.OVERVIEW, "Overview", overview.OverviewState.load),
    (schedules.view, routes.SCHEDULES, "Schedules", schedules.ScheduleListState.load),
    (editor.new_view, routes.NEW_SCHEDULE, "New schedule", EditorState.load_new),
    (editor.edit_view, "/schedules/[schedule_id]/edit", "Edit schedule", EditorState.load_existing),
    (schedule_detail.view, "/schedules/[schedule_id]", "Schedule", schedule_detail.S.load),
    (targets.view, routes.TARGETS, "Targets", targets.TargetsState.load),
    (logs.view, routes.LOGS, "Logs", logs.LogsState.load),
    (run_detail.view, "/runs/[run_id]", "Run", run_detail.RunDetailState.load),
    (
        notifications.view,
        routes.NOTIFICATIONS,
        "Notifications",
        notifications.NotificationsState.load,
    ),
    (keys.view, routes.KEYS, "API keys", keys.KeysState.load),
    (settings.view, routes.SETTINGS, "Settings", settings.SettingsState.load),
    (security.view, routes.SECURITY, "Security", security.SecurityState.load),
    (members.view, routes.MEMBERS, "Members", members.MembersState.load),
    (audit.view, routes.AUDIT, "Audit log", audit.AuditState.load),
    (invite.view, routes.INVITE, "Join a workspace", invite.InviteState.load),
)
for view, route, title, on_load in PAGES:
    app.add_page(view, route=route, title=f"{title} · Hookboard", on_load=on_load)
