"""TRUSTED_PROXY_HOPS over real HTTP: behind one proxy, the per-IP login limit
counts each client by the address the proxy appended, not the proxy's own."""

from __future__ import annotations

from tests.api.test_api_keys import SEEDED_PASSWORD, seeded_user
from tests.api.test_auth import assert_error

API_SETTINGS = {
    "TRUSTED_PROXY_HOPS": "1",
    "LOGIN_MAX_FAILURES_PER_IP": "2",
    "LOGIN_MAX_FAILURES_PER_EMAIL": "100",
}
EMAIL = "carol@example.com"
# Documentation addresses (RFC 5737), written into a header only: no traffic goes there.
CLIENT_A, CLIENT_B = "203.0.113.5", "198.51.100.7"


def login(client, password: str, forwarded_for: str):
    body = {"email": EMAIL, "password": password}
    return client.post("/auth/login", json=body, headers={"X-Forwarded-For": forwarded_for})


def test_each_client_behind_the_proxy_has_its_own_login_limit(client, api_engine):
    seeded_user(api_engine, EMAIL)
    for _ in range(2):
        assert login(client, "wrong-password", CLIENT_A).status_code == 401
    assert_error(login(client, SEEDED_PASSWORD, CLIENT_A), 429, "rate_limited")
    # Another client through the same proxy is not throttled...
    assert login(client, SEEDED_PASSWORD, CLIENT_B).status_code == 200
    # ...and client A cannot escape by writing an address of its own in front:
    # the proxy appends the real one, and that is the one counted.
    assert_error(login(client, SEEDED_PASSWORD, f"{CLIENT_B}, {CLIENT_A}"), 429, "rate_limited")
