"""The workspaces migration (d8dd83c74486) on a populated database, both kinds.

Before it, users own their rows; after it, each user's personal workspace (id =
user id) does, and every id, key, token, secret and badge URL keeps working: an
old API key and session call the API over real HTTP, a badge answers, and the
real ticker and worker deliver a due schedule signed with the old secret.
Downgrade gives the rows back to their users (a shared workspace's to its
longest-standing owner, a colliding target name suffixed), and upgrading again
works.
"""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

import httpx
import pytest
from sqlalchemy import inspect, select, text
from sqlmodel import Session
from standardwebhooks.webhooks import Webhook

from alembic import command
from hookboard.core.db import make_engine
from hookboard.core.migrate import alembic_config
from hookboard.domain.webhook_ids import run_webhook_id
from hookboard.models import (
    ApiKey,
    Attempt,
    Membership,
    NotificationChannel,
    Run,
    SigningSecret,
    Target,
    User,
    Workspace,
)
from hookboard.services import crud
from tests.support.api_server import serve_api
from tests.support.engine import EngineProcesses, wait_until
from tests.support.pre_workspace_seed import (
    BEFORE_WORKSPACES,
    OWNED_TABLES,
    PASSWORD_HASH,
    TOTP_SECRET,
    USER_TABLES,
    WORKSPACES,
    Seeded,
    seed_user,
)
from tests.support.receiver import Receiver

BOTH = ["sqlite", pytest.param("postgres", marks=pytest.mark.postgres)]


@pytest.fixture
def fresh_database_url(request, tmp_path):
    """An empty database of the parametrised kind, not shared with other tests."""
    if request.param == "sqlite":
        yield f"sqlite:///{tmp_path / 'fresh.db'}"
        return
    from tests.support.databases import (
        postgres_admin_url,
        postgres_unavailable_reason,
        temporary_postgres_database,
    )

    if reason := postgres_unavailable_reason(postgres_admin_url()):
        pytest.skip(f"PostgreSQL tests skipped: {reason}")
    with temporary_postgres_database(postgres_admin_url()) as url:
        yield url


def owners(connection, column: str) -> dict[str, dict[int, int]]:
    """table -> {row id: its owner column's value}, for every owned table."""
    return {
        table: dict(connection.execute(text(f"SELECT id, {column} FROM {table}")).all())
        for table in OWNED_TABLES
    }


def counts(connection) -> dict[str, int | set[int]]:
    """Rows per table; and the ids of the rows that stay with their user."""
    counted: dict[str, int | set[int]] = {
        table: connection.execute(text(f"SELECT count(*) FROM {table}")).scalar_one()
        for table in (*OWNED_TABLES, *USER_TABLES)
    }
    for table in USER_TABLES:
        counted[f"{table} ids"] = set(connection.execute(text(f"SELECT id FROM {table}")).scalars())
    return counted


@pytest.mark.parametrize("fresh_database_url", BOTH, indirect=True)
def test_the_workspaces_migration_keeps_every_row_key_token_and_badge(
    fresh_database_url, redis_url
):
    url = fresh_database_url
    config = alembic_config(url)
    command.upgrade(config, BEFORE_WORKSPACES)
    engine = make_engine(url)
    with Receiver() as receiver:
        with engine.begin() as connection:
            alice = seed_user(
                connection, "alice@example.com", hook_url=receiver.url + "/alice", two_factor=True
            )
            bob = seed_user(
                connection, "bob@example.com", hook_url=receiver.url + "/bob", active=False
            )
            before = owners(connection, "user_id")
            counted = counts(connection)
            keys_by_user = before["api_keys"]

        command.upgrade(config, WORKSPACES)
        with engine.connect() as connection:
            assert counts(connection) == counted
            assert owners(connection, "workspace_id") == before  # same ids, same numbers
            created_by = dict(
                connection.execute(text("SELECT id, created_by_user_id FROM api_keys")).all()
            )
            assert created_by == keys_by_user
        _assert_personal_workspaces(engine, alice, bob)
        _assert_secrets_still_decrypt(engine, alice)

        with serve_api(
            DATABASE_URL=url, REDIS_URL=redis_url, QUEUE_NAME="hb-migration-api"
        ) as base:
            _assert_old_credentials_work(base, alice, bob)
        _assert_a_delivery_is_made(url, redis_url, engine, receiver, alice)

    shared = _add_shared_workspace(engine, alice)
    with engine.connect() as connection:
        expected = {
            table: {row: shared.owner_of(owner) for row, owner in rows.items()}
            for table, rows in owners(connection, "workspace_id").items()
        }
        counted = counts(connection)

    command.downgrade(config, BEFORE_WORKSPACES)
    with engine.connect() as connection:
        assert counts(connection) == counted
        assert owners(connection, "user_id") == expected
        names = dict(connection.execute(text("SELECT id, name FROM targets")).all())
        assert names[shared.colliding_target] == f"billing (workspace {shared.workspace_id})"
        assert names[shared.other_target] == "shared only"
        assert {names[i] for i in alice.ids["targets"]} == {"billing"}
        tables = set(inspect(connection).get_table_names())
        assert not {"workspaces", "memberships", "invitations", "audit_events"} & tables

    command.upgrade(config, "head")
    with engine.connect() as connection:
        assert counts(connection) == counted
        assert owners(connection, "workspace_id") == expected
    engine.dispose()


