"""POST /auth/signup, /auth/login, /auth/logout over real HTTP, on both databases;
and the API's CORS policy (CORS_ORIGINS)."""

from __future__ import annotations

import asyncio
import time
from concurrent.futures import ThreadPoolExecutor
from datetime import UTC, datetime, timedelta

import httpx
from sqlmodel import Session, func, select

from hookboard.api.app import create_api
from hookboard.api.middleware.cors import add_cors, cors_origins
from hookboard.models import User
from hookboard.settings import Settings
from tests.api.test_api_keys import SEEDED_PASSWORD, seeded_user

SESSION_TTL_SECONDS = 1.8
API_SETTINGS = {
    "LOGIN_MAX_FAILURES_PER_EMAIL": "2",
    "LOGIN_MAX_FAILURES_PER_IP": "3",
    "SESSION_TTL_HOURS": str(SESSION_TTL_SECONDS / 3600),
}
INVALID = {"code": "invalid_credentials", "message": "invalid email or password", "field": None}


def bearer(token: str) -> dict[str, str]:
    return {"Authorization": f"Bearer {token}"}


def login(client: httpx.Client, email: str, password: str) -> httpx.Response:
    return client.post("/auth/login", json={"email": email, "password": password})


def assert_error(response: httpx.Response, status: int, code: str, field: str | None = None):
    assert response.status_code == status, response.text
    body = response.json()
    assert set(body) == {"error"}
    assert body["error"]["code"] == code, body
    assert body["error"]["field"] == field, body
    assert body["error"]["message"]
    return body["error"]


def test_signup_creates_a_user_with_a_working_session(client):
    response = client.post(
        "/auth/signup", json={"email": "  Alice@Example.COM ", "password": "correct horse"}
    )
    assert response.status_code == 201, response.text
    body = response.json()
    assert set(body) == {"user", "token"}
    assert set(body["user"]) == {"id", "email", "created_at"}
    assert body["user"]["email"] == "alice@example.com"
    assert body["token"].startswith("hbs_")
    assert "correct horse" not in response.text
    assert response.headers["cache-control"] == "no-store"

    headers = bearer(body["token"])
    assert client.get("/api-keys", headers=headers).json() == {"items": []}
    # Signup also made the user's first signing secret.
    assert client.get("/signing-secret", headers=headers).json()["secret"].startswith("whsec_")


def test_a_taken_email_is_409_in_any_case(client, api_engine):
    seeded_user(api_engine, "bob@example.com")
    response = client.post(
        "/auth/signup", json={"email": "BOB@example.com", "password": "another-pass"}
    )
    assert_error(response, 409, "email_taken", "email")


def test_concurrent_signups_for_one_email_make_one_account(client, api_engine):
    def attempt(_):
        with httpx.Client(base_url=client.base_url, timeout=30) as own:
            body = {"email": "race@example.com", "password": "s3cret-pass"}
            return own.post("/auth/signup", json=body)

    with ThreadPoolExecutor(3) as pool:
        responses = list(pool.map(attempt, range(3)))
    assert sorted(r.status_code for r in responses) == [201, 409, 409]
    for response in responses:
        if response.status_code == 409:
            assert_error(response, 409, "email_taken", "email")
    with Session(api_engine) as session:
        assert session.exec(select(func.count()).select_from(User)).one() == 1


GOOD = {"email": "carol@example.com", "password": "s3cret-pass"}


