"""Accounts: signup, login, logout, API keys and the signing secret.

Shared by the REST API and the dashboard. Keyword-only functions that take a
fresh session; each is one unit of work and commits it (signup must roll back
to turn a unique-constraint race into `EmailTakenError`). Failures are the
exceptions below, never HTTP: callers map them to their own answers.

Secrets (passwords, tokens, keys) are never logged; a new token or key is
returned once, in the result, and only its sha256 hash is stored.
"""

from __future__ import annotations

import re
import secrets
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from functools import lru_cache

from sqlalchemy.exc import IntegrityError
from sqlmodel import Session, col, select

from hookboard.core.secrets import live_secret_rows
from hookboard.core.whitespace import PYTHON_SPACE
from hookboard.domain.passwords import MAX_PASSWORD_BYTES, hash_password, verify_password
from hookboard.domain.signing import generate_secret
from hookboard.domain.tokens import hash_token, new_api_key, new_session_token
from hookboard.models import ApiKey, AuthSession, SigningSecret, User
from hookboard.services.crud import create_user
from hookboard.services.ratelimit import (
    RateLimiter,
    get_limiter,
    login_failure_limits,
    signup_limit,
)
from hookboard.settings import Settings, get_settings

API_KEY_SCOPES = ("read", "write")
# Enough of a rotated secret to recognise it, far too little to use it.
SECRET_DISPLAY_CHARS = 10
MIN_PASSWORD_CHARS = 8
MAX_API_KEY_NAME_CHARS = 100
MAX_EMAIL_CHARS = 320
# A pragmatic check (RFC 5321 lengths, one @, a dotted domain, no spaces or
# control characters); whether the address receives mail is not ours to know.
_NOT_IN_EMAIL = rf"@{PYTHON_SPACE}\x00-\x1f\x7f"
EMAIL_PATTERN = re.compile(
    rf"[^{_NOT_IN_EMAIL}]{{1,64}}@(?=.{{1,255}}$)[^{_NOT_IN_EMAIL}.]+(?:\.[^{_NOT_IN_EMAIL}.]+)+"
)
# The same rule for OpenAPI clients, without the lookahead JSON Schema lacks: the
# domain's 255 characters become at most four labels of 63. Whitespace around
# the address is allowed, as it is trimmed.
EMAIL_SCHEMA_PATTERN = (
    rf"^[{PYTHON_SPACE}]*[^{_NOT_IN_EMAIL}]{{1,64}}@[^{_NOT_IN_EMAIL}.]{{1,63}}"
    rf"(\.[^{_NOT_IN_EMAIL}.]{{1,63}}){{1,3}}[{PYTHON_SPACE}]*$"
)


class AccountError(Exception):
    pass


class InvalidInputError(AccountError, ValueError):
    """An input breaks a rule; `field` names it. Messages never echo the value."""

    def __init__(self, field: str, message: str):
        super().__init__(message)
        self.field = field


class EmailTakenError(AccountError):
    def __init__(self):
        super().__init__("an account with this email already exists")


class InvalidCredentialsError(AccountError):
    def __init__(self):
        # One message for an unknown email and a wrong password.
        super().__init__("invalid email or password")


class ThrottledError(AccountError):
    """Too many attempts; `retry_after` seconds until the next is counted."""

    def __init__(self, message: str, retry_after: int):
        super().__init__(f"{message}; try again in {retry_after} seconds")
        self.retry_after = retry_after


class LoginThrottledError(ThrottledError):
    def __init__(self, retry_after: int):
        super().__init__("too many failed logins", retry_after)


class SignupThrottledError(ThrottledError):
    def __init__(self, retry_after: int):
        super().__init__("too many sign-ups from this address", retry_after)


@dataclass(frozen=True)
class SignupResult:
    user: User
    token: str  # shown once
    expires_at: datetime


@dataclass(frozen=True)
class LoginResult:
    user_id: int
    token: str  # shown once
    expires_at: datetime


@dataclass(frozen=True)
class CreatedApiKey:
    api_key: ApiKey
    key: str  # shown once


