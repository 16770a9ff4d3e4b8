"""Every route, every role and a non-member, over real HTTP, on both databases.

The rule of each route is written down here, in RULES, and the app's own route
list must match it: a new route without a rule fails `test_every_route_has_a_rule`
(and so does a rule whose route is gone). Where a route names its action
(`api.deps.allowed` sets `.action`), the rule must be the role the permission
table asks for that action, so this table and that one cannot drift apart.

Then each case sends one request into workspace W, which has an owner, an
admin, an editor and a viewer, a read key (viewer) and a write key (editor):
- a role below the rule gets 403 `forbidden`, naming the role needed (a key
  on a person's route gets 403 too);
- a role at or above it gets neither 403 nor 404 (2xx, 409, 422... are fine:
  the permission is what is tested, with a valid body where that is cheap);
- an outsider (a user with only his own workspace) naming W in the header, or
  his key naming W, or he using W's ids in the path from his own workspace,
  gets 404, exactly as for a missing id.
"""

from __future__ import annotations

import re
import uuid
from collections.abc import Iterator
from dataclasses import dataclass

import httpx
import pytest

from hookboard.api.app import create_api
from hookboard.core.db import make_engine
from hookboard.services.credentials import WORKSPACE_HEADER
from hookboard.services.workspaces.permissions import NEEDED, RANK, Action, Role
from tests.support import workspace_world as ww
from tests.support.databases import empty_all_tables

API_SETTINGS = {"RATE_LIMIT_PER_MINUTE": "0", "USER_RATE_LIMIT_PER_MINUTE": "0"}
V1 = "/api/v1"

VIEWER, EDITOR, ADMIN, OWNER = Role.viewer, Role.editor, Role.admin, Role.owner
PERSON = "person"  # a signed-in member's own session, any role; never a key
PUBLIC = "public"  # no credentials at all
WRONG_METHOD = "405"  # a stub that only answers 405 (schedules/export and /import)

RULES: dict[tuple[str, str], Role | str] = {
    # public
    ("POST", "/auth/signup"): PUBLIC,
    ("POST", "/auth/login"): PUBLIC,
    ("POST", "/auth/login/totp"): PUBLIC,
    ("GET", "/badges/{token}.svg"): PUBLIC,
    # the person's own account
    ("POST", "/auth/logout"): VIEWER,  # a key may call it: 400 not_a_session
    ("POST", "/auth/password"): PERSON,
    ("GET", "/auth/totp"): PERSON,
    ("POST", "/auth/totp/setup"): PERSON,
    ("POST", "/auth/totp/confirm"): PERSON,
    ("POST", "/auth/totp/recovery-codes"): PERSON,
    ("POST", "/auth/totp/disable"): PERSON,
    ("GET", "/auth/sessions"): PERSON,
    ("DELETE", "/auth/sessions/{session_id}"): PERSON,
    ("DELETE", "/auth/sessions"): PERSON,
    ("DELETE", "/account"): PERSON,
    # keys and the signing secret
    ("POST", "/api-keys"): ADMIN,
    ("GET", "/api-keys"): VIEWER,
    ("DELETE", "/api-keys/{id}"): ADMIN,
    ("GET", "/signing-secret"): VIEWER,  # the secret in full for admins only (its prefix else)
    ("POST", "/signing-secret/rotate"): ADMIN,
    # schedules
    ("GET", "/schedules/export"): VIEWER,
    ("POST", "/schedules/import"): EDITOR,
    ("POST", "/schedules/preview"): VIEWER,
    ("POST", "/schedules"): EDITOR,
    ("GET", "/schedules"): VIEWER,
    ("GET", "/schedules/{schedule_id}"): VIEWER,
    ("PATCH", "/schedules/{schedule_id}"): EDITOR,
    ("DELETE", "/schedules/{schedule_id}"): EDITOR,
    ("POST", "/schedules/{schedule_id}/pause"): EDITOR,
    ("POST", "/schedules/{schedule_id}/resume"): EDITOR,
    ("POST", "/schedules/{schedule_id}/trigger"): EDITOR,
    ("GET", "/schedules/{schedule_id}/stats"): VIEWER,
    # targets
    ("POST", "/targets/test"): EDITOR,
    ("POST", "/targets"): EDITOR,
    ("GET", "/targets"): VIEWER,
    ("GET", "/targets/{target_id}"): VIEWER,
    ("PATCH", "/targets/{target_id}"): EDITOR,
    ("DELETE", "/targets/{target_id}"): EDITOR,
    # runs
    ("GET", "/runs"): VIEWER,
    ("GET", "/runs/{run_id}"): VIEWER,
    ("POST", "/runs/{run_id}/replay"): EDITOR,
    # notification channels
    ("POST", "/notification-channels"): ADMIN,
    ("GET", "/notification-channels"): VIEWER,
    ("GET", "/notification-channels/{channel_id}"): VIEWER,
    ("PATCH", "/notification-channels/{channel_id}"): ADMIN,
    ("DELETE", "/notification-channels/{channel_id}"): ADMIN,
    ("POST", "/notification-channels/{channel_id}/test"): ADMIN,
    # workspaces, members, invitations (branch ws-workspaces)
    ("GET", "/workspaces"): PERSON,
    ("POST", "/workspaces"): PERSON,
    # Any member, but signed in: a key never reaches the workspace or its members.
    ("GET", "/workspaces/{id}"): PERSON,
    ("PATCH", "/workspaces/{id}"): OWNER,
    ("DELETE", "/workspaces/{id}"): OWNER,
    ("GET", "/workspaces/{id}/members"): PERSON,
    ("PATCH", "/workspaces/{id}/members/{user_id}"): ADMIN,
    ("DELETE", "/workspaces/{id}/members/{user_id}"): ADMIN,
    ("POST", "/workspaces/{id}/leave"): PERSON,
    ("GET", "/workspaces/{id}/invitations"): ADMIN,
    ("POST", "/workspaces/{id}/invitations"): ADMIN,
    ("DELETE", "/workspaces/{id}/invitations/{invitation_id}"): ADMIN,
    ("POST", "/invitations/accept"): PERSON,
    # the audit log (branch ws-audit)
    ("GET", "/audit-events"): ADMIN,
    ("GET", "/audit-events/export"): ADMIN,
    # 405 stubs: else /schedules/{schedule_id} would take "export" and "import" for ids
    **{("DELETE", "/schedules/export"): WRONG_METHOD, ("PATCH", "/schedules/export"): WRONG_METHOD},
    **{("POST", "/schedules/export"): WRONG_METHOD, ("PUT", "/schedules/export"): WRONG_METHOD},
    **{("DELETE", "/schedules/import"): WRONG_METHOD, ("GET", "/schedules/import"): WRONG_METHOD},
    **{("PATCH", "/schedules/import"): WRONG_METHOD, ("PUT", "/schedules/import"): WRONG_METHOD},
}

