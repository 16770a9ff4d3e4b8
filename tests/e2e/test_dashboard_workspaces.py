"""The dashboard's handlers in workspaces, called as Reflex calls them on a state
tree of their own, against the real database and Redis: a page state reset when
the tab's workspace changes, the fallback to the user's own workspace, a
viewer's reasons and refusals, every page loading for each role, and renaming or
deleting a workspace."""

from __future__ import annotations

import pytest
from sqlmodel import Session

from hookboard.models import Membership
from hookboard.services import crud
from hookboard.ui.event_errors import toast_for_error
from hookboard.ui.pages.keys import KeysState
from hookboard.ui.pages.logs import LogsState
from hookboard.ui.pages.settings import SettingsState
from hookboard.ui.pages.targets import TargetsState
from hookboard.ui.state import AuthState
from tests.api.support import new_user
from tests.e2e.access import owner_access
from tests.e2e.state_tree import page_state, run, shown, signed_in, tab


def second_workspace(engine, owner_workspace: int, name: str = "Team") -> int:
    """Another workspace of the owner of `owner_workspace`."""
    owner = owner_access(engine, owner_workspace).user_id
    with Session(engine) as session:
        workspace = crud.create_workspace(session, name=name, owner_id=owner)
        session.commit()
        return workspace.id


def join(engine, workspace_id: int, user_workspace: int, role: str) -> None:
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
