"""Signup, login, logout and password changes, with their throttles and session tokens."""

from __future__ import annotations

import secrets
from dataclasses import dataclass
from datetime import datetime, timedelta
from functools import lru_cache

from sqlalchemy.exc import IntegrityError
from sqlmodel import Session, col, select

from hookboard.domain.passwords import hash_password, verify_password
from hookboard.domain.tokens import hash_token, new_session_token
from hookboard.models import AuthSession, User
from hookboard.services import audit
from hookboard.services.accounts.active_sessions import client_details, revoke_other_sessions
from hookboard.services.accounts.challenges import open_challenge
from hookboard.services.accounts.errors import (
    EmailTakenError,
    InvalidCredentialsError,
    InvalidInputError,
    LoginThrottledError,
    SignupThrottledError,
    TotpRequiredError,
)
from hookboard.services.accounts.rules import (
    login_email_forms,
    now_or_utc,
    validate_email,
    validate_new_password,
)
from hookboard.services.crud import create_user
from hookboard.services.ratelimit import (
    RateLimiter,
    Verdict,
    get_limiter,
    login_failure_limits,
    signup_limit,
)
from hookboard.services.workspaces.permissions import Access
from hookboard.settings import Settings, get_settings


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


def open_session(
    session: Session,
    *,
    user_id: int,
    now: datetime,
    settings: Settings,
    client_ip: str | None = None,
    user_agent: str | None = None,
) -> tuple[str, datetime]:
    """A new session token (shown once) and its expiry; the caller commits."""
    issued = new_session_token()
    expires_at = now + timedelta(hours=settings.session_ttl_hours)
    session.add(
        AuthSession(
            user_id=user_id,
            token_hash=issued.token_hash,
            created_at=now,
            expires_at=expires_at,
            **client_details(client_ip, user_agent),
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
    user_agent: str | None = None,
    now: datetime | None = None,
    settings: Settings | None = None,
    limiter: RateLimiter | None = None,
) -> SignupResult:
    """A new user (bcrypt password, first signing secret) and a session token.

    Attempts with valid input count per client IP (taken emails too, so the
    409 cannot be used to list accounts quickly); past the limit,
    SignupThrottledError."""
    settings = settings or get_settings()
    now = now_or_utc(now)
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
        token, expires_at = open_session(
            session,
            user_id=user.id,
            now=now,
            settings=settings,
            client_ip=client_ip,
            user_agent=user_agent,
        )
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
    user_agent: str | None = None,
    now: datetime | None = None,
    settings: Settings | None = None,
    limiter: RateLimiter | None = None,
) -> LoginResult:
    """A new session token for the right password; failures are counted and throttled.
    With two-factor login on, TotpRequiredError carries a challenge instead
    (finished by two_factor.login_with_code)."""
    settings = settings or get_settings()
    limiter = limiter or get_limiter()
    now = now_or_utc(now)
    forms = login_email_forms(email)
    by_email, by_ip = login_failure_limits(settings, email=forms[0], client_ip=client_ip)
    buckets = [limit for limit in (by_email, by_ip) if limit is not None]

    # Counted as a failure before bcrypt runs, so concurrent guesses cannot all
    # pass a check none of them has counted in yet; a success gives it back.
    reserved = _reserve_attempt(limiter, buckets)
    rows = session.exec(
        select(User.id, User.email, User.password_hash, User.is_active, User.totp_enabled_at).where(
            col(User.email).in_(forms)
        )
    ).all()
    session.rollback()  # no transaction (nor SQLite lock) held during bcrypt
    row = min(rows, key=lambda found: forms.index(found.email), default=None)
    matches = verify_password(password, row.password_hash if row else _dummy_password_hash())
    if row is None or not matches or not row.is_active:
        if row is not None:  # an unknown email is recorded nowhere
            _record_login(session, "auth.login_failed", row, client_ip, user_agent)
            session.commit()
        raise InvalidCredentialsError()

    if row.totp_enabled_at is not None:
        # A right password is no failure (its reservation goes back), but the
        # email's failures are cleared only once the code is right too: a known
        # password must not reset the count of wrong codes.
        limiter.release(reserved, *buckets)
        challenge, challenge_expires_at = open_challenge(session, user_id=row.id, now=now)
        session.commit()
        raise TotpRequiredError(challenge, challenge_expires_at)
    limiter.clear(by_email)
    limiter.release(reserved, *buckets)
    token, expires_at = open_session(
        session,
        user_id=row.id,
        now=now,
        settings=settings,
        client_ip=client_ip,
        user_agent=user_agent,
    )
    _record_login(session, "auth.login", row, client_ip, user_agent)
    session.commit()
    return LoginResult(user_id=row.id, token=token, expires_at=expires_at)


def _record_login(session: Session, action: str, row, client_ip, user_agent) -> None:
    audit.record_login(
        session,
        action,
        user_id=row.id,
        email=row.email,
        client_ip=client_ip,
        user_agent=user_agent,
    )


def _reserve_attempt(limiter: RateLimiter, buckets: list) -> Verdict | None:
    """Count an attempt in every failed-login bucket at once (one atomic Redis
    script), or LoginThrottledError when one is used up. None: Redis is down."""
    verdict = limiter.hit(*buckets)
    if verdict is not None and not verdict.allowed:
        raise LoginThrottledError(verdict.report.retry_after(limiter.clock()))
    return verdict


def logout(session: Session, *, token: str, now: datetime | None = None) -> bool:
    """Revoke a session token; False when it is unknown or already revoked."""
    auth = session.exec(
        select(AuthSession).where(AuthSession.token_hash == hash_token(token))
    ).first()
    if auth is None or auth.revoked_at is not None:
        session.rollback()
        return False
    auth.revoked_at = now_or_utc(now)
    session.add(auth)
    session.commit()
    return True


def confirm_password(
    session: Session,
    *,
    user_id: int,
    password: str,
    field: str,
    settings: Settings | None = None,
    limiter: RateLimiter | None = None,
) -> None:
    """A signed-in user proves it is them again (a password change, closing the
    account). A wrong password counts as a failed login for the user's email, so
    a stolen session cannot guess faster than the login form can; past the
    limit, LoginThrottledError. Raises InvalidInputError(field) when wrong."""
    row = session.exec(select(User.password_hash, User.email).where(User.id == user_id)).first()
    session.rollback()  # no transaction (nor SQLite lock) held during bcrypt
    if row is None:
        raise InvalidInputError(field, "the password is not right")
    limiter = limiter or get_limiter()
    by_email, _ = login_failure_limits(settings or get_settings(), email=row.email, client_ip=None)
    reserved = _reserve_attempt(limiter, [by_email])
    if not verify_password(password, row.password_hash):
        raise InvalidInputError(field, "the password is not right")
    limiter.release(reserved, by_email)


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
    access: Access | None = None,
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
    confirm_password(
        session,
        user_id=user_id,
        password=current_password,
        field="current_password",
        settings=settings,
        limiter=limiter,
    )
    new_hash = hash_password(new_password)
    now = now_or_utc(now)
    user = session.get(User, user_id)
    user.password_hash = new_hash
    user.updated_at = now
    session.add(user)
    revoked = revoke_other_sessions(session, user_id=user_id, keep_token=keep_token, now=now)
    # `access` (the request's) names where from; without it, the person alone.
    audit.record_for_person(
        session,
        access or audit.Actor("user", id=user_id, email=user.email),
        "auth.password_change",
        user_id=user_id,
    )
    session.commit()
    return revoked