CATCH_ALL = V1 + "/{path:path}"  # the JSON 404/405 of unknown paths (api/errors.py)


# ----------------------------------------------------------------- the app's own routes


def _actions_of(dependant) -> set[Action]:
    """Every `.action` named in a route's dependency tree."""
    if dependant is None:
        return set()
    found = {dependant.call.action} if hasattr(dependant.call, "action") else set()
    for sub in dependant.dependencies:
        found |= _actions_of(sub)
    return found


def app_routes() -> dict[tuple[str, str], set[Action]]:
    """(method, path under /api/v1) -> the actions its dependencies name."""
    routes: dict[tuple[str, str], set[Action]] = {}

    def add(path, methods, dependant):
        if not path.startswith(V1 + "/") or path == CATCH_ALL:
            return
        for method in methods or ():
            routes[(method, path.removeprefix(V1))] = _actions_of(dependant)

    for route in create_api().router.routes:
        contexts = getattr(route, "effective_route_contexts", None)
        if contexts is not None:
            for context in contexts():
                add(context.path, context.methods, context.dependant)
        elif hasattr(route, "methods"):
            add(route.path, route.methods, getattr(route, "dependant", None))
    return routes


APP_ROUTES = app_routes()


def test_every_route_has_a_rule():
    missing = sorted(set(APP_ROUTES) - set(RULES))
    gone = sorted(set(RULES) - set(APP_ROUTES))
    problems = [f"route without a rule in RULES: {m} {V1}{p}" for m, p in missing]
    problems += [f"rule for a route the app does not have: {m} {V1}{p}" for m, p in gone]
    assert not problems, "\n".join(problems)


def test_the_rules_are_the_permission_tables():
    problems = []
    for key, actions in APP_ROUTES.items():
        rule = RULES.get(key)
        if rule is None or not actions:
            continue
        if rule in (PUBLIC, WRONG_METHOD):
            problems.append(f"{key}: the table says {rule}, the route checks {sorted(actions)}")
        elif rule == PERSON:
            if actions != {Action.account}:
                problems.append(f"{key}: a person's route must check `account`, not {actions}")
        elif {NEEDED[action] for action in actions} != {rule}:
            needed = {str(action): str(NEEDED[action]) for action in actions}
            problems.append(f"{key}: the table says {rule}, the permission table {needed}")
    assert not problems, "\n".join(problems)