SIGNUP_INVALID = [
    ({"password": "s3cret-pass"}, "email"),
    ({**GOOD, "email": "carol"}, "email"),
    ({**GOOD, "email": "carol@localhost"}, "email"),
    ({**GOOD, "email": "carol @example.com"}, "email"),
    ({**GOOD, "email": "carol@@example.com"}, "email"),
    ({**GOOD, "email": "carol\x00@example.com"}, "email"),
    ({**GOOD, "email": "c" * 400 + "@example.com"}, "email"),
    ({**GOOD, "email": 42}, "email"),
    ({**GOOD, "email": None}, "email"),
    ({"email": "carol@example.com"}, "password"),
    ({**GOOD, "password": "short"}, "password"),
    ({**GOOD, "password": "é" * 37}, "password"),  # 37 characters, 74 bytes
    ({**GOOD, "password": "x" * 73}, "password"),
    ({**GOOD, "password": "x" * 1_000_000}, "password"),
    ({**GOOD, "password": "abc\x00defghij"}, "password"),
    ({**GOOD, "password": 12345678}, "password"),
    ({**GOOD, "password": ["s3cret-pass"]}, "password"),
    ({**GOOD, "admin": True}, "admin"),
]


def test_signup_validation_names_the_field(client):
    for body, field in SIGNUP_INVALID:
        response = client.post("/auth/signup", json=body)
        error = assert_error(response, 422, "validation_error", field)
        assert "s3cret" not in error["message"]


def test_lone_surrogates_are_422_not_a_database_error(client):
    for raw, field in [
        (rb'{"email": "\ud800@example.com", "password": "s3cret-pass"}', "email"),
        (rb'{"email": "carol@example.com", "password": "s3cret-pass\udfff"}', "password"),
    ]:
        for path in ("/auth/signup", "/auth/login"):
            response = client.post(path, content=raw, headers={"Content-Type": "application/json"})
            assert_error(response, 422, "validation_error", field)


def test_the_72_byte_limit_is_explained(client):
    body = {**GOOD, "password": "é" * 37}
    error = assert_error(
        client.post("/auth/signup", json=body), 422, "validation_error", "password"
    )
    assert "72 bytes" in error["message"]


MALFORMED = [
    b"",
    b"{",
    b"[]",
    b"null",
    b'"text"',
    b"\xff\xfe\x00",
    b'{"email": 1e999999}',
    b"x" * 200_000,
]


def test_malformed_bodies_are_refused_in_the_one_shape(client):
    for path in ("/auth/signup", "/auth/login"):
        for content in MALFORMED:
            check_malformed(client, path, content)


def check_malformed(client, path, content):
    response = client.post(path, content=content, headers={"Content-Type": "application/json"})
    # Bytes that are not even UTF-8 are a 400 from FastAPI's body parser; the rest 422.
    status, code = (
        (400, "bad_request") if content.startswith(b"\xff") else (422, "validation_error")
    )
    assert_error(response, status, code, field=response.json()["error"]["field"])


def test_non_json_bodies_are_422(client):
    for path in ("/auth/signup", "/auth/login"):
        assert client.post(path, data={"email": "a@example.com"}).status_code == 422
        assert client.post(path).status_code == 422


def test_login_returns_a_new_expiring_session_token(client):
    email, password = "Zoë@Exämple.org", "pässwörd-ünïcode-🔑"
    signed_up = client.post("/auth/signup", json={"email": email, "password": password})
    assert signed_up.status_code == 201, signed_up.text
    assert signed_up.json()["user"]["email"] == "zoë@exämple.org"
    before = datetime.now(UTC)
    response = login(client, "ZOË@EXÄMPLE.ORG", password)
    assert response.status_code == 200, response.text
    body = response.json()
    assert set(body) == {"token", "expires_at"}
    assert response.headers["cache-control"] == "no-store"
    assert body["token"] != signed_up.json()["token"]
    expires_at = datetime.fromisoformat(body["expires_at"])
    ttl = timedelta(seconds=SESSION_TTL_SECONDS)
    assert before + ttl - timedelta(seconds=5) < expires_at < before + ttl + timedelta(seconds=5)

    headers = bearer(body["token"])
    assert client.get("/api-keys", headers=headers).status_code == 200
    time.sleep(max(0.0, (expires_at - datetime.now(UTC)).total_seconds()) + 0.3)
    error = assert_error(client.get("/api-keys", headers=headers), 401, "unauthorized")
    assert error["message"] == "session expired or revoked"