def _assert_personal_workspaces(engine, alice: Seeded, bob: Seeded) -> None:
    with Session(engine) as session:
        workspaces = {w.id: w for w in session.execute(select(Workspace)).scalars()}
        members = [
            (m.workspace_id, m.user_id, m.role)
            for m in session.execute(select(Membership)).scalars()
        ]
    assert set(workspaces) == {alice.user_id, bob.user_id}
    for user in (alice, bob):
        assert workspaces[user.user_id].personal_for_user_id == user.user_id
    assert workspaces[alice.user_id].deleted_at is None
    assert workspaces[bob.user_id].deleted_at is not None  # the closed account's
    assert sorted(members) == sorted((user.user_id, user.user_id, "owner") for user in (alice, bob))


def _assert_secrets_still_decrypt(engine, alice: Seeded) -> None:
    with Session(engine) as session:
        secret = session.execute(
            select(SigningSecret.secret).where(SigningSecret.workspace_id == alice.user_id)
        ).scalar_one()
        assert secret == alice.signing_secret
        assert session.get(User, alice.user_id).totp_secret == TOTP_SECRET
        target = session.get(Target, alice.ids["targets"][0])
        assert target.headers["X-Api-Key"] == "target-key"
        hook = session.get(NotificationChannel, alice.ids["notification_channels"][0])
        assert hook.url == "http://127.0.0.1:9/services/T0/B0/token"


def _assert_old_credentials_work(base: str, alice: Seeded, bob: Seeded) -> None:
    with httpx.Client(base_url=base + "/api/v1", timeout=30) as http:

        def bearer(token: str) -> dict[str, str]:
            return {"Authorization": f"Bearer {token}"}

        listed = http.get("/schedules", headers=bearer(alice.read_key))
        assert listed.status_code == 200, listed.text
        assert {s["id"] for s in listed.json()["items"]} == set(alice.ids["schedules"])
        run = http.get(f"/runs/{alice.ids['runs'][-1]}", headers=bearer(alice.read_key))
        assert run.status_code == 200, run.text
        assert run.json()["status"] == "failed"
        cron = alice.ids["schedules"][0]
        renamed = http.patch(
            f"/schedules/{cron}", json={"name": "renamed"}, headers=bearer(alice.write_key)
        )
        assert renamed.status_code == 200, renamed.text
        sessions = http.get("/auth/sessions", headers=bearer(alice.session_token))
        assert sessions.status_code == 200, sessions.text
        workspaces = http.get("/workspaces", headers=bearer(alice.session_token))
        assert workspaces.status_code == 200, workspaces.text
        assert [w["id"] for w in workspaces.json()["items"]] == [alice.user_id]

        badge = http.get(f"/badges/{alice.badge_token}.svg")
        assert badge.status_code == 200, badge.text
        assert badge.headers["content-type"].startswith("image/svg+xml")
        assert badge.text.lstrip().startswith("<svg")

        # The closed account's keys and session act no more.
        assert http.get("/schedules", headers=bearer(bob.read_key)).status_code == 401
        assert http.get("/schedules", headers=bearer(bob.session_token)).status_code == 401


