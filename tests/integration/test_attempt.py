"""``send_attempt`` against real receivers on loopback (the only addresses tests may reach)."""

from __future__ import annotations

import asyncio
import socket
import time
from collections.abc import Coroutine
from datetime import UTC
from typing import Any

import httpx
import pytest
from standardwebhooks.webhooks import Webhook

from hookboard.domain.outbound import OutboundRequest
from hookboard.domain.signing import generate_secret, webhook_headers
from hookboard.net.attempt import make_client, send_attempt
from hookboard.net.guard import NetPolicy
from hookboard.net.outcome import ERROR_CLASSES, AttemptOutcome
from hookboard.net.resolve import ResolveError, clear_resolve_cache
from tests.support.receiver import ReceivedRequest, Receiver

OPEN = NetPolicy(allow_private=True)
STRICT = NetPolicy()
TLS_CONTEXT = httpx.create_ssl_context()  # built once: loading CA certificates costs ~40 ms


@pytest.fixture(autouse=True)
def _fresh_cache() -> None:
    clear_resolve_cache()


def run(coroutine: Coroutine[Any, Any, AttemptOutcome]) -> AttemptOutcome:
    return asyncio.run(coroutine)


async def attempt(
    url: str,
    policy: NetPolicy = OPEN,
    *,
    extra_headers: dict[str, str] | None = None,
    **options: Any,
) -> AttemptOutcome:
    excerpt_bytes = options.pop("excerpt_bytes", 65536)
    resolver = options.pop("resolver", None)
    async with make_client(verify=TLS_CONTEXT) as client:
        return await send_attempt(
            client,
            OutboundRequest(url=url, **options),
            policy=policy,
            extra_headers=extra_headers or {},
            excerpt_bytes=excerpt_bytes,
            resolver=resolver,
        )


def unused_port() -> int:
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        return probe.getsockname()[1]


def ipv6_loopback_available() -> bool:
    try:
        with socket.socket(socket.AF_INET6) as probe:
            probe.bind(("::1", 0))
    except OSError:
        return False
    return True


def redirect_to(location: str, status: int = 302):
    return lambda request: (status, {"Location": location}, b"")


# --- success ------------------------------------------------------------------------------------


def test_success_delivers_method_headers_body_and_a_verifiable_signature() -> None:
    secret = generate_secret()
    body = '{"event": "tick"}'
    signing = webhook_headers([secret], "msg_1", int(time.time()), body.encode(), "Hookboard/1")
    with Receiver(body=b'{"received": true}', headers={"X-Reply": "yes"}) as rx:
        outcome = run(
            attempt(
                rx.url + "/hooks/a?x=1",
                method="PUT",
                headers={"Content-Type": "application/json", "user-agent": "overridden"},
                body=body,
                extra_headers=signing,
            )
        )
        [seen] = rx.wait_for(1)

    assert outcome.error_class == "success" and outcome.ok and not outcome.retryable
    assert outcome.status_code == 200
    assert outcome.body_excerpt == '{"received": true}'
    assert outcome.response_headers["x-reply"] == "yes"
    assert outcome.error_message is None and outcome.retry_after_seconds is None
    assert outcome.started_at.tzinfo is UTC
    assert 0 < outcome.latency_ms < 5000
    assert (seen.method, seen.path, seen.body) == ("PUT", "/hooks/a?x=1", body.encode())
    assert seen.headers["content-type"] == "application/json"
    assert seen.headers["user-agent"] == "Hookboard/1"  # extra headers win, case-insensitively
    assert seen.headers["host"] == rx.url.removeprefix("http://")
    Webhook(secret).verify(seen.body, seen.headers)


def test_error_classes_are_exactly_the_product_list() -> None:
    assert ERROR_CLASSES == (
        "success",
        "http_4xx",
        "http_5xx",
        "timeout",
        "dns",
        "connect",
        "tls",
        "ssrf_blocked",
        "invalid_response",
    )