def test_wrong_password_and_unknown_email_look_alike(client, api_engine):
    seeded_user(api_engine, GOOD["email"])
    started = time.perf_counter()
    wrong = login(client, GOOD["email"], "wrong-password")
    wrong_seconds = time.perf_counter() - started
    started = time.perf_counter()
    unknown = login(client, "nobody@example.com", GOOD["password"])
    unknown_seconds = time.perf_counter() - started

    assert wrong.status_code == unknown.status_code == 401
    assert wrong.json() == unknown.json() == {"error": INVALID}
    # Both run one bcrypt verification (a dummy hash for the unknown email).
    assert unknown_seconds > 0.4 * wrong_seconds


def test_failed_logins_for_one_email_are_throttled(client, api_engine):
    seeded_user(api_engine, GOOD["email"])
    seeded_user(api_engine, "dave@example.com")
    for _ in range(2):
        assert login(client, GOOD["email"], "wrong-password").status_code == 401
    # Throttled even with the right password, and without running bcrypt.
    throttled = login(client, GOOD["email"].upper(), SEEDED_PASSWORD)
    assert_error(throttled, 429, "rate_limited")
    assert 1 <= int(throttled.headers["retry-after"]) <= 15 * 60
    # Another account from the same address is not affected.
    assert login(client, "dave@example.com", SEEDED_PASSWORD).status_code == 200


def test_failed_logins_from_one_ip_are_throttled(client, api_engine):
    seeded_user(api_engine, GOOD["email"])
    for number in range(3):
        assert login(client, f"nobody{number}@example.com", "whatever1").status_code == 401
    throttled = login(client, GOOD["email"], SEEDED_PASSWORD)
    assert_error(throttled, 429, "rate_limited")
    assert int(throttled.headers["retry-after"]) >= 1


def test_x_forwarded_for_is_ignored_without_trusted_proxies(client, api_engine):
    # TRUSTED_PROXY_HOPS is 0: a client naming other addresses is still 127.0.0.1.
    seeded_user(api_engine, GOOD["email"])
    for number in range(3):
        spoofed = {"X-Forwarded-For": f"198.51.100.{number}"}
        body = {"email": f"nobody{number}@example.com", "password": "whatever1"}
        assert client.post("/auth/login", json=body, headers=spoofed).status_code == 401
    assert_error(login(client, GOOD["email"], SEEDED_PASSWORD), 429, "rate_limited")


def test_logout_revokes_the_calling_session(client, api_engine):
    headers = seeded_user(api_engine)
    response = client.post("/auth/logout", headers=headers)
    assert response.status_code == 204
    assert response.content == b""
    error = assert_error(client.get("/api-keys", headers=headers), 401, "unauthorized")
    assert error["message"] == "session expired or revoked"
    assert_error(client.post("/auth/logout", headers=headers), 401, "unauthorized")


def test_logout_with_an_api_key_is_refused(client, api_engine):
    headers = seeded_user(api_engine)
    key = client.post("/api-keys", json={"name": "ci", "scope": "write"}, headers=headers)
    key_headers = bearer(key.json()["key"])
    assert_error(client.post("/auth/logout", headers=key_headers), 400, "not_a_session")
    assert client.get("/api-keys", headers=key_headers).status_code == 200
    assert client.get("/api-keys", headers=headers).status_code == 200


BAD_AUTHORIZATION = [
    None,
    "",
    "Bearer",
    "Bearer  x",
    "Basic dXNlcjpwYXNz",
    "Bearer hbs_nope",
    "Bearer hbk_nope",
    "Bearer " + "x" * 4_000,
    "bearer hbs_" + "0" * 43,
]


def test_missing_or_unknown_tokens_are_401(client):
    for authorization in BAD_AUTHORIZATION:
        check_unauthorized(client, authorization)