@dataclass(frozen=True)
class SigningSecrets:
    current: SigningSecret
    previous: list[SigningSecret]  # rotated out, still signing until their expires_at


def clean_api_key_name(value: str) -> str:
    """An API key's name, stripped of surrounding space; the dashboard, the API
    and the CLI all hold names to this rule."""
    value = value.strip()
    if not value:
        raise InvalidInputError("name", "name must not be blank")
    if len(value) > MAX_API_KEY_NAME_CHARS:
        raise InvalidInputError("name", f"name must be at most {MAX_API_KEY_NAME_CHARS} characters")
    if any(ord(char) < 32 or ord(char) == 127 for char in value):
        raise InvalidInputError("name", "name must not contain control characters")
    if not is_encodable(value):
        raise InvalidInputError("name", "name is not valid Unicode text")
    return value


def normalise_email(email: str) -> str:
    return email.strip().lower()


def is_encodable(text: str) -> bool:
    """False for lone surrogates ("\\ud800" in JSON): no database can store them."""
    try:
        text.encode()
    except UnicodeEncodeError:
        return False
    return True


def validate_email(email: str) -> str:
    """The email as stored (trimmed, lower-cased), or InvalidInputError."""
    email = normalise_email(email)
    valid = len(email) <= MAX_EMAIL_CHARS and EMAIL_PATTERN.fullmatch(email)
    if not valid or not is_encodable(email):
        raise InvalidInputError("email", "not a valid email address")
    return email


def validate_new_password(password: str) -> str:
    if not is_encodable(password):
        raise InvalidInputError("password", "password is not valid Unicode text")
    if len(password) < MIN_PASSWORD_CHARS:
        raise InvalidInputError(
            "password", f"password must be at least {MIN_PASSWORD_CHARS} characters"
        )
    if len(password.encode()) > MAX_PASSWORD_BYTES:
        raise InvalidInputError(
            "password",
            f"password must be at most {MAX_PASSWORD_BYTES} bytes in UTF-8 (bcrypt's limit)",
        )
    if "\x00" in password:
        raise InvalidInputError("password", "password must not contain NUL characters")
    return password


def _now(now: datetime | None) -> datetime:
    return now or datetime.now(UTC)


def _open_session(
    session: Session, *, user_id: int, now: datetime, settings: Settings
) -> tuple[str, datetime]:
    issued = new_session_token()
    expires_at = now + timedelta(hours=settings.session_ttl_hours)
    session.add(
        AuthSession(
            user_id=user_id, token_hash=issued.token_hash, created_at=now, expires_at=expires_at
        )
    )
    return issued.token, expires_at


def _email_taken(session: Session, email: str) -> bool:
    return session.exec(select(User.id).where(User.email == email)).first() is not None


def signup(
    session: Session,
    *,
    email: str,
    password: str,
    client_ip: str | None = None,
    now: datetime | None = None,
    settings: Settings | None = None,
    limiter: RateLimiter | None = None,
) -> SignupResult:
    """A new user (bcrypt password, first signing secret) and a session token.

    Attempts with valid input count per client IP (taken emails too, so the
    409 cannot be used to list accounts quickly); past the limit,
    SignupThrottledError."""
    settings = settings or get_settings()
    now = _now(now)
    email = validate_email(email)
    validate_new_password(password)
    _count_signup(limiter or get_limiter(), signup_limit(settings, client_ip=client_ip))
    taken = _email_taken(session, email)
    # End the read before bcrypt runs: on SQLite an open transaction holds the
    # write lock, and hashing takes a good fraction of a second.
    session.rollback()
    if taken:
        raise EmailTakenError()
    try:
        user = create_user(session, email=email, password=password)
        token, expires_at = _open_session(session, user_id=user.id, now=now, settings=settings)
        session.commit()
    except IntegrityError:
        # Another signup for this email won the race: the unique index decides.
        session.rollback()
        raise EmailTakenError() from None
    return SignupResult(user=user, token=token, expires_at=expires_at)


def _count_signup(limiter: RateLimiter, limit) -> None:
    if limit is None:
        return
    verdict = limiter.hit(limit)
    if verdict is not None and not verdict.allowed:  # None: Redis down, let it through
        raise SignupThrottledError(verdict.report.retry_after(limiter.clock()))