def _assert_a_delivery_is_made(url, redis_url, engine, receiver: Receiver, alice: Seeded):
    def delivered():
        with Session(engine) as session:
            return (
                session.execute(
                    select(Run).where(
                        Run.schedule_id == alice.due_schedule_id, Run.status == "succeeded"
                    )
                )
                .scalars()
                .first()
            )

    with EngineProcesses(url, redis_url) as processes:
        processes.ticker()
        processes.worker()
        run = wait_until(delivered, timeout=60)
        [request] = receiver.wait_for(1)
    assert request.path == "/alice"
    assert request.headers["x-api-key"] == "target-key"
    assert request.headers["authorization"] == "Bearer schedule-token"
    assert request.headers["webhook-id"] == run_webhook_id(run.id, run.delivery_key)
    assert request.body == b'{"n": 1}'
    Webhook(alice.signing_secret).verify(request.body, request.headers)  # the old secret signs
    assert run.workspace_id == alice.user_id
    with Session(engine) as session:
        attempts = session.execute(select(Attempt).where(Attempt.run_id == run.id)).scalars().all()
    assert [a.status_code for a in attempts] == [200]


class Shared:
    """A shared workspace added after the upgrade, and whom each workspace's rows go
    back to: a personal one's user, the shared one's longest-standing owner."""

    def __init__(self, engine, workspace_id: int, first_owner: int, colliding: int, other: int):
        self.workspace_id = workspace_id
        self.colliding_target = colliding
        self.other_target = other
        with Session(engine) as session:
            personal = session.execute(select(Workspace.id, Workspace.personal_for_user_id))
            self.user_of = {id_: user for id_, user in personal if user is not None}
        self.user_of[workspace_id] = first_owner

    def owner_of(self, workspace_id: int) -> int:
        return self.user_of[workspace_id]


def _add_shared_workspace(engine, alice: Seeded) -> Shared:
    """Team, owned by carol (joined today) and alice (an owner for ten days): its
    rows, one a target named like one of alice's own."""
    now = datetime.now(UTC)
    with Session(engine) as session:
        carol = User(email="carol@example.com", password_hash=PASSWORD_HASH)
        session.add(carol)
        session.flush()
        carol_personal = crud.create_workspace(
            session, name="Personal", owner_id=carol.id, personal=True
        )
        # carol's membership comes first by id; alice's is the longest-standing.
        team = crud.create_workspace(session, name="Team", owner_id=carol.id)
        session.add(
            Membership(
                workspace_id=team.id,
                user_id=alice.user_id,
                role="owner",
                created_at=now - timedelta(days=10),
            )
        )
        colliding = Target(workspace_id=team.id, name="billing", url="http://127.0.0.1:9/t")
        other = Target(workspace_id=team.id, name="shared only", url="http://127.0.0.1:9/o")
        session.add_all([colliding, other])
        session.flush()
        schedule = crud.create_schedule(
            session,
            workspace_id=team.id,
            now=now,
            name="team schedule",
            kind="interval",
            every=1,
            unit="days",
            target_id=colliding.id,
        )
        run = Run(workspace_id=team.id, schedule_id=schedule.id, scheduled_for=now)
        session.add(run)
        session.flush()
        session.add(
            Attempt(
                run_id=run.id,
                workspace_id=team.id,
                number=1,
                started_at=now,
                error_class="success",
                request_method="POST",
                request_url=colliding.url,
            )
        )
        session.add(
            NotificationChannel(
                workspace_id=team.id, name="team mail", kind="email", email="t@example.com"
            )
        )
        session.add(
            ApiKey(
                workspace_id=team.id,
                created_by_user_id=carol.id,
                name="team key",
                prefix="hbk_team",
                key_hash="f" * 64,
                scope="read",
            )
        )
        ids = (team.id, alice.user_id, colliding.id, other.id)
        assert carol_personal.id != team.id
        session.commit()
    return Shared(engine, *ids)


def test_the_migration_is_the_one_after_two_factor():
    from alembic.script import ScriptDirectory

    script = ScriptDirectory.from_config(alembic_config()).get_revision(WORKSPACES)
    assert script.down_revision == BEFORE_WORKSPACES