def test_connection_goes_to_the_checked_address_with_the_original_host_header() -> None:
    # "hooks.test" exists only in the injected resolver: reaching the receiver proves we
    # connected to the address the guard checked rather than resolving the name again.
    with Receiver() as rx:
        url = f"http://hooks.test:{rx.port}/in"
        policy = NetPolicy.from_strings(False, "hooks.test")
        outcome = run(attempt(url, policy, resolver=lambda host: ["127.0.0.1"]))
        [seen] = rx.wait_for(1)
    assert outcome.ok
    assert seen.headers["host"] == f"hooks.test:{rx.port}"


# --- SSRF ---------------------------------------------------------------------------------------


@pytest.mark.parametrize(
    "host",
    ["127.0.0.1", "0x7f.0.0.1", "0x7f.1", "2130706433", "127.1", "[::ffff:127.0.0.1]", "localhost"],
)
def test_loopback_in_any_spelling_is_blocked_before_any_connection(host: str) -> None:
    with Receiver() as rx:
        outcome = run(attempt(f"http://{host}:{rx.port}/", STRICT))
        time.sleep(0.05)  # give a (wrongly) opened connection time to be accepted
        assert rx.connections == 0
    assert outcome.error_class == "ssrf_blocked"
    assert "loopback" in (outcome.error_message or "")
    assert outcome.status_code is None and not outcome.retryable


def test_non_http_scheme_is_blocked() -> None:
    outcome = run(attempt("file:///etc/passwd"))
    assert outcome.error_class == "ssrf_blocked"


# --- HTTP statuses ------------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("status", "error_class", "retryable"),
    [
        (201, "success", False),
        (404, "http_4xx", False),
        (410, "http_4xx", False),
        (408, "http_4xx", True),
        (503, "http_5xx", True),
        (500, "http_5xx", True),
    ],
)
def test_status_codes_are_classified(status: int, error_class: str, retryable: bool) -> None:
    with Receiver(status=status, body=b"nope") as rx:
        outcome = run(attempt(rx.url))
    assert (outcome.status_code, outcome.error_class) == (status, error_class)
    assert outcome.retryable is retryable
    assert outcome.body_excerpt == "nope"


def test_429_with_retry_after_seconds() -> None:
    with Receiver(status=429, headers={"Retry-After": "7"}) as rx:
        outcome = run(attempt(rx.url))
    assert outcome.error_class == "http_4xx" and outcome.retryable
    assert outcome.retry_after_seconds == 7


def test_retry_after_as_http_date() -> None:
    with Receiver(status=503, headers={"Retry-After": "Wed, 21 Oct 2015 07:28:00 GMT"}) as rx:
        outcome = run(attempt(rx.url))
    assert outcome.retry_after_seconds == 0  # a date in the past means "now"


def test_scripted_responder_and_set_response() -> None:
    answers = iter([(503, {}, b"busy"), (503, {}, b"busy"), (200, {}, b"done")])
    with Receiver(responder=lambda request: next(answers)) as rx:
        classes = [run(attempt(rx.url)).error_class for _ in range(3)]
        rx.set_response(responder=None, status=418)
        assert run(attempt(rx.url)).status_code == 418
    assert classes == ["http_5xx", "http_5xx", "success"]


# --- network failures ---------------------------------------------------------------------------


def test_receiver_that_never_answers_times_out() -> None:
    with Receiver(mode="hang") as rx:
        started = time.perf_counter()
        outcome = run(attempt(rx.url, timeout_seconds=0.5))
        elapsed = time.perf_counter() - started
    assert outcome.error_class == "timeout" and outcome.retryable
    assert 0.4 < elapsed < 2
    assert 400 < outcome.latency_ms < 2000


def test_connection_closed_without_answer_is_invalid_response() -> None:
    with Receiver(mode="close") as rx:
        outcome = run(attempt(rx.url))
        rx.wait_for(1)
    assert outcome.error_class == "invalid_response"
    assert not outcome.retryable
    assert "disconnected" in (outcome.error_message or "")


def test_connection_reset_is_connect_error() -> None:
    with Receiver(mode="reset") as rx:
        outcome = run(attempt(rx.url))
    assert outcome.error_class == "connect" and outcome.retryable


def test_nothing_listening_is_connect_error() -> None:
    outcome = run(attempt(f"http://127.0.0.1:{unused_port()}/"))
    assert outcome.error_class == "connect" and outcome.retryable
    assert outcome.status_code is None


