"""Template variables: checked when saved, rendered per attempt."""

from __future__ import annotations

import re
from datetime import UTC, datetime, timedelta, timezone

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from hookboard import services as service
from hookboard.domain import templating
from hookboard.domain.outbound import OutboundRequest, render_request
from hookboard.domain.templating import TemplateError, TemplateValues
from hookboard.net.guard import NetPolicy
from hookboard.services import InvalidInput

CONFIG = service.ServiceConfig(policy=NetPolicy(), max_body_bytes=1000)
VALUES = TemplateValues(
    run_id=42,
    schedule_id=7,
    scheduled_for=datetime(2026, 3, 1, 11, 30, tzinfo=timezone(timedelta(hours=1))),
    attempt=2,
)


def test_it_renders_every_variable_raw_in_headers_and_body():
    request = OutboundRequest(
        url="https://hooks.example.com/x",
        headers={"X-Run": "{{run_id}}", "X-Try": "{{ attempt }}"},
        body='{"run": {{run_id}}, "schedule": {{schedule_id}}, "at": "{{scheduled_for}}"}',
    )
    rendered = render_request(request, VALUES)
    assert rendered.headers == {"X-Run": "42", "X-Try": "2"}
    assert rendered.body == '{"run": 42, "schedule": 7, "at": "2026-03-01T10:30:00Z"}'


def test_it_url_encodes_values_in_the_url():
    request = OutboundRequest(url="https://hooks.example.com/r/{{run_id}}?at={{scheduled_for}}")
    rendered = render_request(request, VALUES)
    assert rendered.url == "https://hooks.example.com/r/42?at=2026-03-01T10%3A30%3A00Z"


def test_a_request_without_templates_is_returned_as_is():
    request = OutboundRequest(url="https://hooks.example.com/x", body="{}")
    assert render_request(request, VALUES) is request


def test_an_escaped_brace_pair_is_sent_literally_and_never_checked():
    body = r'{"template": "Hello \{{name}}", "run": {{run_id}}, "raw": "\{{run_id}}"}'
    templating.check_template(body)  # \{{name}} is no variable: no error
    request = OutboundRequest(url="https://hooks.example.com/x", body=body)
    rendered = render_request(request, VALUES)
    assert rendered.body == '{"template": "Hello {{name}}", "run": 42, "raw": "{{run_id}}"}'
    with pytest.raises(TemplateError, match=r"write \\\{\{ for a literal \{\{"):
        templating.check_template("Hello {{name}}")


def test_an_unknown_name_is_left_alone_at_send_time():
    assert templating.render("{{nope}} {{run_id}}", {"run_id": "1"}) == "{{nope}} 1"


@pytest.mark.parametrize("text", ["{{run}}", "{{ RUN_ID }}", "a {{}} b", "{{run_id}} {{user}}"])
def test_it_refuses_unknown_variables(text):
    with pytest.raises(TemplateError, match="unknown template variable"):
        templating.check_template(text)


@pytest.mark.parametrize(
    "url",
    [
        "https://{{schedule_id}}.example.com/",
        "https://hooks.example.com:{{attempt}}/",
        "https://user:{{run_id}}@hooks.example.com/",
        "{{scheduled_for}}://hooks.example.com/",
        "https://hooks.example.com{{run_id}}",
    ],
)
def test_the_scheme_and_host_may_not_be_templated(url):
    with pytest.raises(TemplateError, match="scheme or host"):
        templating.check_url_template(url)


def test_a_saved_schedule_names_the_field_of_a_bad_template():
    cases = [
        ({"url": "https://hooks.example.com/{{x}}"}, "request.url"),
        ({"url": "https://{{run_id}}.example.com/"}, "request.url"),
        ({"headers": {"X-A": "{{when}}"}}, "request.headers"),
        ({"body": "{{ body }}"}, "request.body"),
    ]
    for fields, field in cases:
        with pytest.raises(InvalidInput) as caught:
            service.check_request_fields(dict(fields), CONFIG)
        assert caught.value.field == field, fields


def test_a_templated_url_still_passes_the_address_guard():
    with pytest.raises(InvalidInput, match="not allowed"):
        service.check_templated_url("http://127.0.0.1/{{run_id}}", NetPolicy())
    url = "https://hooks.example.com/{{schedule_id}}/{{run_id}}?try={{attempt}}"
    assert service.check_templated_url(f"  {url} ", NetPolicy()) == url


def test_targets_are_checked_with_flat_field_names():
    with pytest.raises(InvalidInput) as caught:
        service.check_request_fields({"body": "{{oops}}"}, CONFIG, flat=True)
    assert caught.value.field == "body"


def test_a_test_delivery_sends_sample_values():
    request = service.build_test_request(
        {"url": "https://hooks.example.com/{{run_id}}", "body": "try {{attempt}}"},
        config=CONFIG,
    )
    assert request.url == "https://hooks.example.com/1"
    assert request.body == "try 1"


def test_instants_are_utc_with_a_z():
    assert templating.format_instant(datetime(2026, 1, 2, 3, 4, 5, tzinfo=UTC)) == (
        "2026-01-02T03:04:05Z"
    )


# ------------------------------------------------------------------ cost and fidelity
# The regex the scanner replaced: its meaning is the reference (its lazy `.*?`
# made the check quadratic on a body of unclosed "{{").
_REFERENCE = re.compile(r"\\\{\{|\{\{(.*?)\}\}", re.DOTALL)
BODY_LIMIT = 256 * 1024
ADVERSARIAL = ["{{", "{{ a", "\\{{", "{{x}", "{{{", "\\{{{{", "{{}}", "{{run_id}}"]


def _reference_render(text: str, values: dict[str, str]) -> str:
    def value(match):
        if match.group(1) is None:
            return "{{"
        return values.get(match.group(1).strip(), match.group(0))

    return _REFERENCE.sub(value, text)


def _reference_refuses(text: str) -> bool:
    return any(
        m.group(1) is not None and m.group(1).strip() not in templating.VARIABLES
        for m in _REFERENCE.finditer(text)
    )


@pytest.mark.parametrize("unit", ADVERSARIAL)
def test_scanning_a_full_size_body_costs_a_few_passes_over_it(unit):
    text = (unit * (BODY_LIMIT // len(unit) + 1))[:BODY_LIMIT]
    work = templating.ScanWork()
    found = sum(1 for _ in templating.scan(text, work))
    assert work.chars <= 3 * len(text), (unit, work.chars)
    assert found <= len(text)


@pytest.mark.parametrize("unit", ADVERSARIAL)
def test_check_and_render_of_an_adversarial_body_keep_their_meaning(unit):
    text = unit * 300  # small enough for the quadratic reference
    refused = _reference_refuses(text)
    if refused:
        with pytest.raises(TemplateError, match="unknown template variable"):
            templating.check_template(text)
    else:
        templating.check_template(text)
    assert templating.render(text, {"run_id": "7"}) == _reference_render(text, {"run_id": "7"})


@given(st.text(alphabet="{}\\ arun_id\nx", max_size=60))
@settings(max_examples=400, deadline=None)
def test_the_scanner_reads_templates_as_the_old_regex_did(text):
    values = {"run_id": "7", "attempt": "2"}
    assert templating.render(text, values) == _reference_render(text, values)
    try:
        templating.check_template(text)
        refused = False
    except TemplateError:
        refused = True
    assert refused == _reference_refuses(text)
    first = _REFERENCE.search(text)  # the URL check refuses a marker in the host
    assert templating._first_marker(text) == (first.start() if first else len(text))
