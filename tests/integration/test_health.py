"""GET /health answers while the process runs; /health/ready checks its dependencies."""

import json
import urllib.error
import urllib.request

from tests.support.api_server import serve_api
from tests.support.processes import free_port


def get_json(url: str) -> tuple[int, dict]:
    try:
        with urllib.request.urlopen(url, timeout=10) as response:
            return response.status, json.loads(response.read())
    except urllib.error.HTTPError as error:
        return error.code, json.loads(error.read())


def test_ready_reports_database_and_redis_with_latency(database_url, redis_url):
    with serve_api(DATABASE_URL=database_url, REDIS_URL=redis_url) as base:
        assert get_json(f"{base}/health")[1]["status"] == "ok"
        status, body = get_json(f"{base}/health/ready")
    assert status == 200
    assert body["status"] == "ok"
    assert body["database"]["ok"] and body["redis"]["ok"]
    assert body["database"]["latency_ms"] >= 0


def test_ready_is_503_when_redis_is_down(sqlite_url):
    dead_redis = f"redis://127.0.0.1:{free_port()}/0"
    with serve_api(DATABASE_URL=sqlite_url, REDIS_URL=dead_redis) as base:
        assert get_json(f"{base}/health")[0] == 200
        status, body = get_json(f"{base}/health/ready")
    assert status == 503
    assert body["redis"]["ok"] is False
    assert "ConnectionError" in body["redis"]["error"]
    assert body["database"]["ok"] is True


def test_ready_is_503_when_the_database_is_down(redis_url):
    dead_db = f"postgresql+psycopg://nobody@127.0.0.1:{free_port()}/x"
    with serve_api(DATABASE_URL=dead_db, REDIS_URL=redis_url) as base:
        status, body = get_json(f"{base}/health/ready")
    assert status == 503
    assert body["database"]["ok"] is False
