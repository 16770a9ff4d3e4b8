"""Template variables are filled in by the real worker, per attempt."""

from __future__ import annotations

import itertools
import json
from urllib.parse import parse_qs, urlsplit

import pytest

from hookboard.domain.templating import format_instant
from tests.support.engine import (
    EngineProcesses,
    attempts_of,
    make_schedule,
    make_workspace,
    runs_of,
    wait_until,
)
from tests.support.receiver import Receiver


@pytest.fixture
def processes(database_url, redis_url, engine):
    with EngineProcesses(database_url, redis_url) as running:
        yield running


def test_each_attempt_gets_its_own_values(engine, processes):
    workspace_id = make_workspace(engine)
    answers = itertools.chain([503], itertools.repeat(200))

    def fails_once(_request):
        return next(answers), {}, b""

    with Receiver(responder=fails_once) as receiver:
        schedule_id = make_schedule(
            engine,
            workspace_id,
            kind="interval",
            every=1,
            unit="hours",
            url=receiver.url + "/r/{{run_id}}?try={{attempt}}&at={{scheduled_for}}",
            headers={"X-Schedule": "{{schedule_id}}", "Content-Type": "application/json"},
            body=r'{"run": {{run_id}}, "at": "{{scheduled_for}}", "try": {{ attempt }}, '
            r'"hi": "\{{name}}"}',
            max_attempts=2,
            base_delay_seconds=0,
            jitter=False,
        )
        processes.ticker()
        processes.worker()
        first, second = receiver.wait_for(2, timeout=30)
        [run] = wait_until(
            lambda: [
                r
                for r in runs_of(engine, schedule_id)
                if r.attempt_count == 2 and r.finished_at is not None
            ]
        )

    at = format_instant(run.scheduled_for)
    for number, request in enumerate((first, second), start=1):
        path, query = urlsplit(request.path)[2:4]
        assert path == f"/r/{run.id}"
        assert parse_qs(query) == {"try": [str(number)], "at": [at]}
    assert first.headers["x-schedule"] == str(schedule_id)
    assert json.loads(second.body) == {"run": run.id, "at": at, "try": 2, "hi": "{{name}}"}
    # The log shows what was sent, not the template.
    logged = [attempt.request_url for attempt in attempts_of(engine, run.id)]
    assert [url.split("&at=")[0] for url in logged] == [
        f"{receiver.url}/r/{run.id}?try=1",
        f"{receiver.url}/r/{run.id}?try=2",
    ]