def check_unauthorized(client, authorization):
    headers = {} if authorization is None else {"Authorization": authorization}
    response = client.get("/api-keys", headers=headers)
    assert_error(response, 401, "unauthorized")
    assert response.headers["www-authenticate"] == "Bearer"
    assert "x-ratelimit-limit" not in response.headers


# --- CORS: the FastAPI app itself, in process (no database involved) -------------------

PREFLIGHT = {
    "Access-Control-Request-Method": "POST",
    "Access-Control-Request-Headers": "authorization, content-type",
}


def cors_calls(origins: list[str], *calls: tuple[str, str, dict]) -> list[httpx.Response]:
    """Each (method, path, headers) against create_api() with add_cors(origins), in process."""
    api = create_api()
    add_cors(api, origins)

    async def run():
        transport = httpx.ASGITransport(app=api)
        async with httpx.AsyncClient(transport=transport, base_url="http://hookboard") as http:
            return [
                await http.request(method, path, headers=headers) for method, path, headers in calls
            ]

    return asyncio.run(run())


def test_cors_origins_parses_the_setting():
    settings = Settings(cors_origins=" https://a.example/, ,http://b.example:8080 ")
    assert cors_origins(settings) == ["https://a.example", "http://b.example:8080"]
    assert cors_origins(Settings(cors_origins="")) == []


def test_without_cors_origins_only_the_same_origin_may_call():
    preflight, simple = cors_calls(
        [],
        ("OPTIONS", "/api/v1/api-keys", {"Origin": "https://evil.example", **PREFLIGHT}),
        ("GET", "/health", {"Origin": "https://evil.example"}),
    )
    assert preflight.status_code == 400
    assert "access-control-allow-origin" not in preflight.headers
    assert simple.status_code == 200
    assert "access-control-allow-origin" not in simple.headers


def test_a_listed_origin_may_call_and_read_rate_limit_headers():
    preflight, simple, other = cors_calls(
        ["https://app.example"],
        ("OPTIONS", "/api/v1/api-keys", {"Origin": "https://app.example", **PREFLIGHT}),
        ("GET", "/health", {"Origin": "https://app.example"}),
        ("OPTIONS", "/api/v1/api-keys", {"Origin": "https://evil.example", **PREFLIGHT}),
    )
    assert preflight.status_code == 200
    assert preflight.headers["access-control-allow-origin"] == "https://app.example"
    assert "authorization" in preflight.headers["access-control-allow-headers"].lower()
    assert "access-control-allow-credentials" not in preflight.headers
    assert simple.headers["access-control-allow-origin"] == "https://app.example"
    assert "X-RateLimit-Remaining" in simple.headers["access-control-expose-headers"]
    assert other.status_code == 400


def test_it_refuses_concurrent_wrong_logins_past_the_limit(client, api_engine):
    # Each attempt reserves its place atomically before bcrypt runs: 25 at once
    # must not all slip past a peek that none of them has counted in yet.
    seeded_user(api_engine, GOOD["email"])

    def attempt(_):
        with httpx.Client(base_url=client.base_url, timeout=60) as own:
            return login(own, GOOD["email"], "wrong-password").status_code

    with ThreadPoolExecutor(25) as pool:
        statuses = list(pool.map(attempt, range(25)))
    assert statuses.count(401) <= int(API_SETTINGS["LOGIN_MAX_FAILURES_PER_EMAIL"])
    assert statuses.count(401) + statuses.count(429) == 25


def test_a_successful_login_gives_its_reservation_back(client, api_engine):
    seeded_user(api_engine, GOOD["email"])
    # Three right passwords from one address with an IP limit of 3: none counts
    # as a failure, so a wrong one after them is still a 401, not a 429.
    for _ in range(3):
        assert login(client, GOOD["email"], SEEDED_PASSWORD).status_code == 200
    assert login(client, GOOD["email"], "wrong-password").status_code == 401
