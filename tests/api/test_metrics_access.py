"""/metrics (counts across every user) answers local scrapers only, unless
METRICS_TOKEN or METRICS_PUBLIC says otherwise."""

from __future__ import annotations

import httpx
import pytest

from tests.support.api_server import serve_api

PROXIED = {"X-Forwarded-For": "203.0.113.9"}


@pytest.fixture(scope="module")
def served(sqlite_url, redis_url):
    def serve(**settings):
        return serve_api(DATABASE_URL=sqlite_url, REDIS_URL=redis_url, **settings)

    return serve


def test_a_local_scraper_gets_metrics_by_default(served):
    with served() as base:
        response = httpx.get(base + "/metrics")
    assert response.status_code == 200
    assert "hookboard_up" in response.text


def test_it_refuses_a_request_that_came_through_a_proxy(served):
    with served() as base:
        response = httpx.get(base + "/metrics", headers=PROXIED)
    assert response.status_code == 403, response.text
    assert response.json()["error"]["code"] == "forbidden"
    assert "hookboard_" not in response.text


def test_it_refuses_a_remote_client_named_by_a_trusted_proxy(served):
    with served(TRUSTED_PROXY_HOPS="1") as base:
        response = httpx.get(base + "/metrics", headers=PROXIED)
    assert response.status_code == 403, response.text


def test_metrics_public_opens_it_to_every_address(served):
    with served(METRICS_PUBLIC="true") as base:
        response = httpx.get(base + "/metrics", headers=PROXIED)
    assert response.status_code == 200


def test_a_token_opens_it_to_every_address_that_sends_it(served):
    with served(METRICS_TOKEN="m3trics") as base:
        given = httpx.get(base + "/metrics", headers={**PROXIED, "Authorization": "Bearer m3trics"})
        missing = httpx.get(base + "/metrics", headers=PROXIED)
    assert given.status_code == 200
    assert missing.status_code == 401
