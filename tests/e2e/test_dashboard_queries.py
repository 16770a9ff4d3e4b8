"""The dashboard's read-only queries on a real SQLite file and a real PostgreSQL database."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

from sqlmodel import Session, update

from hookboard.domain.tokens import new_session_token
from hookboard.models import AuthSession, Schedule, User
from hookboard.services import crud
from hookboard.services import dashboard as queries
from tests.api.support import add_run, new_user
from tests.e2e.access import owner_access

NOW = datetime(2026, 3, 10, 14, 30, tzinfo=UTC)


def schedule_of(engine, workspace_id: int, name: str = "ping", status: str = "active") -> int:
    with Session(engine) as session:
        schedule = crud.create_schedule(
            session, workspace_id=workspace_id, now=NOW, name=name, kind="interval", every=1,
            unit="hours", url="https://hooks.example.com/ping", method="POST",
        )  # fmt: skip
        schedule.status = status
        session.commit()
        return schedule.id


def token_for(engine, user_id: int, **fields) -> str:
    issued = new_session_token()
    with Session(engine) as session:
        session.add(
            AuthSession(
                user_id=user_id,
                token_hash=issued.token_hash,
                expires_at=fields.pop("expires_at", NOW + timedelta(days=1)),
                **fields,
            )
        )
        session.commit()
    return issued.token


def test_a_session_token_resolves_to_its_user_until_revoked_expired_or_deactivated(engine):
    workspace_id, _ = new_user(engine, "me@example.com")
    user_id = owner_access(engine, workspace_id).user_id
    live = token_for(engine, user_id)
    revoked = token_for(engine, user_id, revoked_at=NOW)
    expired = token_for(engine, user_id, expires_at=NOW - timedelta(seconds=1))
    with Session(engine) as session:
        found = queries.session_access(session, token=live, now=NOW)
        assert (found.user_id, found.workspace_id, found.email) == (
            user_id,
            workspace_id,
            "me@example.com",
        )
        assert queries.session_access(session, token=revoked, now=NOW) is None
        assert queries.session_access(session, token=expired, now=NOW) is None
        assert queries.session_access(session, token="hbs_unknown", now=NOW) is None
        assert queries.session_access(session, token="", now=NOW) is None
        session.exec(update(User).where(User.id == user_id).values(is_active=False))
        session.commit()
        assert queries.session_access(session, token=live, now=NOW) is None


def test_runs_per_hour_counts_each_outcome_in_its_utc_hour(engine):
    workspace_id, _ = new_user(engine, "me@example.com")
    other_workspace, _ = new_user(engine, "other@example.com")
    mine, theirs = schedule_of(engine, workspace_id), schedule_of(engine, other_workspace)
    at_13 = NOW.replace(hour=13, minute=5)
    for status in ("succeeded", "succeeded", "failed", "running"):
        add_run(
            engine, workspace_id=workspace_id, schedule_id=mine, scheduled_for=at_13, status=status
        )
        at_13 += timedelta(seconds=1)
    add_run(
        engine, workspace_id=workspace_id, schedule_id=mine, scheduled_for=NOW, status="skipped"
    )
    add_run(
        engine, workspace_id=workspace_id, schedule_id=mine, scheduled_for=NOW - timedelta(days=2)
    )
    add_run(
        engine, workspace_id=other_workspace, schedule_id=theirs, scheduled_for=NOW, status="failed"
    )

    with Session(engine) as session:
        hours = queries.runs_per_hour(session, workspace_id=workspace_id, now=NOW)

    assert len(hours) == 24
    assert hours[0]["hour"] == "15:00" and hours[-1]["hour"] == "14:00"
    by_hour = {row["hour"]: row for row in hours}
    assert by_hour["13:00"] == {
        "hour": "13:00", "succeeded": 2, "failed": 1, "retrying": 0, "skipped": 0, "pending": 1,
    }  # fmt: skip
    assert by_hour["14:00"]["skipped"] == 1 and by_hour["14:00"]["failed"] == 0
    assert sum(row["succeeded"] for row in hours) == 2  # two days ago is out of the window


def test_the_overview_figures_cover_the_last_24_hours_of_this_user_only(engine):
    workspace_id, _ = new_user(engine, "me@example.com")
    other_workspace, _ = new_user(engine, "other@example.com")
    mine = schedule_of(engine, workspace_id)
    schedule_of(engine, workspace_id, name="paused", status="paused")
    theirs = schedule_of(engine, other_workspace)
    for n, latency in enumerate([10, 20, 30, 40, 100]):
        add_run(
            engine, workspace_id=workspace_id, schedule_id=mine, latency_ms=latency,
            scheduled_for=NOW - timedelta(minutes=n + 1),
        )  # fmt: skip
    add_run(engine, workspace_id=workspace_id, schedule_id=mine, status="failed", scheduled_for=NOW)
    add_run(
        engine, workspace_id=workspace_id, schedule_id=mine, scheduled_for=NOW - timedelta(days=3)
    )
    add_run(
        engine, workspace_id=other_workspace, schedule_id=theirs, status="failed", scheduled_for=NOW
    )

    with Session(engine) as session:
        figures = queries.overview(session, workspace_id=workspace_id, now=NOW)

    assert figures.active_schedules == 1
    assert figures.runs_24h == 6
    assert figures.success_rate == 5 / 6
    assert figures.p95_latency_ms == 88.0  # 40 + 0.8 * (100 - 40)


def test_latest_failures_are_the_newest_failed_runs_with_their_schedule_names(engine):
    workspace_id, _ = new_user(engine, "me@example.com")
    other_workspace, _ = new_user(engine, "other@example.com")
    mine = schedule_of(engine, workspace_id, name="billing sync")
    theirs = schedule_of(engine, other_workspace)
    old = add_run(engine, workspace_id=workspace_id, schedule_id=mine, status="failed")
    add_run(engine, workspace_id=workspace_id, schedule_id=mine)
    new = add_run(engine, workspace_id=workspace_id, schedule_id=mine, status="failed")
    add_run(engine, workspace_id=other_workspace, schedule_id=theirs, status="failed")

    with Session(engine) as session:
        failures = queries.latest_failures(session, workspace_id=workspace_id)

    assert [f.run_id for f in failures] == [new, old]
    assert failures[0].schedule_name == "billing sync"
    assert failures[0].error_class == "http_5xx" and failures[0].status_code == 500


def test_recent_statuses_are_each_schedules_newest_runs_oldest_first(engine):
    workspace_id, _ = new_user(engine, "me@example.com")
    first, second = schedule_of(engine, workspace_id, "a"), schedule_of(engine, workspace_id, "b")
    for n, status in enumerate(["failed", "succeeded", "skipped", "succeeded"]):
        add_run(
            engine, workspace_id=workspace_id, schedule_id=first, status=status,
            scheduled_for=NOW + timedelta(seconds=n),
        )  # fmt: skip

    with Session(engine) as session:
        history = queries.recent_statuses(session, schedule_ids=[first, second], limit=3)
        names = queries.names_of_schedules(
            session, workspace_id=workspace_id, ids=[first, second, 10**9]
        )

    assert history == {first: ["succeeded", "skipped", "succeeded"], second: []}
    assert names == {first: "a", second: "b"}


def test_names_of_another_users_schedules_are_not_given(engine):
    workspace_id, _ = new_user(engine, "me@example.com")
    other_workspace, _ = new_user(engine, "other@example.com")
    theirs = schedule_of(engine, other_workspace, "secret project")
    with Session(engine) as session:
        assert queries.names_of_schedules(session, workspace_id=workspace_id, ids=[theirs]) == {}
        assert queries.schedule_names(session, workspace_id=workspace_id) == []
        assert session.get(Schedule, theirs) is not None
