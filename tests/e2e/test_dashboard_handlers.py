"""The dashboard's event handlers called as Reflex calls them, on a state tree of
their own, against the real database and Redis: the per-minute limits they share
with the API, the reset of every page state when the user changes, and the
toast a failing handler answers with."""

from __future__ import annotations

import re

import pytest

from hookboard.services import NotFound
from hookboard.services.request_limits import RateLimited
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
from tests.e2e.state_tree import USER_LIMIT, page_state, run, shown, signed_in, tab
from tests.support.receiver import Receiver


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
        assert session.exec(select(User).where(User.email == "leaving@example.com")).all() == []
