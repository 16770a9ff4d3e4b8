"""/signing-secret: the workspace's Standard Webhooks secret, and its rotation."""

from __future__ import annotations

from fastapi import APIRouter, Response

from hookboard.api.deps import AdminCaller, Caller, SessionDep
from hookboard.api.schemas.accounts import PreviousSigningSecret, SigningSecretPublic
from hookboard.services import accounts
from hookboard.services.workspaces import permissions
from hookboard.services.workspaces.permissions import Access, Action

router = APIRouter(prefix="/signing-secret", tags=["signing secret"])


def _public(secrets: accounts.SigningSecrets, caller: Access) -> SigningSecretPublic:
    current = secrets.current.secret
    return SigningSecretPublic(
        secret=current if permissions.allows(caller, Action.read_secret) else None,
        secret_prefix=accounts.secret_display_prefix(current),
        created_at=secrets.current.created_at,
        previous=[
            PreviousSigningSecret(
                secret_prefix=accounts.secret_display_prefix(old.secret),
                expires_at=old.expires_at,
            )
            for old in secrets.previous
        ],
    )


@router.get("", response_model=SigningSecretPublic)
def get_signing_secret(
    session: SessionDep, caller: Caller, response: Response
) -> SigningSecretPublic:
    """The current secret in full for admins and owners (others see its prefix);
    rotated ones still signing, by prefix and expiry."""
    response.headers["Cache-Control"] = "no-store"
    secrets = accounts.get_signing_secrets(session, workspace_id=caller.workspace_id)
    return _public(secrets, caller)


@router.post("/rotate", response_model=SigningSecretPublic)
def rotate_signing_secret(
    session: SessionDep, caller: AdminCaller, response: Response
) -> SigningSecretPublic:
    """A new secret; the old one keeps signing for SIGNING_SECRET_GRACE_HOURS."""
    response.headers["Cache-Control"] = "no-store"
    rotated = accounts.rotate_signing_secret(session, access=caller)
    return _public(rotated, caller)