@lru_cache(maxsize=1)
def _dummy_password_hash() -> str:
    # Verified against when the email is unknown, so both failures cost one bcrypt.
    return hash_password(secrets.token_urlsafe(16))


def login(
    session: Session,
    *,
    email: str,
    password: str,
    client_ip: str | None,
    now: datetime | None = None,
    settings: Settings | None = None,
    limiter: RateLimiter | None = None,
) -> LoginResult:
    """A new session token for the right password; failures are counted and throttled."""
    settings = settings or get_settings()
    limiter = limiter or get_limiter()
    now = _now(now)
    email = normalise_email(email)
    by_email, by_ip = login_failure_limits(settings, email=email, client_ip=client_ip)
    buckets = [limit for limit in (by_email, by_ip) if limit is not None]

    _refuse_if_throttled(limiter, buckets)

    row = session.exec(
        select(User.id, User.password_hash, User.is_active).where(User.email == email)
    ).first()
    session.rollback()  # no transaction (nor SQLite lock) held during bcrypt
    matches = verify_password(password, row.password_hash if row else _dummy_password_hash())
    if row is None or not matches or not row.is_active:
        limiter.hit(*buckets)
        raise InvalidCredentialsError()

    limiter.clear(by_email)
    token, expires_at = _open_session(session, user_id=row.id, now=now, settings=settings)
    session.commit()
    return LoginResult(user_id=row.id, token=token, expires_at=expires_at)


def _refuse_if_throttled(limiter: RateLimiter, buckets: list) -> None:
    """LoginThrottledError when a failed-login bucket is used up (Redis down: never)."""
    blocked = [usage for usage in limiter.peek(*buckets) or [] if usage.exhausted]
    if blocked:
        clock = limiter.clock()
        raise LoginThrottledError(max(usage.retry_after(clock) for usage in blocked))


def logout(session: Session, *, token: str, now: datetime | None = None) -> bool:
    """Revoke a session token; False when it is unknown or already revoked."""
    auth = session.exec(
        select(AuthSession).where(AuthSession.token_hash == hash_token(token))
    ).first()
    if auth is None or auth.revoked_at is not None:
        session.rollback()
        return False
    auth.revoked_at = _now(now)
    session.add(auth)
    session.commit()
    return True


def create_api_key(
    session: Session, *, user_id: int, name: str, scope: str, now: datetime | None = None
) -> CreatedApiKey:
    if scope not in API_KEY_SCOPES:
        raise ValueError(f"scope must be one of {', '.join(API_KEY_SCOPES)}")
    name = clean_api_key_name(name)
    issued = new_api_key()
    api_key = ApiKey(
        user_id=user_id,
        name=name,
        prefix=issued.display_prefix,
        key_hash=issued.token_hash,
        scope=scope,
        created_at=_now(now),
    )
    session.add(api_key)
    session.commit()
    return CreatedApiKey(api_key=api_key, key=issued.token)


def list_api_keys(session: Session, *, user_id: int) -> list[ApiKey]:
    """The user's keys that still work, oldest first."""
    return list(
        session.exec(
            select(ApiKey)
            .where(ApiKey.user_id == user_id, col(ApiKey.revoked_at).is_(None))
            .order_by(col(ApiKey.id))
        ).all()
    )


def revoke_api_key(
    session: Session, *, user_id: int, key_id: int, now: datetime | None = None
) -> bool:
    """False when no such live key belongs to this user (another user's key included)."""
    api_key = session.exec(
        select(ApiKey).where(
            ApiKey.id == key_id, ApiKey.user_id == user_id, col(ApiKey.revoked_at).is_(None)
        )
    ).first()
    if api_key is None:
        session.rollback()
        return False
    api_key.revoked_at = _now(now)
    session.add(api_key)
    session.commit()
    return True


def _split(secrets_: list[SigningSecret]) -> tuple[SigningSecret | None, list[SigningSecret]]:
    current = next((s for s in secrets_ if s.expires_at is None), None)
    return current, [s for s in secrets_ if s.expires_at is not None]


