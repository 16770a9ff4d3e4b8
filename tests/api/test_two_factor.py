"""Two-factor login (TOTP) over real HTTP, on both databases: setup with a QR
code, the login's code step, replays, recovery codes, disabling, throttling and
the CLI's reset. Codes are computed by pyotp, as an authenticator app would."""

from __future__ import annotations

import time

import pyotp
from sqlmodel import Session, select

from hookboard.models import User, Workspace
from tests.api.support import api_key_headers
from tests.api.test_api_keys import SEEDED_PASSWORD, seeded_user
from tests.api.test_auth import assert_error, bearer
from tests.integration.test_cli import hookboard

EMAIL = "alice@example.com"
API_SETTINGS = {"LOGIN_MAX_FAILURES_PER_EMAIL": "6", "LOGIN_MAX_FAILURES_PER_IP": "50"}


class Authenticator:
    """An authenticator app: the codes of the previous, current and next 30 s steps,
    taken at a moment far enough from a step's end that they stay valid."""

    def __init__(self, secret: str):
        self.totp = pyotp.TOTP(secret)
        if time.time() % 30 > 24:
            time.sleep(30 - time.time() % 30 + 0.1)
        self.now = time.time()

    def code(self, steps_ahead: int) -> str:
        return self.totp.at(self.now + 30 * steps_ahead)


def enable(client, headers) -> tuple[Authenticator, list[str]]:
    """Two-factor login on with the previous step's code; (authenticator, recovery codes)."""
    setup = client.post("/auth/totp/setup", headers=headers)
    assert setup.status_code == 200, setup.text
    app = Authenticator(setup.json()["secret"])
    confirmed = client.post("/auth/totp/confirm", json={"code": app.code(-1)}, headers=headers)
    assert confirmed.status_code == 200, confirmed.text
    return app, confirmed.json()["recovery_codes"]


def password_login(client) -> dict:
    response = client.post("/auth/login", json={"email": EMAIL, "password": SEEDED_PASSWORD})
    assert response.status_code == 401, response.text
    body = response.json()
    assert set(body) == {"error", "challenge", "challenge_expires_at"}
    assert body["error"]["code"] == "totp_required" and body["error"]["field"] == "code"
    assert response.headers["cache-control"] == "no-store"
    return body


def code_login(client, challenge: str, code: str):
    return client.post("/auth/login/totp", json={"challenge": challenge, "code": code})


def test_setup_answers_a_qr_svg_and_a_first_code_turns_it_on(client, api_engine):
    headers = seeded_user(api_engine, EMAIL)
    setup = client.post("/auth/totp/setup", headers=headers)
    assert setup.status_code == 200, setup.text
    body = setup.json()
    assert setup.headers["cache-control"] == "no-store"
    assert body["otpauth_uri"].startswith("otpauth://totp/Hookboard:alice%40example.com?")
    assert f"secret={body['secret']}" in body["otpauth_uri"]
    assert body["qr_svg"].startswith("<svg") and body["qr_svg"].rstrip().endswith("</svg>")
    assert client.get("/auth/totp", headers=headers).json()["enabled"] is False

    app = Authenticator(body["secret"])
    wrong = client.post("/auth/totp/confirm", json={"code": "000000"}, headers=headers)
    assert_error(wrong, 422, "validation_error", "code")
    confirmed = client.post("/auth/totp/confirm", json={"code": app.code(0)}, headers=headers)
    assert confirmed.status_code == 200, confirmed.text
    codes = confirmed.json()["recovery_codes"]
    assert len(codes) == len(set(codes)) == 10

    status = client.get("/auth/totp", headers=headers).json()
    assert status["enabled"] is True and status["recovery_codes_left"] == 10
    assert body["secret"] not in client.get("/auth/totp", headers=headers).text
    assert_error(client.post("/auth/totp/setup", headers=headers), 409, "totp_state")
    # Stored as it must be: codes hashed (the secret is users.totp_secret).
    with Session(api_engine) as session:
        assert session.exec(select(User.totp_secret)).one() == body["secret"]


def test_login_needs_a_code_and_refuses_a_replayed_one(client, api_engine):
    headers = seeded_user(api_engine, EMAIL)
    app, _ = enable(client, headers)

    first = password_login(client)
    assert first["challenge"].startswith("hbc_") and first["challenge_expires_at"]
    used_at_setup = code_login(client, first["challenge"], app.code(-1))
    assert_error(used_at_setup, 401, "invalid_code", "code")
    signed_in = code_login(client, first["challenge"], app.code(0))
    assert signed_in.status_code == 200, signed_in.text
    assert client.get("/auth/totp", headers=bearer(signed_in.json()["token"])).status_code == 200
    spent = code_login(client, first["challenge"], app.code(1))
    assert_error(spent, 401, "invalid_challenge", "challenge")

    second = password_login(client)
    assert_error(code_login(client, second["challenge"], app.code(0)), 401, "invalid_code", "code")
    assert code_login(client, second["challenge"], app.code(1)).status_code == 200


