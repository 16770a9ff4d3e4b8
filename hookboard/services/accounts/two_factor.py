"""Two-factor login with TOTP (RFC 6238): setup, the login's code step,
single-use recovery codes, disabling and the operator's reset.

The secret (users.totp_secret) is shown once, at setup, and never logged. A
code is accepted once: the newest accepted time step is stored per user and a
code of that step or older is refused, by a conditional UPDATE that several
web processes cannot both win. Wrong codes count as failed logins (the
LOGIN_MAX_FAILURES_* throttles), as wrong passwords do.
"""

from __future__ import annotations

import io
import secrets
from dataclasses import dataclass
from datetime import datetime

import pyotp
import segno
from sqlalchemy import delete, func, or_, update
from sqlmodel import Session, col, select

from hookboard.domain.tokens import hash_token
from hookboard.models import RecoveryCode, User
from hookboard.services import audit
from hookboard.services.accounts.active_sessions import revoke_other_sessions
from hookboard.services.accounts.challenges import close_challenge, take_try
from hookboard.services.accounts.errors import (
    InvalidChallengeError,
    InvalidCodeError,
    TwoFactorStateError,
)
from hookboard.services.accounts.rules import now_or_utc
from hookboard.services.accounts.sessions import (
    LoginResult,
    _reserve_attempt,
    confirm_password,
    open_session,
)
from hookboard.services.ratelimit import RateLimiter, get_limiter, login_failure_limits
from hookboard.settings import Settings, get_settings

ISSUER = "Hookboard"
# Codes of the previous and next 30 s step pass too: phones' clocks drift.
STEP_TOLERANCE = 1
RECOVERY_CODE_COUNT = 10
RECOVERY_CODE_GROUPS = 4  # "abcd-efgh-ijkl-mnop": 80 random bits, beyond guessing
MAX_CODE_CHARS = 64


@dataclass(frozen=True)
class TotpSetup:
    secret: str  # shown only now, for apps that cannot scan
    uri: str  # otpauth://totp/...
    qr_svg: str  # the URI as a QR code, a standalone SVG document


@dataclass(frozen=True)
class TwoFactorStatus:
    enabled: bool
    enabled_at: datetime | None
    recovery_codes_left: int


def status(session: Session, *, user_id: int) -> TwoFactorStatus:
    enabled_at = session.exec(select(User.totp_enabled_at).where(User.id == user_id)).first()
    left = session.exec(
        select(func.count())
        .select_from(RecoveryCode)
        .where(RecoveryCode.user_id == user_id, col(RecoveryCode.used_at).is_(None))
    ).one()
    session.rollback()
    return TwoFactorStatus(enabled_at is not None, enabled_at, left if enabled_at else 0)


def begin_setup(session: Session, *, user_id: int, now: datetime | None = None) -> TotpSetup:
    """A new secret, pending until confirm_setup sees a code from it.
    TwoFactorStateError when two-factor login is already on."""
    user = session.get(User, user_id)
    if user.totp_enabled_at is not None:
        session.rollback()
        raise TwoFactorStateError("two-factor login is already on; disable it first")
    secret = pyotp.random_base32()
    user.totp_secret, user.totp_last_step, user.updated_at = secret, None, now_or_utc(now)
    session.add(user)
    session.commit()
    uri = pyotp.TOTP(secret).provisioning_uri(name=user.email, issuer_name=ISSUER)
    return TotpSetup(secret=secret, uri=uri, qr_svg=qr_svg(uri))


def qr_svg(uri: str) -> str:
    out = io.BytesIO()
    segno.make(uri, error="m").save(out, kind="svg", scale=4, xmldecl=False)
    return out.getvalue().decode()


def confirm_setup(
    session: Session,
    *,
    user_id: int,
    code: str,
    now: datetime | None = None,
    settings: Settings | None = None,
    limiter: RateLimiter | None = None,
) -> list[str]:
    """Turn two-factor login on with a first code from the pending secret; the
    recovery codes, shown once."""
    now = now_or_utc(now)
    user = _user(session, user_id)
    if user.totp_enabled_at is not None or user.totp_secret is None:
        raise TwoFactorStateError("no two-factor setup is pending; start one first")
    bucket = _email_bucket(user.email, settings)
    limiter = limiter or get_limiter()
    reserved = _reserve_attempt(limiter, [bucket])
    step = _matching_step(user.totp_secret, code, now)
    if step is None or not _claim_step(session, user_id, step, enabling_at=now):
        session.rollback()
        raise InvalidCodeError()
    limiter.release(reserved, bucket)
    codes = _replace_recovery_codes(session, user_id, now)
    session.commit()
    return codes


