"""API keys: issue one (shown once), list and revoke them."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime

from sqlmodel import Session, col, select

from hookboard.domain.tokens import new_api_key
from hookboard.models import ApiKey
from hookboard.services.accounts.errors import ScopeTooWideError
from hookboard.services.accounts.rules import (
    API_KEY_SCOPES,
    clean_api_key_name,
    now_or_utc,
    scope_reaches,
)


@dataclass(frozen=True)
class CreatedApiKey:
    api_key: ApiKey
    key: str  # shown once


def create_api_key(
    session: Session,
    *,
    user_id: int,
    name: str,
    scope: str,
    granted_by: str = "write",
    now: datetime | None = None,
) -> CreatedApiKey:
    """A new key. `granted_by` is the scope of the credential asking (a session,
    the dashboard and the CLI hold write): a key never mints a wider one."""
    if scope not in API_KEY_SCOPES:
        raise ValueError(f"scope must be one of {', '.join(API_KEY_SCOPES)}")
    if not scope_reaches(granted_by, scope):
        raise ScopeTooWideError(scope)
    name = clean_api_key_name(name)
    issued = new_api_key()
    api_key = ApiKey(
        user_id=user_id,
        name=name,
        prefix=issued.display_prefix,
        key_hash=issued.token_hash,
        scope=scope,
        created_at=now_or_utc(now),
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
    api_key.revoked_at = now_or_utc(now)
    session.add(api_key)
    session.commit()
    return True
