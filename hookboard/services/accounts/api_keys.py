"""API keys: issue one (shown once), list and revoke them."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime

from sqlmodel import Session, col, select

from hookboard.domain.tokens import new_api_key
from hookboard.models import ApiKey, User
from hookboard.services import audit
from hookboard.services.accounts.rules import API_KEY_SCOPES, clean_api_key_name, now_or_utc
from hookboard.services.workspaces import permissions
from hookboard.services.workspaces.permissions import Access, Action


@dataclass(frozen=True)
class CreatedApiKey:
    api_key: ApiKey
    key: str  # shown once


def create_api_key(
    session: Session,
    *,
    access: Access,
    name: str,
    scope: str,
    now: datetime | None = None,
) -> CreatedApiKey:
    """A new key of the workspace, acting as a viewer ("read") or an editor
    ("write"); only a person with the admin role reaches this (the permission table)."""
    permissions.check(access, Action.manage)
    workspace_id = access.workspace_id
    if scope not in API_KEY_SCOPES:
        raise ValueError(f"scope must be one of {', '.join(API_KEY_SCOPES)}")
    name = clean_api_key_name(name)
    issued = new_api_key()
    api_key = ApiKey(
        workspace_id=workspace_id,
        name=name,
        prefix=issued.display_prefix,
        key_hash=issued.token_hash,
        scope=scope,
        created_by_user_id=access.user_id,
        created_at=now_or_utc(now),
    )
    session.add(api_key)
    session.flush()
    _record(
        session, access, "key.create", api_key, audit.diff("key", None, audit.snapshot(api_key))
    )
    session.commit()
    return CreatedApiKey(api_key=api_key, key=issued.token)


def list_api_keys(session: Session, *, workspace_id: int) -> list[tuple[ApiKey, str | None]]:
    """The workspace's keys that still work, oldest first, with their creator's email
    (None once that account is gone)."""
    return list(
        session.exec(
            select(ApiKey, User.email)
            .outerjoin(User, User.id == ApiKey.created_by_user_id)
            .where(ApiKey.workspace_id == workspace_id, col(ApiKey.revoked_at).is_(None))
            .order_by(col(ApiKey.id))
        ).all()
    )


def revoke_api_key(
    session: Session, *, access: Access, key_id: int, now: datetime | None = None
) -> bool:
    """False when no such live key belongs to this workspace (another's key included)."""
    permissions.check(access, Action.manage)
    workspace_id = access.workspace_id
    api_key = session.exec(
        select(ApiKey).where(
            ApiKey.id == key_id,
            ApiKey.workspace_id == workspace_id,
            col(ApiKey.revoked_at).is_(None),
        )
    ).first()
    if api_key is None:
        session.rollback()
        return False
    before = audit.snapshot(api_key)
    api_key.revoked_at = now_or_utc(now)
    session.add(api_key)
    _record(
        session, access, "key.revoke", api_key, audit.diff("key", before, audit.snapshot(api_key))
    )
    session.commit()
    return True


def _record(session: Session, access: Access, action: str, api_key: ApiKey, changes: dict) -> None:
    audit.record(
        session,
        access,
        action,
        workspace_id=api_key.workspace_id,
        object_type="key",
        object_id=api_key.id,
        changes=changes,
    )
