"""Users and what belongs to a user alone: recovery codes, login challenges, sessions."""

from __future__ import annotations

from datetime import datetime

from sqlalchemy import BigInteger, Column
from sqlmodel import Field, SQLModel

from hookboard.core.crypto import EncryptedString
from hookboard.models.columns import NEVER_REUSE_IDS, big_pk, fk, utcnow


class User(SQLModel, table=True):
    __tablename__ = "users"
    __table_args__ = NEVER_REUSE_IDS

    id: int | None = big_pk()
    email: str = Field(max_length=320, unique=True, index=True)
    password_hash: str = Field(max_length=100)
    is_active: bool = True
    created_at: datetime = Field(default_factory=utcnow)
    updated_at: datetime = Field(default_factory=utcnow)
    # Two-factor login (TOTP): the base32 secret is a secret (never returned after
    # setup, never logged). Set but not enabled = a setup awaiting its first code.
    # The TOTP seed: a secret, encrypted at rest and never shown after setup.
    totp_secret: str | None = Field(
        default=None,
        sa_column=Column(EncryptedString("users.totp_secret", sqlite_length=255), nullable=True),
    )
    totp_enabled_at: datetime | None = None
    # The newest time step accepted: a code of that step or older is refused.
    totp_last_step: int | None = Field(default=None, sa_type=BigInteger)


class RecoveryCode(SQLModel, table=True):
    """A single-use two-factor recovery code; only its sha256 hash is stored."""

    __tablename__ = "recovery_codes"

    id: int | None = big_pk()
    user_id: int = fk("users.id")
    code_hash: str = Field(max_length=64, unique=True)
    created_at: datetime = Field(default_factory=utcnow)
    used_at: datetime | None = None


class LoginChallenge(SQLModel, table=True):
    """A password accepted, the code still due: short-lived, single use, few tries."""

    __tablename__ = "login_challenges"

    id: int | None = big_pk()
    user_id: int = fk("users.id")
    token_hash: str = Field(max_length=64, unique=True)
    created_at: datetime = Field(default_factory=utcnow)
    expires_at: datetime
    tries: int = 0
    used_at: datetime | None = None


class AuthSession(SQLModel, table=True):
    """A dashboard or API login; only the token's hash is stored."""

    __tablename__ = "sessions"
    __table_args__ = NEVER_REUSE_IDS

    id: int | None = big_pk()
    user_id: int = fk("users.id")
    token_hash: str = Field(max_length=64, unique=True, index=True)
    created_at: datetime = Field(default_factory=utcnow)
    expires_at: datetime
    revoked_at: datetime | None = None
    # Written at most once a minute per session, not on every request.
    last_used_at: datetime | None = None
    client_ip: str | None = Field(default=None, max_length=45)
    user_agent: str | None = Field(default=None, max_length=300)
