"""The service layer's pure parts: field checks, cursors, percentiles, preview,
and the idempotency protocol (against a dict standing in for Redis)."""

from __future__ import annotations

import base64
import time
from datetime import UTC, datetime

import pytest

from hookboard import services as service
from hookboard.api import idempotency
from hookboard.core.redaction import MASK
from hookboard.net.guard import NetPolicy
from hookboard.services import InvalidInput

STRICT = NetPolicy()
CONFIG = service.ServiceConfig(policy=STRICT, max_body_bytes=10)


# --------------------------------------------------------------------------- field checks


@pytest.mark.parametrize(
    "url",
    [
        "http://127.0.0.1/",
        "http://2130706433/",
        "http://0x7f.1/",
        "http://0177.0.0.1/",
        "http://[::1]/",
        "http://[::ffff:127.0.0.1]/",
        "http://169.254.169.254/latest",
        "http://[fe80::1]/",
        "http://[fd00::1]/",
        "http://100.64.0.1/",
        "http://0.0.0.0/",
    ],
)
def test_private_addresses_are_refused_under_the_strict_policy(url):
    with pytest.raises(InvalidInput) as caught:
        service.check_url_allowed(url, STRICT)
    assert caught.value.field == "request.url"
    # An operator may allow them (except spellings the HTTP client itself refuses).
    if url != "http://0177.0.0.1/":
        assert service.check_url_allowed(url, NetPolicy(allow_private=True)) == url


@pytest.mark.parametrize(
    "url", ["ftp://x.example/", "file:///etc/passwd", "http://", "//x.example", "", "   "]
)
def test_only_http_urls(url):
    with pytest.raises(InvalidInput):
        service.check_url_allowed(url, NetPolicy(allow_private=True), field="url")


def test_public_urls_and_host_names_pass():
    assert service.check_url_allowed(" https://hooks.example.com/x ", STRICT) == (
        "https://hooks.example.com/x"
    )
    assert service.check_url_allowed("http://93.184.215.14:8080/", STRICT)


@pytest.mark.parametrize(
    ("headers", "fragment"),
    [
        ({"X-A": "1\r\nX-B: 2"}, "CR or LF"),
        ({"X-A\n": "1"}, "CR or LF"),
        ({"X A": "1"}, "not a valid HTTP header name"),
        ({"": "1"}, "not a valid HTTP header name"),
        ({"X-A": "caf\u00e9"}, "printable ASCII"),
        ({"X-A": "\x00"}, "printable ASCII"),
        ({"X-A": "x" * 8193}, "8192"),
        ({"x-a": "1", "X-A": "2"}, "twice"),
        ({f"X-{n}": "1" for n in range(101)}, "at most 100"),
    ],
)
def test_bad_headers(headers, fragment):
    with pytest.raises(InvalidInput) as caught:
        service.check_headers(headers)
    assert fragment in caught.value.message
    assert caught.value.field == "request.headers"


def test_good_headers():
    headers = {"Authorization": "Bearer a.b-c", "X-Tab": "a\tb", "Accept": "*/*"}
    assert service.check_headers(headers) == headers


def test_methods_and_bodies():
    assert service.check_method(" patch ") == "PATCH"
    for method in ("TRACE", "CONNECT", "", "GETS"):
        with pytest.raises(InvalidInput):
            service.check_method(method)
    assert service.check_body("0123456789", 10) == "0123456789"
    with pytest.raises(InvalidInput, match="11 bytes"):
        service.check_body("é" * 5 + "x", 10)  # ten bytes of é, one of x
    with pytest.raises(InvalidInput, match="NUL"):
        service.check_body("\x00", 10)
    with pytest.raises(InvalidInput, match="Unicode"):
        service.check_body("\ud800", 10)


def test_a_masked_secret_sent_back_keeps_the_stored_one():
    old = {"Authorization": "Bearer real", "X-Plain": "a"}
    new = {"authorization": MASK, "X-Plain": MASK, "X-Token": MASK}
    assert service.keep_masked_secrets(new, old) == {
        "authorization": "Bearer real",
        "X-Plain": MASK,  # not a secret header: "***" is its new value
        "X-Token": MASK,  # nothing stored to keep
    }


def test_a_test_request_is_checked_like_a_schedule():
    request = service.build_test_request(
        {"url": "https://x.example", "method": "put", "headers": None, "body": "hi"},
        config=CONFIG,
    )
    assert (request.method, request.headers, request.timeout_seconds) == ("PUT", {}, 30.0)
    with pytest.raises(InvalidInput) as caught:
        service.build_test_request({"url": "http://10.0.0.1/"}, config=CONFIG)
    assert caught.value.field == "request.url"
    with pytest.raises(InvalidInput) as caught:
        service.build_test_request({"url": "https://x.example", "body": "x" * 11}, config=CONFIG)
    assert caught.value.field == "request.body"


# --------------------------------------------------------------------------- cursors and stats


def _b64(text: str) -> str:
    return base64.urlsafe_b64encode(text.encode()).decode().rstrip("=")


def test_cursors_round_trip_and_refuse_forgeries():
    cursor = service.encode_cursor("r", 123456789012)
    assert "123" not in cursor  # opaque, not a plain id
    assert service.decode_cursor("r", cursor) == 123456789012
    assert service.decode_cursor("r", None) is None
    assert service.decode_cursor("r", "") is None
    for forged in (
        service.encode_cursor("s", 5),  # another listing's
        "!!!",
        _b64("r:"),
        _b64("r:-5"),
        _b64("r:0"),
        _b64("r: 5"),
        _b64("r:" + "9" * 30),  # beyond BIGINT
        _b64("r:\uff15"),  # a full-width digit
        _b64("r:5:6"),
    ):
        with pytest.raises(InvalidInput) as caught:
            service.decode_cursor("r", forged)
        assert caught.value.field == "cursor"


