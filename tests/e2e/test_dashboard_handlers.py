"""The dashboard's event handlers called as Reflex calls them, on a state tree of
their own, against the real database and Redis: the per-minute limits they share
with the API, the reset of every page state when the user changes, and the
toast a failing handler answers with."""

from __future__ import annotations

import asyncio
import re
from collections.abc import Iterator
from concurrent.futures import ThreadPoolExecutor

import pytest
import reflex as rx

from hookboard.core import db
from hookboard.services import NotFound, ratelimit
from hookboard.services.request_limits import RateLimited
from hookboard.settings import get_settings
from hookboard.ui import services
from hookboard.ui.editor.state import EditorState
from hookboard.ui.event_errors import UNEXPECTED, toast_for_error
from hookboard.ui.pages.keys import KeysState
from hookboard.ui.pages.logs import LogsState
from hookboard.ui.pages.schedule_import import ImportState
from hookboard.ui.pages.settings import SettingsState
from hookboard.ui.pages.targets import TargetsState
from hookboard.ui.state import AuthState
from tests.api.support import new_user
from tests.e2e.access import owner_access
from tests.support.receiver import Receiver

USER_LIMIT = 50


def _clear_caches() -> None:
    for cached in (get_settings, db.get_engine, db.get_read_engine, ratelimit.get_limiter):
        cached.cache_clear()
    services.config.cache_clear()


@pytest.fixture
def app_settings(monkeypatch, engine, redis, redis_url) -> Iterator[None]:
    """The handlers' own engine, limiter and config, on the test database and Redis."""
    monkeypatch.setenv("DATABASE_URL", str(engine.url))
    monkeypatch.setenv("REDIS_URL", redis_url)
    monkeypatch.setenv("ALLOW_PRIVATE_TARGETS", "true")
    monkeypatch.setenv("RATE_LIMIT_PER_MINUTE", "0")
    monkeypatch.setenv("USER_RATE_LIMIT_PER_MINUTE", str(USER_LIMIT))
    _clear_caches()
    yield
    _clear_caches()


def tab() -> rx.State:
    """One browser tab's state tree, as the state manager builds it."""
    return rx.State(_reflex_internal_init=True)


def page_state(root: rx.State, state_cls):
    return root.get_substate(state_cls.get_full_name().split("."))


def signed_in(root: rx.State, engine, email: str) -> str:
    _, headers = new_user(engine, email)
    token = headers["Authorization"].removeprefix("Bearer ")
    page_state(root, AuthState).token = token
    return token


def run(handler, state, *args):
    """Call an event handler's function; drain it when it is a generator.

    In a thread of its own: Playwright's sync API (the browser tests of this
    package) keeps an event loop running in the main thread."""
    result = handler.fn(state, *args)
    if hasattr(result, "__anext__"):

        async def drain():
            return [item async for item in result]

        return _in_a_thread(drain())
    if asyncio.iscoroutine(result):
        return _in_a_thread(result)
    return result


def _in_a_thread(coroutine):
    with ThreadPoolExecutor(max_workers=1) as pool:
        return pool.submit(asyncio.run, coroutine).result()


def shown(result) -> str:
    """The JavaScript of the events a handler answered with (a toast's text is in it)."""
    specs = result if isinstance(result, list) else [result]
    return " ".join(
        str(value) for spec in specs if spec is not None for _, value in getattr(spec, "args", ())
    )


def fresh_minute(needed_seconds: float = 20) -> None:
    import time

    left = 60 - time.time() % 60
    if left < needed_seconds:
        time.sleep(left + 0.05)


def test_test_requests_from_the_editor_count_against_the_users_api_limit(app_settings, engine):
    root = tab()
    signed_in(root, engine, "me@example.com")
    editor = page_state(root, EditorState)
    fresh_minute()
    sent, refused = 0, 0
    with Receiver(status=200) as receiver:
        editor.form = {**editor.form, "url": f"http://localhost:{receiver.port}/hook"}
        for _ in range(60):
            try:
                run(EditorState.send_test, editor)
                sent += 1
            except RateLimited as error:
                refused += 1
                assert error.retry_after >= 1
        assert receiver.request_count == USER_LIMIT
    assert (sent, refused) == (USER_LIMIT, 60 - USER_LIMIT)