def test_a_recovery_code_works_once_and_regenerating_replaces_them(client, api_engine):
    headers = seeded_user(api_engine, EMAIL)
    app, codes = enable(client, headers)

    typed = "  " + codes[0].upper().replace("-", " ") + " "
    assert code_login(client, password_login(client)["challenge"], typed).status_code == 200
    again = code_login(client, password_login(client)["challenge"], codes[0])
    assert_error(again, 401, "invalid_code", "code")
    assert client.get("/auth/totp", headers=headers).json()["recovery_codes_left"] == 9

    renewed = client.post("/auth/totp/recovery-codes", json={"code": app.code(0)}, headers=headers)
    assert renewed.status_code == 200, renewed.text
    new_codes = renewed.json()["recovery_codes"]
    assert len(new_codes) == 10 and not set(new_codes) & set(codes)
    old = code_login(client, password_login(client)["challenge"], codes[1])
    assert_error(old, 401, "invalid_code", "code")
    assert code_login(client, password_login(client)["challenge"], new_codes[1]).status_code == 200


def test_disabling_needs_the_password_and_a_code_and_ends_other_sessions(client, api_engine):
    headers = seeded_user(api_engine, EMAIL)
    app, _ = enable(client, headers)
    other = code_login(client, password_login(client)["challenge"], app.code(0)).json()["token"]

    wrong_password = {"password": "not-the-password", "code": app.code(1)}
    assert_error(
        client.post("/auth/totp/disable", json=wrong_password, headers=headers),
        422,
        "validation_error",
        "password",
    )
    wrong_code = {"password": SEEDED_PASSWORD, "code": "123456"}
    assert_error(
        client.post("/auth/totp/disable", json=wrong_code, headers=headers),
        422,
        "validation_error",
        "code",
    )
    right = {"password": SEEDED_PASSWORD, "code": app.code(1)}
    disabled = client.post("/auth/totp/disable", json=right, headers=headers)
    assert disabled.status_code == 200, disabled.text
    assert disabled.json() == {"revoked_sessions": 1}
    assert client.get("/auth/totp", headers=bearer(other)).status_code == 401
    assert client.get("/auth/totp", headers=headers).json()["enabled"] is False
    login = client.post("/auth/login", json={"email": EMAIL, "password": SEEDED_PASSWORD})
    assert login.status_code == 200, login.text


def test_wrong_codes_are_throttled_and_a_challenge_takes_five_tries(client, api_engine):
    headers = seeded_user(api_engine, EMAIL)
    app, _ = enable(client, headers)
    challenge = password_login(client)["challenge"]
    for _ in range(5):
        assert_error(code_login(client, challenge, "111111"), 401, "invalid_code", "code")
    assert_error(code_login(client, challenge, app.code(0)), 401, "invalid_challenge", "challenge")

    # A right password does not wipe the count of wrong codes (6 per email here).
    challenge = password_login(client)["challenge"]
    assert_error(code_login(client, challenge, "111111"), 401, "invalid_code", "code")
    throttled = code_login(client, challenge, app.code(0))
    assert_error(throttled, 429, "rate_limited")
    assert int(throttled.headers["retry-after"]) > 0


def test_api_keys_cannot_manage_two_factor_login_or_sessions(client, api_engine):
    seeded_user(api_engine, EMAIL)
    with Session(api_engine) as session:
        workspace_id = session.exec(select(Workspace.id)).one()
    key = api_key_headers(api_engine, workspace_id, "write")
    assert_error(client.post("/auth/totp/setup", headers=key), 403, "forbidden")
    assert_error(client.get("/auth/sessions", headers=key), 403, "forbidden")


def test_the_cli_resets_two_factor_login_for_a_locked_out_user(
    client, api_engine, api_server, redis_url
):
    headers = seeded_user(api_engine, EMAIL)
    enable(client, headers)
    env = {"DATABASE_URL": api_server[1], "REDIS_URL": redis_url, "QUEUE_NAME": "hb-api-test"}

    reset = hookboard("reset-2fa", "Alice@Example.com", **env)
    assert reset.returncode == 0, reset.stderr
    assert "two-factor login is off for Alice@Example.com" in reset.stdout
    login = client.post("/auth/login", json={"email": EMAIL, "password": SEEDED_PASSWORD})
    assert login.status_code == 200, login.text
    assert client.get("/auth/totp", headers=headers).json()["recovery_codes_left"] == 0
    again = hookboard("reset-2fa", EMAIL, **env)
    assert "was not on" in again.stdout


def test_deleting_the_account_with_two_factor_on_needs_a_code(client, api_engine):
    headers = seeded_user(api_engine, EMAIL)
    app, _ = enable(client, headers)

    def delete(**body):
        body = {"password": SEEDED_PASSWORD, **body}
        return client.request("DELETE", "/account", json=body, headers=headers)

    assert_error(delete(), 403, "invalid_credentials", "code")
    assert_error(delete(code="111111"), 403, "invalid_code", "code")
    with Session(api_engine) as session:
        assert session.exec(select(User.id)).first() is not None
    deleted = delete(code=app.code(0))
    assert deleted.status_code == 200, deleted.text
    with Session(api_engine) as session:
        assert session.exec(select(User.id)).first() is None