def regenerate_recovery_codes(
    session: Session,
    *,
    user_id: int,
    code: str,
    now: datetime | None = None,
    settings: Settings | None = None,
    limiter: RateLimiter | None = None,
) -> list[str]:
    """New recovery codes (the old ones stop working) for a right code; shown once."""
    now = now_or_utc(now)
    confirm_code(session, user_id=user_id, code=code, now=now, settings=settings, limiter=limiter)
    codes = _replace_recovery_codes(session, user_id, now)
    session.commit()
    return codes


def disable(
    session: Session,
    *,
    user_id: int,
    password: str,
    code: str,
    keep_token: str | None = None,
    now: datetime | None = None,
    settings: Settings | None = None,
    limiter: RateLimiter | None = None,
) -> int:
    """Turn two-factor login off with the password and a code (or a recovery
    code); every other session ends. How many sessions ended."""
    now = now_or_utc(now)
    confirm_password(
        session,
        user_id=user_id,
        password=password,
        field="password",
        settings=settings,
        limiter=limiter,
    )
    confirm_code(session, user_id=user_id, code=code, now=now, settings=settings, limiter=limiter)
    _clear(session, user_id, now)
    revoked = revoke_other_sessions(session, user_id=user_id, keep_token=keep_token, now=now)
    session.commit()
    return revoked


def reset(session: Session, *, user_id: int, now: datetime | None = None) -> bool:
    """The operator's way back in for a locked-out user (the CLI): two-factor
    login off, recovery codes gone. False when it was not on."""
    was_on = session.exec(select(User.totp_secret).where(User.id == user_id)).first() is not None
    _clear(session, user_id, now_or_utc(now))
    session.commit()
    return was_on


def login_with_code(
    session: Session,
    *,
    challenge: str,
    code: str,
    client_ip: str | None,
    user_agent: str | None = None,
    now: datetime | None = None,
    settings: Settings | None = None,
    limiter: RateLimiter | None = None,
) -> LoginResult:
    """Finish a login that answered TotpRequiredError: a session token for a
    right code (or recovery code). InvalidChallengeError for an unknown,
    expired, used-up or used challenge; InvalidCodeError for a wrong code."""
    settings = settings or get_settings()
    limiter = limiter or get_limiter()
    now = now_or_utc(now)
    user_id = take_try(session, token=challenge, now=now)
    if user_id is None:
        raise InvalidChallengeError()
    user = _user(session, user_id)
    by_email, by_ip = login_failure_limits(settings, email=user.email, client_ip=client_ip)
    buckets = [limit for limit in (by_email, by_ip) if limit is not None]
    reserved = _reserve_attempt(limiter, buckets)
    email = user.email
    if not user.is_active or not _accept_code(session, user, code, now):
        session.rollback()
        _record_login(session, "auth.login_failed", user_id, email, client_ip, user_agent)
        session.commit()
        raise InvalidCodeError()
    limiter.release(reserved, *buckets)
    if not close_challenge(session, token=challenge, now=now):
        session.rollback()  # a concurrent request finished this login first
        raise InvalidChallengeError()
    limiter.clear(by_email)
    token, expires_at = open_session(
        session,
        user_id=user_id,
        now=now,
        settings=settings,
        client_ip=client_ip,
        user_agent=user_agent,
    )
    _record_login(session, "auth.login", user_id, email, client_ip, user_agent)
    session.commit()
    return LoginResult(user_id=user_id, token=token, expires_at=expires_at)


def _record_login(session: Session, action: str, user_id: int, email: str, ip, agent) -> None:
    # The second factor is named in the row: this login passed (or failed) it.
    audit.record_login(
        session,
        action,
        user_id=user_id,
        email=email,
        client_ip=ip,
        user_agent=agent,
        changes={"second_factor": [None, "code"]},
    )


# --------------------------------------------------------------------------- codes


def _user(session: Session, user_id: int) -> User:
    user = session.get(User, user_id)
    if user is None:
        raise InvalidChallengeError()
    return user