def test_a_rate_limited_event_becomes_a_toast_that_says_when_to_retry():
    toast = toast_for_error(RateLimited(50, 12, {}))
    assert "Rate limit of 50 requests per minute exceeded; retry in 12 s" in shown(toast)


def test_logging_out_resets_every_page_state_of_the_tab(app_settings, engine):
    root = tab()
    signed_in(root, engine, "me@example.com")
    settings_page = page_state(root, SettingsState)
    run(SettingsState.load, settings_page)
    run(SettingsState.toggle_reveal, settings_page)
    secret = settings_page.secret_shown
    assert secret.startswith("whsec_")
    page_state(root, ImportState).text = '{"secret": "from an export"}'
    page_state(root, EditorState).form = {**EditorState.get_fields()["form"].default_value()}
    page_state(root, EditorState).form["body"] = "a run body"

    run(AuthState.logout, page_state(root, AuthState))

    assert page_state(root, AuthState).token == ""
    assert settings_page.secret_shown == ""
    assert page_state(root, ImportState).text == ""
    assert page_state(root, EditorState).form["body"] == ""


def test_logging_in_as_another_user_drops_the_previous_users_page_data(app_settings, engine):
    root = tab()
    signed_in(root, engine, "alice@example.com")
    settings_page = page_state(root, SettingsState)
    run(SettingsState.toggle_reveal, settings_page)
    assert settings_page.secret_shown.startswith("whsec_")
    _, bob = new_user(engine, "bob@example.com")

    run(AuthState.begin_session, page_state(root, AuthState), bob["Authorization"][7:])

    assert settings_page.secret_shown == ""
    assert page_state(root, AuthState).token == bob["Authorization"][7:]


def test_a_page_state_left_by_another_user_is_reset_before_it_serves_the_next(app_settings, engine):
    """A token that changed under the tab (another tab logged in as someone else)."""
    root = tab()
    signed_in(root, engine, "alice@example.com")
    importer = page_state(root, ImportState)
    run(ImportState.set_text, importer, '{"version": 1, "targets": [], "schedules": []}')
    run(ImportState.check, importer)
    assert importer.checked
    signed_in(root, engine, "bob@example.com")  # the synced LocalStorage token

    run(ImportState.check, importer)

    assert importer.text == "" and not importer.checked


def test_a_schedule_filter_that_is_not_an_id_is_a_toast_naming_it(app_settings, engine):
    root = tab()
    signed_in(root, engine, "me@example.com")
    logs = page_state(root, LogsState)
    logs.schedule_filter = "abc"
    result = run(LogsState.set_status_filter, logs, "all")
    assert "schedule: not a valid id" in shown(result)
    assert logs.filter_error == "schedule: not a valid id"


@pytest.mark.parametrize("key_id", ["abc", "0", str(2**64), "999999"])
def test_revoking_a_key_that_is_not_there_is_not_found(app_settings, engine, key_id):
    root = tab()
    signed_in(root, engine, "me@example.com")
    keys = page_state(root, KeysState)
    try:
        result = run(KeysState.revoke, keys, key_id)
    except NotFound as error:  # the app's exception handler shows it as a toast
        result = toast_for_error(error)
    assert re.search(r"(API key not found|already revoked)", shown(result))


def test_saving_another_users_target_is_not_found(app_settings, engine):
    from hookboard.services import create_target

    root = tab()
    signed_in(root, engine, "me@example.com")
    other_workspace, _ = new_user(engine, "other@example.com")
    from sqlmodel import Session

    with Session(engine, expire_on_commit=False) as session:
        theirs = create_target(
            session,
            access=owner_access(engine, other_workspace),
            fields={"name": "theirs", "url": "https://example.com/t"},
            now=services.now(),
            config=services.config(),
        )
        session.commit()
    targets = page_state(root, TargetsState)
    run(TargetsState.open_edit, targets, {"id": str(theirs.id), "name": "mine now"})
    targets.form = {**targets.form, "url": "https://example.com/mine"}
    result = run(TargetsState.save, targets)
    assert "target not found" in shown(result)