def test_every_guarded_route_names_its_action():
    """A route that answers members checks through `allowed(action)`: no hand-made role test."""
    unnamed = [
        f"{method} {V1}{path}"
        for (method, path), actions in APP_ROUTES.items()
        if not actions and RULES.get((method, path)) not in (PUBLIC, WRONG_METHOD, None)
    ]
    assert not unnamed, "routes guarded without allowed(action): " + ", ".join(unnamed)


# ----------------------------------------------------------------- the HTTP matrix

MEMBERS = ("owner", "admin", "editor", "viewer")
KEYS = {"key_read": VIEWER, "key_write": EDITOR}
OUTSIDERS = ("outsider", "outsider_key", "outsider_ids")
# Cases whose request ends the credential it carries: they get a fresh one.
ENDS_ITS_SESSION = {("POST", "/auth/logout")}
# Cases after which the members are put back (a member may leave W).
LEAVES = {("POST", "/workspaces/{id}/leave")}
_PARAMETER = re.compile(r"\{([^}]+)\}")


def _unique(stem: str) -> str:
    return f"{stem}-{uuid.uuid4().hex[:8]}"


def body_for(method: str, path: str) -> dict | None:
    """A valid body where that is cheap (and harmless); else {} (a 422 past the guard)."""
    if method in ("GET", "DELETE"):
        return None
    url = "http://127.0.0.1:9/hook"
    return {
        "/schedules": {
            "name": _unique("s"),
            "kind": "interval",
            "every": 1,
            "unit": "hours",
            "request": {"url": url, "method": "POST"},
        },
        "/schedules/preview": {"kind": "interval", "every": 1, "unit": "hours"},
        "/schedules/import": {"version": 1, "targets": [], "schedules": []},
        "/schedules/{schedule_id}": {"timeout_seconds": 10},
        "/targets": {"name": _unique("t"), "url": url},
        "/targets/{target_id}": {"method": "POST"},
        "/notification-channels": {"name": _unique("c"), "kind": "webhook", "url": url},
        "/notification-channels/{channel_id}": {"enabled": True},
        "/api-keys": {"name": _unique("k"), "scope": "read"},
        "/workspaces": {"name": _unique("w")},
        "/workspaces/{id}": {"name": "Team"},
        "/workspaces/{id}/members/{user_id}": {"role": "editor"},
        "/workspaces/{id}/invitations": {"email": _unique("i") + "@example.com", "role": "viewer"},
    }.get(path, {})


@dataclass(frozen=True)
class Case:
    method: str
    path: str
    rule: str
    caller: str

    @property
    def key(self) -> tuple[str, str]:
        return (self.method, self.path)

    def expected(self) -> str:
        """'pass', '403' or '404' (or '405' for a stub)."""
        if self.rule == WRONG_METHOD:
            return "405"
        if self.caller in OUTSIDERS:
            return "404"
        if self.caller in KEYS:
            if self.rule == PERSON or RANK[Role(self.rule)] > RANK[EDITOR]:
                return "403"
            return "pass" if RANK[KEYS[self.caller]] >= RANK[Role(self.rule)] else "403"
        if self.rule == PERSON:
            return "pass"
        return "pass" if RANK[Role(self.caller)] >= RANK[Role(self.rule)] else "403"


def _cases() -> Iterator:
    for (method, path), rule in RULES.items():
        if (method, path) not in APP_ROUTES or rule == PUBLIC:
            continue  # a missing route fails test_every_route_has_a_rule, once
        callers = ["owner", "outsider"] if rule == WRONG_METHOD else [*MEMBERS, *KEYS]
        if rule != WRONG_METHOD:
            callers += ["outsider", "outsider_key"]
            if _PARAMETER.search(path):
                callers.append("outsider_ids")
        for caller in callers:
            case = Case(method, path, rule, caller)
            yield pytest.param(case, id=f"{method} {path} as {caller}")


@pytest.fixture(scope="module")
def world(api_server) -> Iterator[tuple[str, object, ww.World]]:
    """(base URL, engine, W) on one database, built once for the whole matrix."""
    engine = make_engine(api_server[1])
    empty_all_tables(engine)
    yield api_server[0], engine, ww.build_world(engine)
    empty_all_tables(engine)
    engine.dispose()


@pytest.fixture(scope="module")
def http(world) -> Iterator[httpx.Client]:
    with httpx.Client(base_url=world[0], timeout=30) as client:
        yield client