def _email_bucket(email: str, settings: Settings | None):
    return login_failure_limits(settings or get_settings(), email=email, client_ip=None)[0]


def confirm_code(
    session: Session,
    *,
    user_id: int,
    code: str,
    now: datetime,
    settings: Settings | None = None,
    limiter: RateLimiter | None = None,
) -> None:
    """A signed-in user's TOTP or recovery code, used up; InvalidCodeError
    (counted as a failed login) unless it is accepted."""
    user = _user(session, user_id)
    if user.totp_enabled_at is None:
        session.rollback()
        raise TwoFactorStateError("two-factor login is not on")
    limiter = limiter or get_limiter()
    bucket = _email_bucket(user.email, settings)
    reserved = _reserve_attempt(limiter, [bucket])
    if not _accept_code(session, user, code, now):
        session.rollback()
        raise InvalidCodeError()
    limiter.release(reserved, bucket)


def _accept_code(session: Session, user: User, code: str, now: datetime) -> bool:
    """Use up a TOTP code or a recovery code of the user's; False if neither fits."""
    if user.totp_enabled_at is None or user.totp_secret is None or len(code) > MAX_CODE_CHARS:
        return False
    step = _matching_step(user.totp_secret, code, now)
    if step is not None:
        return _claim_step(session, user.id, step)
    return _use_recovery_code(session, user.id, code, now)


def _matching_step(secret: str, code: str, now: datetime) -> int | None:
    code = "".join(code.split())
    if len(code) != 6 or not code.isdigit():
        return None
    totp = pyotp.TOTP(secret)
    current = totp.timecode(now)
    for step in range(current - STEP_TOLERANCE, current + STEP_TOLERANCE + 1):
        if pyotp.utils.strings_equal(code, totp.generate_otp(step)):
            return step
    return None


def _claim_step(
    session: Session, user_id: int, step: int, enabling_at: datetime | None = None
) -> bool:
    """Record `step` as the newest accepted; False when it (or a later one) already was."""
    claim = update(User).where(
        col(User.id) == user_id,
        or_(col(User.totp_last_step).is_(None), col(User.totp_last_step) < step),
    )
    if enabling_at is None:
        claim = claim.where(col(User.totp_enabled_at).is_not(None))
        values = {"totp_last_step": step}
    else:
        claim = claim.where(col(User.totp_enabled_at).is_(None))
        values = {"totp_last_step": step, "totp_enabled_at": enabling_at}
    return session.connection().execute(claim.values(**values)).rowcount == 1


def _normalise_recovery_code(code: str) -> str:
    return "".join(code.split()).replace("-", "").lower()


def _use_recovery_code(session: Session, user_id: int, code: str, now: datetime) -> bool:
    used = session.connection().execute(
        update(RecoveryCode)
        .where(
            col(RecoveryCode.user_id) == user_id,
            col(RecoveryCode.code_hash) == hash_token(_normalise_recovery_code(code)),
            col(RecoveryCode.used_at).is_(None),
        )
        .values(used_at=now)
    )
    return used.rowcount == 1


def _new_recovery_code() -> str:
    alphabet = "abcdefghijkmnpqrstuvwxyz23456789"  # no 0/o, 1/l: read off paper
    chars = "".join(secrets.choice(alphabet) for _ in range(4 * RECOVERY_CODE_GROUPS))
    return "-".join(chars[i : i + 4] for i in range(0, len(chars), 4))


def _replace_recovery_codes(session: Session, user_id: int, now: datetime) -> list[str]:
    session.connection().execute(delete(RecoveryCode).where(col(RecoveryCode.user_id) == user_id))
    codes = [_new_recovery_code() for _ in range(RECOVERY_CODE_COUNT)]
    for code in codes:
        code_hash = hash_token(_normalise_recovery_code(code))
        session.add(RecoveryCode(user_id=user_id, code_hash=code_hash, created_at=now))
    return codes


def _clear(session: Session, user_id: int, now: datetime) -> None:
    session.connection().execute(delete(RecoveryCode).where(col(RecoveryCode.user_id) == user_id))
    session.connection().execute(
        update(User)
        .where(col(User.id) == user_id)
        .values(totp_secret=None, totp_enabled_at=None, totp_last_step=None, updated_at=now)
    )