def test_tls_handshake_failure_is_tls() -> None:
    with Receiver() as rx:  # speaks plain HTTP, so the TLS handshake fails
        outcome = run(attempt(f"https://127.0.0.1:{rx.port}/", timeout_seconds=2))
    assert outcome.error_class == "tls"


def test_dns_failure_from_injected_resolver() -> None:
    def no_such_host(host: str) -> list[str]:
        raise ResolveError(f"cannot resolve {host}: Name or service not known")

    outcome = run(attempt("https://nowhere.invalid/hook", STRICT, resolver=no_such_host))
    assert outcome.error_class == "dns" and outcome.retryable
    assert "nowhere.invalid" in (outcome.error_message or "")


def test_slow_dns_counts_as_dns_failure() -> None:
    async def slow_resolver(host: str) -> list[str]:
        await asyncio.sleep(5)
        return ["127.0.0.1"]

    outcome = run(attempt("http://slow.test/", resolver=slow_resolver, timeout_seconds=0.2))
    assert outcome.error_class == "dns"


# --- body excerpt -------------------------------------------------------------------------------


def test_ten_megabyte_body_stops_at_the_excerpt_limit() -> None:
    huge = b"x" * (10 * 1024 * 1024)
    with Receiver(body=huge) as rx:
        small = run(attempt(rx.url, excerpt_bytes=1000))
        default = run(attempt(rx.url))
    assert small.ok and small.body_excerpt == "x" * 1000
    assert default.ok and len(default.body_excerpt) == 65536


def test_gzip_excerpt_is_decoded_and_invalid_utf8_is_replaced() -> None:
    import gzip

    with Receiver(body=gzip.compress(b"hello " * 10), headers={"Content-Encoding": "gzip"}) as rx:
        assert run(attempt(rx.url)).body_excerpt == "hello " * 10
        rx.set_response(body=b"ok \xff", headers={})
        assert run(attempt(rx.url)).body_excerpt == "ok \ufffd"


# --- redirects ----------------------------------------------------------------------------------


def test_redirect_is_not_followed_by_default() -> None:
    with Receiver(responder=redirect_to("http://127.0.0.1:1/elsewhere")) as rx:
        outcome = run(attempt(rx.url))
    assert outcome.error_class == "invalid_response"
    assert outcome.status_code == 302
    assert outcome.error_message == "redirect not followed (302)"
    assert outcome.response_headers["location"] == "http://127.0.0.1:1/elsewhere"


def test_redirect_is_followed_to_another_loopback_receiver_when_allowed() -> None:
    with (
        Receiver(body=b"final") as target,
        Receiver(responder=redirect_to(target.url + "/b")) as rx,
    ):
        outcome = run(attempt(rx.url + "/a", follow_redirects=True, body="payload"))
        [seen] = target.wait_for(1)
    assert outcome.ok and outcome.body_excerpt == "final"
    assert (seen.method, seen.path, seen.body) == ("GET", "/b", b"")  # 302 turns POST into GET


def test_307_redirect_keeps_method_body_and_signature() -> None:
    with Receiver() as target, Receiver(responder=redirect_to(target.url, 307)) as rx:
        extra = {"webhook-signature": "v1,abc"}
        outcome = run(attempt(rx.url, follow_redirects=True, body="payload", extra_headers=extra))
        [seen] = target.wait_for(1)
    assert outcome.ok
    assert (seen.method, seen.body, seen.headers["webhook-signature"]) == (
        "POST",
        b"payload",
        "v1,abc",
    )


@pytest.mark.skipif(not ipv6_loopback_available(), reason="::1 cannot be bound here")
def test_redirect_hop_outside_the_allowlist_is_blocked() -> None:
    policy = NetPolicy.from_strings(False, "127.0.0.1/32")
    with Receiver("::1") as forbidden, Receiver(responder=redirect_to(forbidden.url)) as rx:
        outcome = run(attempt(rx.url, policy, follow_redirects=True))
        time.sleep(0.05)
        assert forbidden.connections == 0
        assert rx.connections == 1
    assert outcome.error_class == "ssrf_blocked"
    assert "::1 is a loopback address" in (outcome.error_message or "")


