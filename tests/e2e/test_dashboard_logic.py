"""The dashboard's plain logic: form rules, formatting, redirects, passwords, import
reports, and the test alert it sends through hookboard.services.channels."""

from __future__ import annotations

import asyncio
import json
from concurrent.futures import ThreadPoolExecutor
from dataclasses import replace
from datetime import UTC, datetime, timedelta

import pytest
from sqlmodel import Session

from hookboard.alerts.senders import Smtp
from hookboard.models import Schedule
from hookboard.net.guard import NetPolicy
from hookboard.services import InvalidInput, NotFound, ServiceConfig, accounts, channels
from hookboard.services.dashboard import session_access
from hookboard.services.ratelimit import RateLimiter
from hookboard.services.transfer import ImportedItem, ImportReport
from hookboard.settings import Settings
from hookboard.ui import format as fmt
from hookboard.ui import schedule_transfer as transfer
from hookboard.ui.editor import form as form_rules
from hookboard.ui.pages.auth import safe_next
from hookboard.ui.pages.notifications import fields_of as channel_fields
from hookboard.ui.pages.targets import parse_header_lines
from hookboard.ui.schedule_summary import badge_links
from tests.api.support import new_user
from tests.e2e.access import owner_access
from tests.support.receiver import Receiver


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
        workspace_id=1, name="n", kind="cron", cron="0 2 * * *", timezone="Europe/Berlin",
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


def test_changing_the_password_needs_the_current_one_and_ends_other_sessions(engine, redis):
    limiter = RateLimiter(redis, "test")  # counts the wrong current password
    with Session(engine, expire_on_commit=False) as session:
        signed_up = accounts.signup(session, email="me@example.com", password="first password")
    user_id = signed_up.user.id
    _, other = new_user(engine, "other@example.com")
    other_token = other["Authorization"].removeprefix("Bearer ")
    with Session(engine) as session:
        second = accounts.login(
            session, email="me@example.com", password="first password", client_ip=None
        )
    for current, new, field in (
        ("wrong", "second password", "current_password"),
        ("first password", "short", "new_password"),
    ):
        with Session(engine) as session, pytest.raises(accounts.InvalidInputError) as error:
            accounts.change_password(
                session, user_id=user_id, current_password=current, new_password=new,
                keep_token=signed_up.token, limiter=limiter,
            )  # fmt: skip
        assert error.value.field == field
    with Session(engine) as session:
        revoked = accounts.change_password(
            session, user_id=user_id, current_password="first password",
            new_password="second password", keep_token=signed_up.token, limiter=limiter,
        )  # fmt: skip
    assert revoked == 1  # the other session of this user, not the one in use
    now = datetime.now(UTC)
    with Session(engine) as session:
        assert session_access(session, token=signed_up.token, now=now) is not None
        assert session_access(session, token=second.token, now=now) is None
        assert session_access(session, token=other_token, now=now) is not None  # another user
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


def test_wrong_current_passwords_count_as_failed_logins(engine, redis):
    """A stolen session cannot guess the password faster than the login form."""
    limiter = RateLimiter(redis, "test")
    settings = Settings(login_max_failures_per_email=2, login_max_failures_per_ip=50)
    with Session(engine, expire_on_commit=False) as session:
        signed_up = accounts.signup(session, email="me@example.com", password="first password")
    user_id = signed_up.user.id

    def change(current: str) -> int:
        with Session(engine) as session:
            return accounts.change_password(
                session, user_id=user_id, current_password=current,
                new_password="second password", settings=settings, limiter=limiter,
            )  # fmt: skip

    for _ in range(2):
        with pytest.raises(accounts.InvalidInputError):
            change("wrong guess")
    # Refused now even with the right password, and the login form is closed too.
    with pytest.raises(accounts.LoginThrottledError) as throttled:
        change("first password")
    assert 1 <= throttled.value.retry_after <= 15 * 60
    with Session(engine) as session, pytest.raises(accounts.LoginThrottledError):
        accounts.login(
            session, email="me@example.com", password="first password", client_ip=None,
            settings=settings, limiter=limiter,
        )  # fmt: skip
    redis.flushdb()  # the window passed
    assert change("first password") == 1  # changed; the sign-up session ended


def test_changing_the_password_without_a_token_to_keep_ends_every_session(engine):
    with Session(engine, expire_on_commit=False) as session:
        signed_up = accounts.signup(session, email="me@example.com", password="first password")
    with Session(engine) as session:
        revoked = accounts.change_password(
            session, user_id=signed_up.user.id, current_password="first password",
            new_password="second password",
        )  # fmt: skip
        assert revoked == 1
        assert session_access(session, token=signed_up.token, now=datetime.now(UTC)) is None


