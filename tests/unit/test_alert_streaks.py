"""Failure streaks, auto-pause and alert texts: the pure parts."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

from hookboard.alerts.events import RunEnd, Streak
from hookboard.alerts.messages import ScheduleRef, describe_error
from hookboard.alerts.senders import Outgoing, slack_payload
from hookboard.services.badge import badge_path, new_badge_token, render_svg

T0 = datetime(2026, 5, 1, 12, 0, tzinfo=UTC)
SCHEDULE = ScheduleRef(id=3, workspace_id=1, name="nightly <report>")


def streak(**overrides) -> Streak:
    values = dict(
        schedule=SCHEDULE, status="active", failures=0, failing_since=None, auto_pause_after=3
    )
    return Streak(**{**values, **overrides})


def failure(run_id: int) -> RunEnd:
    return RunEnd(run_id, 3, T0 + timedelta(minutes=run_id), False, 3, "http_5xx (HTTP 503)")


def success(run_id: int) -> RunEnd:
    return RunEnd(run_id, 3, T0 + timedelta(minutes=run_id), True, 1)


def test_the_first_failed_run_raises_an_alert_and_counts():
    state = streak()
    raised = state.advance(failure(1))
    assert [m.event for m in raised] == ["run_failed"]
    assert raised[0].text == (
        "Run 1 of schedule “nightly <report>” (id 3) failed after 3 attempts: http_5xx (HTTP 503)."
    )
    assert (state.failures, state.failing_since) == (1, T0 + timedelta(minutes=1))


def test_a_long_streak_reminds_at_10_100_1000_failures_not_at_each():
    state = streak(auto_pause_after=0)
    announced = {n: raised for n in range(1, 1001) if (raised := state.advance(failure(n)))}
    assert list(announced) == [1, 10, 100, 1000]
    tenth = announced[10][0]
    assert tenth.subject == "Run failed: nightly <report> (10 in a row)"
    assert tenth.text.endswith(
        "That is 10 failed runs in a row; the next alert comes at 100 or when a run succeeds."
    )
    assert tenth.details["consecutive_failures"] == 10
    assert [m.event for m in state.advance(success(1001))] == ["recovered"]
    assert [m.event for m in state.advance(failure(1002))] == ["run_failed"]  # a new streak


def test_it_pauses_itself_at_the_limit_once():
    state = streak()
    events = [[m.event for m in state.advance(failure(n))] for n in (1, 2, 3, 4)]
    assert events == [["run_failed"], [], ["auto_paused"], []]
    assert state.status == "paused" and state.paused_now
    assert state.paused_reason == (
        "auto-paused after 3 failed runs in a row (last: http_5xx (HTTP 503))"
    )


def test_zero_means_never_and_a_paused_or_completed_schedule_is_left_alone():
    for overrides in ({"auto_pause_after": 0}, {"status": "paused"}, {"status": "completed"}):
        state = streak(**overrides)
        for n in range(1, 6):
            state.advance(failure(n))
        assert not state.paused_now, overrides
        assert state.failures == 5


def test_the_first_success_after_a_streak_recovers_and_resets():
    state = streak(failures=2, failing_since=T0)
    [recovered] = state.advance(success(9))
    assert recovered.event == "recovered"
    assert "recovered: run 9 succeeded after failures since 2026-05-01T12:00:00Z" in (
        recovered.text
    )
    assert (state.failures, state.failing_since) == (0, None)
    assert state.advance(success(10)) == []


def test_a_resumed_schedule_still_recovers_loudly():
    # Resume zeroes the count but keeps failing_since: the next success says "recovered".
    state = streak(failures=0, failing_since=T0, status="active")
    assert [m.event for m in state.advance(success(4))] == ["recovered"]


def test_errors_read_as_one_line():
    assert describe_error("http_4xx", 404, "HTTP 404") == "http_4xx (HTTP 404)"
    assert describe_error("timeout", None, "no complete response within 5s") == (
        "timeout: no complete response within 5s"
    )
    assert len(describe_error("connect", None, "x" * 1000)) == 300


def test_the_webhook_payload_is_slack_compatible_and_escaped():
    payload = slack_payload(
        Outgoing("alert_5", "run_failed", "Run failed: a<b>", "x & <y>", schedule_id=3, run_id=9)
    )
    assert payload["text"] == "x &amp; &lt;y&gt;"
    assert payload["blocks"][1] == {
        "type": "section",
        "text": {"type": "mrkdwn", "text": "x &amp; &lt;y&gt;"},
    }
    assert payload["hookboard"] == {
        "id": "alert_5",
        "event": "run_failed",
        "schedule_id": 3,
        "run_id": 9,
        "details": {},
    }


def test_badges_are_random_and_say_their_state():
    first, second = new_badge_token(), new_badge_token()
    assert first != second and len(first) == 24
    assert badge_path(first) == f"/api/v1/badges/{first}.svg"
    svg = render_svg("failing")
    assert svg.startswith("<svg") and "hookboard: failing" in svg and "#e05d44" in svg
    assert "passing" in render_svg("passing") and "#4c1" in render_svg("passing")
