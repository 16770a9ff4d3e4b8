"""SIGNUPS_PER_IP_PER_HOUR over real HTTP: each sign-up costs a bcrypt hash, so
one address cannot make accounts (or probe emails with 409s) without limit."""

from __future__ import annotations

from concurrent.futures import ThreadPoolExecutor

import httpx

from tests.api.test_auth import assert_error, login

API_SETTINGS = {"SIGNUPS_PER_IP_PER_HOUR": "3"}
PASSWORD = "long enough 1"


def signup(client, email: str):
    return client.post("/auth/signup", json={"email": email, "password": PASSWORD})


def test_signups_from_one_address_are_limited(client):
    assert signup(client, "first@example.com").status_code == 201
    assert signup(client, "first@example.com").status_code == 409  # a taken email counts
    assert signup(client, "second@example.com").status_code == 201
    throttled = signup(client, "third@example.com")
    assert_error(throttled, 429, "rate_limited")
    assert 1 <= int(throttled.headers["retry-after"]) <= 3600
    assert "too many sign-ups" in throttled.json()["error"]["message"]
    # No account was made for it; invalid input is still a 422 naming the field;
    # existing accounts log in as before.
    assert login(client, "third@example.com", PASSWORD).status_code == 401
    assert_error(signup(client, "not-an-email"), 422, "validation_error", "email")
    assert login(client, "second@example.com", PASSWORD).status_code == 200


def test_concurrent_signups_from_one_address_stay_within_the_limit(client):
    def attempt(number):
        with httpx.Client(base_url=client.base_url, timeout=60) as own:
            return signup(own, f"racer{number}@example.com").status_code

    with ThreadPoolExecutor(12) as pool:
        statuses = list(pool.map(attempt, range(12)))
    assert statuses.count(201) == int(API_SETTINGS["SIGNUPS_PER_IP_PER_HOUR"])
    assert statuses.count(429) == 12 - statuses.count(201)