def test_a_failure_streak_and_the_auto_pause_setting_read_well():
    now = datetime(2026, 1, 1, 12, 0, tzinfo=UTC)
    since = now - timedelta(minutes=12)
    assert fmt.failing_summary(0, None, now) == ""
    assert fmt.failing_summary(1, since, now) == "failing since 12 min ago (1 failed run)"
    assert fmt.failing_summary(3, since, now) == "failing since 12 min ago (3 failed runs in a row)"
    assert fmt.auto_pause_text(15) == "after 15 failed runs in a row"
    assert fmt.auto_pause_text(1) == "after 1 failed run in a row"
    assert fmt.auto_pause_text(0) == "never (auto-pause off)"


def test_the_editor_carries_auto_pause_and_the_badge_both_ways():
    fields = form_rules.to_fields(form(auto_pause_after="2", badge=True))
    assert fields["auto_pause_after"] == 2 and fields["badge"] is True
    assert form_rules.to_fields(form())["auto_pause_after"] == 15  # the service's default
    with pytest.raises(InvalidInput) as error:
        form_rules.to_fields(form(auto_pause_after="never"))
    assert error.value.field == "auto_pause_after"
    schedule = Schedule(
        workspace_id=1, name="n", kind="cron", cron="0 2 * * *", timezone="UTC",
        url="https://example.com/h", auto_pause_after=0, badge_token="tok",
    )  # fmt: skip
    filled = form_rules.from_schedule(schedule)
    assert filled["auto_pause_after"] == "0" and filled["badge"] is True


def test_the_badge_links_are_absolute_and_off_means_none():
    links = badge_links("abc", "https://hooks.example.com", "nightly")
    assert links["path"] == "/api/v1/badges/abc.svg"
    assert links["url"] == "https://hooks.example.com/api/v1/badges/abc.svg"
    assert links["markdown"] == f"![nightly: hookboard status]({links['url']})"
    assert badge_links(None, "https://hooks.example.com", "nightly") == {}


def test_a_channel_form_sends_only_the_destination_of_its_kind():
    form_ = {"name": "ops", "kind": "email", "url": "https://x.example.com", "email": " a@b.c "}
    assert channel_fields(form_) == {
        "name": "ops", "kind": "email", "url": None, "email": "a@b.c", "enabled": True,
    }  # fmt: skip


@pytest.mark.parametrize(
    ("text", "message"),
    [("", "paste an export"), ("{oops", "not JSON: Expecting property name"), ("[", "line 1")],
)
def test_an_import_that_is_not_json_names_the_document(text, message):
    with pytest.raises(InvalidInput) as error:
        transfer.parse_json(text)
    assert error.value.field == "document" and message in error.value.message


def test_an_import_report_reads_as_a_dry_run_or_as_done():
    items = [
        ImportedItem("target", "crm", "create", None),
        ImportedItem("schedule", "nightly", "update", 4, ["cron"]),
        ImportedItem("schedule", "hourly", "unchanged", 5),
    ]
    dry = ImportReport(dry_run=True, items=items)
    assert transfer.summary(dry) == "1 to create, 1 to update, 1 unchanged"
    assert transfer.summary(ImportReport(dry_run=False, items=items)) == (
        "1 created, 1 updated, 1 unchanged"
    )
    assert transfer.report_rows(dry)[1] == {
        "type": "schedule", "name": "nightly", "action": "update", "changes": "cron",
    }  # fmt: skip
    assert transfer.changes_anything(dry)
    assert not transfer.changes_anything(ImportReport(dry_run=True, items=items[2:]))


def run_coroutine(coroutine):
    """asyncio.run in a thread of its own: Playwright's sync API keeps a loop in this one."""
    with ThreadPoolExecutor(max_workers=1) as pool:
        return pool.submit(asyncio.run, coroutine).result()


def test_a_test_alert_reaches_its_channel_signed_and_a_failure_says_why(engine):
    workspace_id, _ = new_user(engine, "ops@example.com")
    access = owner_access(engine, workspace_id)
    config = ServiceConfig(policy=NetPolicy(allow_private=True))
    with Receiver(status=204) as up, Receiver(status=502) as down:
        with Session(engine) as session:
            ids = []
            for name, receiver in (("up", up), ("down", down)):
                channel = channels.create_channel(
                    session, access=access, now=datetime.now(UTC), config=config,
                    fields={"name": name, "kind": "webhook", "url": receiver.url + "/a"},
                    smtp_configured=False,
                )  # fmt: skip
                ids.append(channel.id)
            session.commit()
        results = []
        for channel_id in ids:
            with Session(engine) as session:
                prepared = channels.prepare_test_alert(
                    session, access=access, channel_id=channel_id, now=datetime.now(UTC)
                )
            sent = channels.send_test_alert(prepared, config=config, smtp=Smtp())
            results.append(run_coroutine(sent))
        [request] = up.wait_for(1)
    assert results == [None, "http_5xx (HTTP 502)"]
    assert json.loads(request.body)["hookboard"]["event"] == "test"
    assert request.headers["webhook-signature"].startswith("v1,")
    with Session(engine) as session, pytest.raises(NotFound):
        channels.prepare_test_alert(
            session,
            access=replace(access, workspace_id=workspace_id + 1000),
            channel_id=ids[0],
            now=datetime.now(UTC),
        )