def test_redirect_hop_to_a_name_resolving_to_a_forbidden_address_is_blocked() -> None:
    policy = NetPolicy.from_strings(False, "hooks.test")
    resolver = {"hooks.test": ["127.0.0.1"], "evil.test": ["169.254.169.254"]}.__getitem__
    with Receiver(responder=redirect_to("http://evil.test/latest/meta-data")) as rx:
        url = f"http://hooks.test:{rx.port}/"
        outcome = run(attempt(url, policy, follow_redirects=True, resolver=resolver))
    assert outcome.error_class == "ssrf_blocked"
    assert "metadata" in (outcome.error_message or "")


def test_redirect_to_non_http_scheme_is_blocked() -> None:
    with Receiver(responder=redirect_to("file:///etc/passwd")) as rx:
        outcome = run(attempt(rx.url, follow_redirects=True))
    assert outcome.error_class == "ssrf_blocked"


def test_redirect_loop_stops_after_five_hops() -> None:
    def loop_back(request: ReceivedRequest):
        return 302, {"Location": "/again"}, b""

    with Receiver(responder=loop_back) as rx:
        outcome = run(attempt(rx.url, follow_redirects=True))
        assert rx.request_count == 6
    assert outcome.error_class == "invalid_response"
    assert "more than 5 redirects" in (outcome.error_message or "")


def test_cross_origin_redirect_drops_credentials() -> None:
    with Receiver() as target, Receiver(responder=redirect_to(target.url, 307)) as rx:
        headers = {"Authorization": "Bearer secret", "X-Keep": "1"}
        run(attempt(rx.url, follow_redirects=True, headers=headers))
        [seen] = target.wait_for(1)
    assert "authorization" not in seen.headers
    assert seen.headers["x-keep"] == "1"


CUSTOM_CREDENTIALS = {"X-Api-Key": "k-1", "X-Auth-Token": "t-2", "X-Hub-Secret": "s-3"}


def test_it_drops_custom_credential_headers_on_a_cross_origin_redirect() -> None:
    with Receiver() as target, Receiver(responder=redirect_to(target.url + "/next", 307)) as rx:
        headers = {**CUSTOM_CREDENTIALS, "X-Keep": "1"}
        extra = {"webhook-signature": "v1,abc"}
        outcome = run(attempt(rx.url, follow_redirects=True, headers=headers, extra_headers=extra))
        [first] = rx.wait_for(1)
        [seen] = target.wait_for(1)
    assert outcome.ok
    assert all(first.headers[name.lower()] == value for name, value in CUSTOM_CREDENTIALS.items())
    assert not {"x-api-key", "x-auth-token", "x-hub-secret"} & set(seen.headers)
    assert (seen.headers["x-keep"], seen.headers["webhook-signature"]) == ("1", "v1,abc")


def test_it_keeps_credential_headers_on_a_same_origin_redirect() -> None:
    def hop_once(request: ReceivedRequest):
        return (307, {"Location": "/final"}, b"") if request.path == "/" else (200, {}, b"ok")

    with Receiver(responder=hop_once) as rx:
        run(attempt(rx.url + "/", follow_redirects=True, headers=CUSTOM_CREDENTIALS))
        _first, seen = rx.wait_for(2)
    assert seen.path == "/final"
    assert all(seen.headers[name.lower()] == value for name, value in CUSTOM_CREDENTIALS.items())


# --- client reuse -------------------------------------------------------------------------------


def test_one_client_serves_many_concurrent_attempts_over_keep_alive() -> None:
    async def many(url: str) -> list[AttemptOutcome]:
        async with make_client(verify=TLS_CONTEXT) as client:
            request = OutboundRequest(url=url, body="x")
            tasks = [
                send_attempt(client, request, policy=OPEN, extra_headers={}) for _ in range(50)
            ]
            return await asyncio.gather(*tasks)

    with Receiver() as rx:
        outcomes = asyncio.run(many(rx.url))
        assert rx.connections <= 50
    assert all(outcome.ok for outcome in outcomes)