def test_a_bug_in_a_handler_is_a_toast_that_says_it_was_logged(caplog):
    toast = toast_for_error(KeyError("whsec_secret_value"))
    assert UNEXPECTED in shown(toast) and "whsec_secret_value" not in shown(toast)


def test_deleting_the_account_from_settings_needs_the_password_then_signs_out(app_settings, engine):
    from sqlmodel import Session, select

    from hookboard.models import User
    from hookboard.ui.pages.account_deletion import DeleteAccountState

    password = "correct horse battery"  # tests.api.support.PASSWORD_HASH

    root = tab()
    signed_in(root, engine, "leaving@example.com")
    card = page_state(root, DeleteAccountState)

    run(DeleteAccountState.delete_account, card, {"password": "not it"})
    assert card.errors["password"] and not card.deleting
    with Session(engine) as session:
        assert session.query(User).filter_by(email="leaving@example.com").count() == 1

    answer = run(DeleteAccountState.delete_account, card, {"password": password})
    assert "Your account has been deleted" in shown(answer[-1])
    assert page_state(root, AuthState).token == ""
    with Session(engine) as session:
        [user] = session.exec(select(User).where(User.email == "leaving@example.com")).all()
        assert not user.is_active  # closed; its workspace and data are purged


def second_workspace(engine, owner_workspace: int, name: str = "Team") -> int:
    """Another workspace of the owner of `owner_workspace`."""
    from sqlmodel import Session

    from hookboard.services import crud

    owner = owner_access(engine, owner_workspace).user_id
    with Session(engine) as session:
        workspace = crud.create_workspace(session, name=name, owner_id=owner)
        session.commit()
        return workspace.id


def join(engine, workspace_id: int, user_workspace: int, role: str) -> None:
    from sqlmodel import Session

    from hookboard.models import Membership

    user_id = owner_access(engine, user_workspace).user_id
    with Session(engine) as session:
        session.add(Membership(workspace_id=workspace_id, user_id=user_id, role=role))
        session.commit()


def test_a_page_state_that_served_another_workspace_is_reset_before_it_serves_this_one(
    app_settings, engine
):
    root = tab()
    signed_in(root, engine, "alice@example.com")
    auth = page_state(root, AuthState)
    settings_page = page_state(root, SettingsState)
    run(SettingsState.toggle_reveal, settings_page)
    personal = auth.workspace_id
    first_secret = settings_page.secret_shown
    assert first_secret.startswith("whsec_") and auth.workspace_ref == str(personal)
    team = second_workspace(engine, personal)

    auth.workspace_ref = str(team)  # the switcher's LocalStorage value
    run(SettingsState.load, settings_page)

    assert settings_page.secret_shown == "" and auth.workspace_id == team
    run(SettingsState.toggle_reveal, settings_page)
    assert settings_page.secret_shown.startswith("whsec_")
    assert settings_page.secret_shown != first_secret  # the team's own secret


def test_a_workspace_that_is_not_the_users_falls_back_to_their_own(app_settings, engine):
    root = tab()
    signed_in(root, engine, "alice@example.com")
    theirs, _ = new_user(engine, "mallory@example.com")
    auth = page_state(root, AuthState)
    for ref in (str(theirs), "not a number", str(2**64)):
        auth.workspace_ref = ref
        run(KeysState.load, page_state(root, KeysState))
        assert auth.workspace_id != theirs
        assert auth.workspace_ref == str(auth.workspace_id)


def test_a_viewer_gets_the_reasons_for_disabled_buttons_and_a_forbidden_toast(app_settings, engine):
    from hookboard.services.workspaces.permissions import Forbidden
    from hookboard.ui.pages.schedules import ScheduleListState

    owner_workspace, _ = new_user(engine, "owner@example.com")
    team = second_workspace(engine, owner_workspace)
    root = tab()
    signed_in(root, engine, "viewer@example.com")
    join(engine, team, page_state(root, AuthState)._access().workspace_id, "viewer")
    auth = page_state(root, AuthState)
    auth.workspace_ref = str(team)
    schedules = page_state(root, ScheduleListState)
    run(ScheduleListState.load, schedules)

    assert auth.role == "viewer"
    assert auth.deny_write == "needs the editor role (yours is viewer)"
    assert auth.deny_manage == "needs the admin role (yours is viewer)"
    with pytest.raises(Forbidden) as refused:
        run(KeysState.create, page_state(root, KeysState))
    assert "admin role" in shown(toast_for_error(refused.value))