def test_percentiles_interpolate_between_ranks():
    assert service.percentile([], 0.5) is None
    assert service.percentile([7.0], 0.99) == 7.0
    values = [100.0, 200.0, 300.0, 400.0, 500.0]
    assert service.percentile(values, 0.5) == 300.0
    assert service.percentile(values, 0.99) == pytest.approx(496.0)
    assert service.percentile(values, 0.0) == 100.0
    assert service.percentile(values, 1.0) == 500.0


# --------------------------------------------------------------------------- preview


def test_preview_of_a_berlin_cron_across_spring_forward():
    preview = service.preview_schedule(
        {
            "kind": "cron",
            "cron": "30 2 * * *",
            "timezone": "Europe/Berlin",
            "starts_at": datetime(2031, 3, 29, tzinfo=UTC),
        },
        now=datetime(2026, 1, 1, tzinfo=UTC),
        count=3,
    )
    assert "Europe/Berlin" in preview.description
    # 02:30 does not exist on 30 March 2031: it fires at the jump, 03:00 CEST (01:00 UTC).
    assert preview.next == [
        datetime(2031, 3, 29, 1, 30, tzinfo=UTC),
        datetime(2031, 3, 30, 1, 0, tzinfo=UTC),
        datetime(2031, 3, 31, 0, 30, tzinfo=UTC),
    ]


def test_preview_starts_now_without_starts_at():
    now = datetime(2030, 5, 5, 12, 0, 0, tzinfo=UTC)
    preview = service.preview_schedule(
        {"kind": "interval", "every": 2, "unit": "hours"}, now=now, count=2
    )
    assert preview.next == [now, datetime(2030, 5, 5, 14, tzinfo=UTC)]


@pytest.mark.parametrize(
    ("timing", "field"),
    [
        ({"kind": "cron", "cron": "* * *"}, "cron"),
        ({"kind": "cron"}, "cron"),
        ({"kind": "cron", "cron": "0 0 * * *", "timezone": "Moon/Base"}, "timezone"),
        ({"kind": "interval", "unit": "hours"}, "every"),
        ({"kind": "interval", "every": 1}, "unit"),
        ({"kind": "once"}, "run_at"),
        ({"kind": "window", "every": 1, "unit": "hours"}, "starts_at"),
        ({"cron": "* * * * *"}, "kind"),
    ],
)
def test_preview_errors_name_the_field(timing, field):
    with pytest.raises(InvalidInput) as caught:
        service.preview_schedule(timing, now=datetime(2030, 1, 1, tzinfo=UTC))
    assert caught.value.field == field


# --------------------------------------------------------------------------- idempotency


class FakeRedis:
    """SET NX EX / GET / DELETE with expiry, as run_once uses them."""

    def __init__(self):
        self.data: dict[str, tuple[str, float]] = {}

    def _live(self, name):
        value = self.data.get(name)
        if value and value[1] < time.monotonic():
            del self.data[name]
            return None
        return value

    def set(self, name, value, nx=False, ex=None):
        if nx and self._live(name):
            return None
        self.data[name] = (value, time.monotonic() + (ex or 1e9))
        return True

    def get(self, name):
        value = self._live(name)
        return value[0] if value else None

    def delete(self, name):
        self.data.pop(name, None)


def _run(redis, *, workspace_id=1, key="k", fingerprint="f", produce):
    return idempotency.run_once(
        redis,
        namespace="hb",
        workspace_id=workspace_id,
        key=key,
        request_fingerprint=fingerprint,
        produce=produce,
    )


def test_the_first_answer_is_replayed():
    redis, calls = FakeRedis(), []

    def produce():
        calls.append(1)
        return 201, {"id": len(calls)}

    first = _run(redis, produce=produce)
    again = _run(redis, produce=produce)
    assert (first.status, first.body, first.replayed) == (201, {"id": 1}, False)
    assert (again.status, again.body, again.replayed) == (201, {"id": 1}, True)
    assert len(calls) == 1
    # Per user; and another request under the same key is refused.
    assert _run(redis, workspace_id=2, produce=produce).body == {"id": 2}
    with pytest.raises(idempotency.IdempotencyKeyReused):
        _run(redis, fingerprint="other", produce=produce)
    # Stored under the user and a hash of the key, never the key itself.
    assert sorted(name.rsplit(":", 1)[0] for name in redis.data) == [
        "hb:idempotency:1",
        "hb:idempotency:2",
    ]
    assert len({name.rsplit(":", 1)[1] for name in redis.data}) == 1
    assert not any(name.endswith(":k") for name in redis.data)


def test_a_failure_releases_the_key_and_a_running_one_blocks():
    redis = FakeRedis()

    def fail():
        raise RuntimeError("boom")

    with pytest.raises(RuntimeError):
        _run(redis, produce=fail)
    assert _run(redis, produce=lambda: (201, {"ok": True})).body == {"ok": True}

    def nested():
        with pytest.raises(idempotency.IdempotencyInProgress):
            _run(redis, key="busy", produce=lambda: (201, {}))
        return 201, {"done": True}

    assert _run(redis, key="busy", produce=nested).body == {"done": True}


def test_keys_and_fingerprints():
    for key in ("", "k" * 256, "caf\u00e9", "a\nb"):
        with pytest.raises(idempotency.InvalidIdempotencyKey):
            idempotency.check_key(key)
    assert idempotency.fingerprint("post", "/a", {"x": 1, "y": 2}) == idempotency.fingerprint(
        "POST", "/a", {"y": 2, "x": 1}
    )
    assert idempotency.fingerprint("POST", "/a", {}) != idempotency.fingerprint("POST", "/b", {})
