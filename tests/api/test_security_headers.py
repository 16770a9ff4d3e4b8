"""Security headers on the API's answers, HSTS only for an https PUBLIC_URL, and /docs
served from this origin (Swagger UI's files from the pinned package, no CDN)."""

from __future__ import annotations

import re
from collections.abc import Iterator

import httpx
import pytest

from hookboard.api.middleware.security_headers import INLINE_SCRIPT, script_hash
from hookboard.settings import Settings
from tests.support.api_server import serve_api

ASSET_TYPES = {
    "/docs/assets/swagger-ui-bundle.js": "text/javascript",
    "/docs/assets/swagger-ui.css": "text/css",
    "/docs/assets/favicon-32x32.png": "image/png",
}


def serve(sqlite_url: str, redis_url: str, **settings: str):
    return serve_api(DATABASE_URL=sqlite_url, REDIS_URL=redis_url, **settings)


@pytest.fixture(scope="module")
def base(sqlite_url, redis_url) -> Iterator[str]:
    with serve(sqlite_url, redis_url) as url:
        yield url


def policy_of(response: httpx.Response) -> dict[str, list[str]]:
    directives = response.headers["content-security-policy"].split(";")
    return {name: sources for name, *sources in (d.split() for d in directives if d.strip())}


@pytest.mark.parametrize(
    ("method", "path", "status"),
    [
        ("GET", "/health", 200),
        ("GET", "/api/v1/schedules", 401),
        ("GET", "/api/v1/no-such-thing", 404),
        ("GET", "/openapi.json", 200),
    ],
)
def test_every_api_answer_says_nosniff_and_forbids_framing(base, method, path, status):
    response = httpx.request(method, base + path)
    assert response.status_code == status
    assert response.headers["x-content-type-options"] == "nosniff"
    assert response.headers["referrer-policy"] == "same-origin"
    assert policy_of(response)["frame-ancestors"] == ["'none'"]
    assert "strict-transport-security" not in response.headers


def test_a_refused_oversized_body_carries_the_headers_too(base):
    too_large = b"{" + b" " * 1_048_576 + b"}"  # over MAX_REQUEST_BODY_BYTES' default
    response = httpx.post(base + "/api/v1/schedules", content=too_large)
    assert response.status_code == 413
    assert response.headers["x-content-type-options"] == "nosniff"


def test_it_sends_hsts_only_when_public_url_is_https(sqlite_url, redis_url):
    with serve(sqlite_url, redis_url, PUBLIC_URL="https://hooks.example.com") as url:
        response = httpx.get(url + "/health")
    assert response.headers["strict-transport-security"] == "max-age=31536000; includeSubDomains"


def test_public_url_must_be_an_http_address():
    assert Settings(public_url="https://hooks.example.com/").public_url == (
        "https://hooks.example.com"
    )
    assert not Settings(public_url="http://10.0.0.5:3000").served_over_https
    assert not Settings().served_over_https
    with pytest.raises(ValueError, match="must start with https://"):
        Settings(public_url="hooks.example.com")


def test_docs_loads_only_same_origin_assets_and_they_are_served(base):
    page = httpx.get(base + "/docs")
    assert page.status_code == 200
    references = re.findall(r'(?:src|href)="([^"]*)"', page.text)
    assert sorted(references) == sorted(ASSET_TYPES)
    assert "cdn" not in page.text.lower()
    for path, content_type in ASSET_TYPES.items():
        asset = httpx.get(base + path)
        assert asset.status_code == 200, path
        assert asset.headers["content-type"].startswith(content_type), path
        assert asset.headers["x-content-type-options"] == "nosniff"
    assert b"SwaggerUIBundle" in httpx.get(base + "/docs/assets/swagger-ui-bundle.js").content


def test_docs_allows_its_own_inline_script_and_no_other(base):
    page = httpx.get(base + "/docs")
    inline = INLINE_SCRIPT.findall(page.content)
    assert len(inline) == 1
    scripts = policy_of(page)["script-src"]
    assert scripts == ["'self'", script_hash(inline[0])]
    assert policy_of(page)["frame-ancestors"] == ["'none'"]


@pytest.mark.parametrize(
    "path", ["/docs/assets/LICENSE", "/docs/assets/oauth2-redirect.html", "/docs/assets/index.css"]
)
def test_docs_assets_serve_only_the_files_the_page_needs(base, path):
    assert httpx.get(base + path).status_code == 404


def test_redoc_is_off_rather_than_loaded_from_a_cdn(base):
    assert httpx.get(base + "/redoc").status_code == 404
