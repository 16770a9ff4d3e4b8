"""TARGET_HOST_ALLOWLIST at save: a URL outside it is a 422 on the URL field, over real HTTP."""

from __future__ import annotations

import pytest

from tests.api.support import assert_field_error, create_schedule, create_target, headers_for

API_SETTINGS = {"TARGET_HOST_ALLOWLIST": "*.example.com, hooks.partner.test:8443"}
OUTSIDE = (
    "https://evil.test/hook",
    "https://example.com/hook",  # *.example.com covers what is under it, not itself
    "https://hooks.partner.test/hook",  # the entry names port 8443 only
    "http://127.0.0.1:9/hook",  # private targets are allowed here, but not in the list
)
INSIDE = (
    "https://hooks.example.com/a",
    "https://a.b.example.com/b",
    "https://hooks.partner.test:8443/",
)


@pytest.fixture
def alice(api_engine):
    return headers_for(api_engine, "alice@example.com")


def assert_refused(response, field: str) -> None:
    error = assert_field_error(response, field)
    assert "host not in TARGET_HOST_ALLOWLIST" in error["message"], error


def test_schedules_outside_the_allowlist_are_refused_at_create_and_edit(client, alice):
    for url in OUTSIDE:
        body = {"name": "p", "kind": "interval", "every": 1, "unit": "hours"}
        response = client.post("/schedules", json={**body, "request": {"url": url}}, headers=alice)
        assert_refused(response, "request.url")
    schedule = create_schedule(client, alice)
    for url in INSIDE:
        edited = client.patch(
            f"/schedules/{schedule['id']}", json={"request": {"url": url}}, headers=alice
        )
        assert edited.status_code == 200, edited.text
    for url in OUTSIDE:
        edited = client.patch(
            f"/schedules/{schedule['id']}", json={"request": {"url": url}}, headers=alice
        )
        assert_refused(edited, "request.url")


def test_targets_outside_the_allowlist_are_refused_at_create_and_edit(client, alice):
    for url in OUTSIDE:
        response = client.post("/targets", json={"name": "t", "url": url}, headers=alice)
        assert_refused(response, "url")
    target = create_target(client, alice, url=INSIDE[0])
    for url in OUTSIDE:
        response = client.patch(f"/targets/{target['id']}", json={"url": url}, headers=alice)
        assert_refused(response, "url")


def test_a_test_delivery_outside_the_allowlist_is_refused(client, alice):
    for url in OUTSIDE:
        response = client.post("/targets/test", json={"request": {"url": url}}, headers=alice)
        assert_refused(response, "request.url")


def test_webhook_channels_outside_the_allowlist_are_refused(client, alice):
    for url in OUTSIDE:
        channel = {"name": "ops", "kind": "webhook", "url": url}
        assert_refused(client.post("/notification-channels", json=channel, headers=alice), "url")
    channel = {"name": "ops", "kind": "webhook", "url": INSIDE[0]}
    created = client.post("/notification-channels", json=channel, headers=alice)
    assert created.status_code == 201, created.text
    path = f"/notification-channels/{created.json()['id']}"
    assert_refused(client.patch(path, json={"url": OUTSIDE[0]}, headers=alice), "url")
