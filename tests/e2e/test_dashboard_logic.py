"""The dashboard's plain logic: the editor's form rules, formatting, redirects, passwords."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

import pytest
from sqlmodel import Session, select

from hookboard import accounts
from hookboard.dashboard_queries import session_user
from hookboard.models import AuthSession, Schedule
from hookboard.schedule_service import InvalidInput
from hookboard.ui import editor_form as form_rules
from hookboard.ui import format as fmt
from hookboard.ui.pages.auth import safe_next
from hookboard.ui.pages.targets import parse_header_lines
from hookboard.ui.password_change import change_password
from tests.api.support import new_user


def form(**changes) -> dict:
    return {**form_rules.DEFAULT_FORM, "name": "ping", "url": "https://example.com/h", **changes}


def test_an_interval_form_becomes_service_fields_with_the_other_kinds_fields_cleared():
    fields = form_rules.to_fields(form(kind="interval", every="2", unit="seconds"))
    assert fields["kind"] == "interval" and fields["every"] == 2 and fields["unit"] == "seconds"
    assert fields["cron"] is None and fields["run_at"] is None
    assert fields["target_id"] is None and fields["max_attempts"] == 3
    assert fields["timeout_seconds"] == 30.0 and fields["jitter"] is True


def test_local_times_are_read_in_the_schedules_zone():
    fields = form_rules.to_fields(
        form(kind="once", timezone="Europe/Berlin", run_at="2026-07-01T02:00")
    )
    assert fields["run_at"].astimezone(UTC) == datetime(2026, 7, 1, 0, 0, tzinfo=UTC)


@pytest.mark.parametrize(
    ("changes", "field"),
    [
        ({"max_attempts": "three"}, "retry.max_attempts"),
        ({"every": "1.5", "kind": "interval"}, "every"),
        ({"timeout_seconds": "soon"}, "timeout_seconds"),
        ({"timezone": "Mars/Olympus"}, "timezone"),
        ({"starts_at": "tomorrow"}, "starts_at"),
        ({"headers": [{"name": "X-A"}, {"name": "x-a"}]}, "request.headers"),
    ],
)  # fmt: skip
def test_a_bad_value_names_its_field(changes, field):
    with pytest.raises(InvalidInput) as error:
        form_rules.to_fields(form(**changes))
    assert error.value.field == field


def test_an_existing_schedule_fills_the_form_with_its_secrets_masked():
    schedule = Schedule(
        user_id=1, name="n", kind="cron", cron="0 2 * * *", timezone="Europe/Berlin",
        url="https://example.com/h", method="PUT", timeout_seconds=12.0, max_attempts=5,
        headers={"Authorization": "Bearer s3cret", "X-Team": "ops"},
        starts_at=datetime(2026, 1, 1, 23, 0, tzinfo=UTC),
    )  # fmt: skip
    filled = form_rules.from_schedule(schedule)
    assert filled["headers"] == [
        {"name": "Authorization", "value": "***"},
        {"name": "X-Team", "value": "ops"},
    ]
    assert filled["starts_at"] == "2026-01-02T00:00"  # Berlin wall time
    assert filled["timeout_seconds"] == "12" and filled["max_attempts"] == "5"
    assert form_rules.to_fields(filled)["method"] == "PUT"


def test_the_body_is_checked_as_json_only_when_it_looks_like_json():
    assert form_rules.json_check('{"a": 1}') == (True, "Valid JSON")
    ok, message = form_rules.json_check('{"a": }')
    assert not ok and message.startswith("Invalid JSON") and "line 1" in message
    assert form_rules.json_check("plain text")[0] is True
    assert form_rules.json_check("") == (True, "")


def test_times_and_figures_read_well():
    now = datetime(2026, 1, 1, 12, 0, tzinfo=UTC)
    assert fmt.relative(now + timedelta(minutes=5), now) == "in 5 min"
    assert fmt.relative(now - timedelta(hours=3, minutes=2), now) == "3 h ago"
    assert fmt.relative(now, now) == "now" and fmt.relative(None, now) == "—"
    assert fmt.absolute(now) == "2026-01-01 12:00:00 UTC"
    assert fmt.latency(12.4) == "12 ms" and fmt.latency(1530) == "1.53 s"
    assert fmt.percentage(0.9876) == "98.8%" and fmt.percentage(None) == "—"
    assert fmt.run_status_color("retrying") == "amber"


@pytest.mark.parametrize(
    ("target", "expected"),
    [
        ("/logs?status=failed", "/logs?status=failed"),
        ("//evil.example.com/", "/"),
        ("https://evil.example.com/", "/"),
        ("/\\evil.example.com", "/"),
        (None, "/"),
    ],
)
def test_after_log_in_only_a_path_on_this_site_is_followed(target, expected):
    assert safe_next(target) == expected


def test_target_headers_are_read_one_per_line():
    assert parse_header_lines("Authorization: Bearer a:b\n\nX-Team: ops") == {
        "Authorization": "Bearer a:b",
        "X-Team": "ops",
    }
    with pytest.raises(InvalidInput) as error:
        parse_header_lines("X-Team ops")
    assert error.value.field == "headers" and "line 1" in error.value.message


def test_changing_the_password_needs_the_current_one_and_ends_other_sessions(engine):
    with Session(engine, expire_on_commit=False) as session:
        signed_up = accounts.signup(session, email="me@example.com", password="first password")
    user_id = signed_up.user.id
    _, other = new_user(engine, "other@example.com")
    other_token = other["Authorization"].removeprefix("Bearer ")
    with Session(engine) as session:
        second = accounts.login(
            session, email="me@example.com", password="first password", client_ip=None
        )
    with Session(engine) as session, pytest.raises(accounts.InvalidInputError) as error:
        change_password(
            session, user_id=user_id, current="wrong", new="second password",
            keep_token=signed_up.token,
        )  # fmt: skip
    assert error.value.field == "current_password"
    with Session(engine) as session:
        revoked = change_password(
            session, user_id=user_id, current="first password", new="second password",
            keep_token=signed_up.token,
        )  # fmt: skip
    assert revoked == 1  # the other session of this user, not the one in use
    with Session(engine) as session:
        live = session.exec(
            select(AuthSession).where(
                AuthSession.user_id == user_id, AuthSession.revoked_at.is_(None)
            )
        ).all()
        assert len(live) == 1
        assert session_user(session, token=other_token, now=datetime.now(UTC)) is not None
        assert second.token != signed_up.token
        with pytest.raises(accounts.InvalidCredentialsError):
            accounts.login(
                session, email="me@example.com", password="first password", client_ip=None
            )
        assert (
            accounts.login(
                session, email="me@example.com", password="second password", client_ip=None
            ).user_id
            == user_id
        )