def _path_value(name: str, case: Case, engine, world: ww.World) -> int | str:
    deleting = case.method == "DELETE"
    if name == "schedule_id":
        return ww.fresh_schedule(engine, world) if deleting else world.schedule_id
    if name == "target_id":
        return ww.fresh_target(engine, world) if deleting else world.target_id
    if name == "channel_id":
        return ww.fresh_channel(engine, world) if deleting else world.channel_id
    if name == "run_id":
        return world.run_id
    if name == "invitation_id":
        return ww.fresh_invitation(engine, world) if deleting else world.invitation_id
    if name == "user_id":
        return ww.fresh_member(engine, world)
    if name == "session_id":
        person = case.caller if case.caller in MEMBERS else "owner"
        return ww.fresh_session(engine, world.people[person].user_id)[0]
    if name == "id" and case.path.startswith("/api-keys/"):
        return ww.fresh_key(engine, world)
    if name == "id" and case.path.startswith("/workspaces/"):
        return world.workspace_id
    raise AssertionError(f"no value for {{{name}}} in {case.path}: add one to _path_value")


def _credentials(case: Case, engine, world: ww.World) -> dict[str, str]:
    header = {WORKSPACE_HEADER: str(world.workspace_id)}
    if case.caller in MEMBERS:
        token = world.people[case.caller].token
        if case.key in ENDS_ITS_SESSION:
            token = ww.fresh_session(engine, world.people[case.caller].user_id)[1]
        return {"Authorization": f"Bearer {token}", **header}
    if case.caller in KEYS:
        token = world.keys["read" if case.caller == "key_read" else "write"][1]
        return {"Authorization": f"Bearer {token}", **header}
    if case.caller == "outsider":
        return {"Authorization": f"Bearer {world.people['outsider'].token}", **header}
    if case.caller == "outsider_key":
        return {"Authorization": f"Bearer {world.keys['outsider'][1]}", **header}
    # outsider_ids: from his own workspace, with W's ids in the path
    return {"Authorization": f"Bearer {world.people['outsider'].token}"}


@pytest.mark.parametrize("case", list(_cases()))
def test_permission(case: Case, world, http):
    _, engine, w = world
    path = _PARAMETER.sub(lambda m: str(_path_value(m.group(1), case, engine, w)), case.path)
    body = body_for(case.method, case.path)
    response = http.request(
        case.method, V1 + path, json=body, headers=_credentials(case, engine, w)
    )
    if case.key in LEAVES:
        ww.restore_members(engine, w)
    expected = case.expected()
    said = f"{case.method} {path} as {case.caller}: {response.status_code} {response.text[:300]}"
    if expected == "pass":
        assert response.status_code not in (401, 403, 404), said
        assert response.status_code < 500, said
    elif expected == "403":
        assert response.status_code == 403, said
        error = response.json()["error"]
        assert error["code"] == "forbidden", said
        if case.caller in KEYS and (case.rule == PERSON or RANK[Role(case.rule)] > RANK[EDITOR]):
            assert "API key" in error["message"], said
        else:
            assert f"the {case.rule} role" in error["message"], said
    else:
        assert response.status_code == int(expected), said
        if expected == "404":
            assert response.json()["error"]["code"] == "not_found", said
            headers = _credentials(case, engine, w)
            missing = _as_for_a_missing_id(case, http, path, body, headers)
            assert (missing.status_code, missing.json()) == (404, response.json()), said


MISSING_ID = "9000000000"  # no row and no workspace has it


def _as_for_a_missing_id(case: Case, http: httpx.Client, path: str, body, headers):
    """The same request naming a workspace or ids that do not exist: an outsider's
    answer must not differ from it by a byte of its body."""
    if case.caller == "outsider_ids" or case.path.startswith("/workspaces/{id}"):
        path = _PARAMETER.sub(MISSING_ID, case.path)
    if case.caller != "outsider_ids":
        headers = {**headers, WORKSPACE_HEADER: MISSING_ID}
    return http.request(case.method, V1 + path, json=body, headers=headers)


@pytest.mark.parametrize(
    "method, path",
    [key for key, rule in RULES.items() if rule == PUBLIC and key in APP_ROUTES],
    ids=lambda value: value,
)
def test_public_routes_need_no_credentials(method, path, world, http):
    _, _, w = world
    concrete = path.replace("{token}", w.badge_token)
    response = http.request(method, V1 + concrete, json=body_for(method, path))
    assert response.status_code not in (401, 403, 404), response.text
    assert response.status_code < 500, response.text
    if "badges" in path:
        assert response.status_code == 200
        assert response.headers["content-type"].startswith("image/svg+xml")