def test_every_list_page_loads_for_an_owner_and_for_a_viewer(app_settings, engine):
    from hookboard.ui.components.workspace_switcher import WorkspaceSwitchState
    from hookboard.ui.pages.audit import AuditState
    from hookboard.ui.pages.members import MembersState
    from hookboard.ui.pages.notifications import NotificationsState
    from hookboard.ui.pages.overview import OverviewState
    from hookboard.ui.pages.schedules import ScheduleListState
    from hookboard.ui.pages.security import SecurityState

    pages = (
        OverviewState, ScheduleListState, TargetsState, LogsState, NotificationsState,
        KeysState, SettingsState, SecurityState, MembersState, AuditState, WorkspaceSwitchState,
    )  # fmt: skip
    root = tab()
    signed_in(root, engine, "owner@example.com")
    run(KeysState.load, page_state(root, KeysState))
    auth = page_state(root, AuthState)
    owner_workspace = auth.workspace_id
    keys = page_state(root, KeysState)
    keys.new_name = "ci"
    run(KeysState.create, keys)
    viewer_root = tab()
    signed_in(viewer_root, engine, "viewer@example.com")
    join(
        engine, owner_workspace, page_state(viewer_root, AuthState)._access().workspace_id, "viewer"
    )
    page_state(viewer_root, AuthState).workspace_ref = str(owner_workspace)

    for tree, role in ((root, "owner"), (viewer_root, "viewer")):
        for state_cls in pages:
            run(state_cls.load, page_state(tree, state_cls))
        assert page_state(tree, AuthState).role == role
        assert len(page_state(tree, KeysState).keys) == 1
        assert len(page_state(tree, MembersState).members) == 2
        switch = page_state(tree, WorkspaceSwitchState)
        assert switch.current_name and len(switch.workspaces) == (1 if role == "owner" else 2)
    assert [row["action"] for row in page_state(root, AuditState).rows][:1] == ["key.create"]
    assert page_state(viewer_root, AuditState).rows == []  # the page says why instead


def test_an_owner_renames_and_deletes_a_workspace_from_the_members_page(app_settings, engine):
    from hookboard.services.workspaces.permissions import Forbidden
    from hookboard.ui.pages.workspace_settings import WorkspaceSettingsState

    root = tab()
    signed_in(root, engine, "owner@example.com")
    auth = page_state(root, AuthState)
    run(KeysState.load, page_state(root, KeysState))
    personal = auth.workspace_id
    team = second_workspace(engine, personal)
    auth.workspace_ref = str(team)
    card = page_state(root, WorkspaceSettingsState)
    run(WorkspaceSettingsState.load, card)
    assert (card.name, card.personal) == ("Team", False)

    run(WorkspaceSettingsState.rename, card, {"name": "Platform"})
    assert card.name == "Platform"
    run(WorkspaceSettingsState.delete, card, {"confirm": "Team"})
    assert "type the workspace's name" in card.confirm_error
    answer = run(WorkspaceSettingsState.delete, card, {"confirm": "Platform"})
    assert "Workspace deleted" in shown(answer)
    run(KeysState.load, page_state(root, KeysState))
    assert auth.workspace_id == personal

    viewer_root = tab()
    signed_in(viewer_root, engine, "viewer@example.com")
    other = second_workspace(engine, personal, "Other")
    join(engine, other, page_state(viewer_root, AuthState)._access().workspace_id, "viewer")
    page_state(viewer_root, AuthState).workspace_ref = str(other)
    with pytest.raises(Forbidden):
        run(WorkspaceSettingsState.rename, page_state(viewer_root, WorkspaceSettingsState), {})
