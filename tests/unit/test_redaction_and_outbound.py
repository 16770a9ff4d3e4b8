from hookboard.core.redaction import MASK, redact_channel_url, redact_headers, redact_url
from hookboard.domain.outbound import RequestFields, merge_request


def test_secret_headers_are_masked_and_others_kept():
    headers = {
        "Authorization": "Bearer x",
        "Cookie": "a=b",
        "X-Api-Key": "k",
        "X-Auth-Token": "t",
        "X-Hub-Secret": "s",
        "Content-Type": "application/json",
        "webhook-signature": "v1,abc",
        "webhook-id": "run_1",
    }
    redacted = redact_headers(headers)
    assert {name for name, value in redacted.items() if value == MASK} == {
        "Authorization",
        "Cookie",
        "X-Api-Key",
        "X-Auth-Token",
        "X-Hub-Secret",
    }
    assert redacted["Content-Type"] == "application/json"
    assert redacted["webhook-signature"] == "v1,abc"
    assert headers["Authorization"] == "Bearer x"  # the original is untouched


def test_a_schedule_without_a_target_sends_its_own_request():
    request = merge_request(
        RequestFields("http://a.test/x", "put", {"A": "1"}, "body"),
        None,
        timeout_seconds=5,
        follow_redirects=True,
    )
    assert (request.url, request.method, request.headers, request.body) == (
        "http://a.test/x",
        "PUT",
        {"A": "1"},
        "body",
    )
    assert request.timeout_seconds == 5 and request.follow_redirects


def test_the_schedule_overrides_its_target_field_by_field():
    target = RequestFields("http://t.test/", "PATCH", {"A": "t", "B": "t"}, "target body")
    own = RequestFields(None, None, {"B": "s"}, None)
    request = merge_request(own, target, timeout_seconds=30, follow_redirects=False)
    assert request.url == "http://t.test/"
    assert request.method == "PATCH"
    assert request.headers == {"A": "t", "B": "s"}
    assert request.body == "target body"


def test_an_empty_body_override_is_kept():
    target = RequestFields("http://t.test/", None, None, "target body")
    request = merge_request(
        RequestFields(None, None, None, ""), target, timeout_seconds=1, follow_redirects=False
    )
    assert request.body == ""
    assert request.method == "POST"


def test_url_secrets_are_masked_and_the_rest_kept_byte_for_byte():
    assert redact_url("https://u:p@h.example/a?api_key=k&page=2&x=%20") == (
        "https://u:***@h.example/a?api_key=***&page=2&x=%20"
    )
    assert redact_url("https://tok3n@h.example/") == "https://***@h.example/"
    for name in ("token", "access_token", "sig", "code", "key", "X-Api-Key", "password"):
        assert redact_url(f"https://h.example/?{name}=v") == f"https://h.example/?{name}=***"
    for kept in ("https://h.example/?page=2&sort=asc", "https://h.example/{{ run.id }}", None, ""):
        assert redact_url(kept) == kept
    assert redact_url("https://h.example:99999/") == "***"  # unparseable: nothing shown
    assert redact_channel_url("https://hooks.slack.com/services/T/B/X") == (
        "https://hooks.slack.com/***"
    )
    assert redact_channel_url("https://u:p@h.example") == "https://h.example/***"
    assert redact_channel_url("https://h.example/") == "https://h.example/"