def _lock_user(session: Session, user_id: int) -> None:
    # Serialises rotations of one user on PostgreSQL; SQLite's BEGIN IMMEDIATE already does.
    session.exec(select(User.id).where(User.id == user_id).with_for_update()).first()


def get_signing_secrets(
    session: Session, *, user_id: int, now: datetime | None = None
) -> SigningSecrets:
    """The current secret and the rotated ones still in their grace period."""
    now = _now(now)
    current, previous = _split(live_secret_rows(session, user_id, now))
    if current is None:
        # Every user gets one at signup; mend a missing one rather than fail.
        _lock_user(session, user_id)
        current, previous = _split(live_secret_rows(session, user_id, now))
        if current is None:
            current = SigningSecret(user_id=user_id, secret=generate_secret(), created_at=now)
            session.add(current)
            session.commit()
    return SigningSecrets(current=current, previous=previous)


def rotate_signing_secret(
    session: Session,
    *,
    user_id: int,
    now: datetime | None = None,
    settings: Settings | None = None,
) -> SigningSecrets:
    """A new current secret; the old one keeps signing for SIGNING_SECRET_GRACE_HOURS."""
    settings = settings or get_settings()
    now = _now(now)
    _lock_user(session, user_id)
    grace_until = now + timedelta(hours=settings.signing_secret_grace_hours)
    for secret in live_secret_rows(session, user_id, now):
        if secret.expires_at is None:
            secret.expires_at = grace_until
            session.add(secret)
    current = SigningSecret(user_id=user_id, secret=generate_secret(), created_at=now)
    session.add(current)
    session.flush()
    previous = [s for s in live_secret_rows(session, user_id, now) if s.id != current.id]
    session.commit()
    return SigningSecrets(current=current, previous=previous)


def secret_display_prefix(secret: str) -> str:
    return secret[:SECRET_DISPLAY_CHARS]


def change_password(
    session: Session,
    *,
    user_id: int,
    current_password: str,
    new_password: str,
    keep_token: str | None = None,
    now: datetime | None = None,
    settings: Settings | None = None,
    limiter: RateLimiter | None = None,
) -> int:
    """Set a new password when the current one matches; returns how many sessions ended.

    Every other session of the user is revoked (the one whose token is
    `keep_token`, the caller's own, stays signed in): whoever knew the old
    password, or holds a session opened with it, is signed out. API keys are
    separate credentials and keep working; revoke them on their own.
    A wrong current password counts as a failed login for the user's email, so
    a stolen session cannot guess the password faster than the login form can;
    past the limit, LoginThrottledError.
    Raises InvalidInputError on `new_password` or `current_password`."""
    try:
        validate_new_password(new_password)
    except InvalidInputError as error:
        raise InvalidInputError("new_password", str(error)) from None
    user_row = session.exec(
        select(User.password_hash, User.email).where(User.id == user_id)
    ).first()
    session.rollback()  # no transaction (nor SQLite lock) held during bcrypt
    if user_row is None:
        raise InvalidInputError("current_password", "the current password is not right")
    limiter = limiter or get_limiter()
    by_email, _ = login_failure_limits(
        settings or get_settings(), email=user_row.email, client_ip=None
    )
    _refuse_if_throttled(limiter, [by_email])
    if not verify_password(current_password, user_row.password_hash):
        limiter.hit(by_email)
        raise InvalidInputError("current_password", "the current password is not right")
    new_hash = hash_password(new_password)
    now = _now(now)
    user = session.get(User, user_id)
    user.password_hash = new_hash
    user.updated_at = now
    session.add(user)
    others = select(AuthSession).where(
        AuthSession.user_id == user_id,
        col(AuthSession.revoked_at).is_(None),
        col(AuthSession.expires_at) > now,
    )
    if keep_token:
        others = others.where(AuthSession.token_hash != hash_token(keep_token))
    revoked = 0
    for auth in session.exec(others).all():
        auth.revoked_at = now
        session.add(auth)
        revoked += 1
    session.commit()
    return revoked
