"""/signing-secret: the user's Standard Webhooks secret, and its rotation."""

from __future__ import annotations

from fastapi import APIRouter, Response

from hookboard.api.deps import Caller, SessionDep, WriteCaller
from hookboard.api.schemas.accounts import PreviousSigningSecret, SigningSecretPublic
from hookboard.services import accounts

router = APIRouter(prefix="/signing-secret", tags=["signing secret"])


def _public(secrets: accounts.SigningSecrets, scope: str) -> SigningSecretPublic:
    current = secrets.current.secret
    return SigningSecretPublic(
        secret=current if accounts.may_read_signing_secret(scope) else None,
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
    """The current secret in full (a read-scope key sees only its prefix); rotated
    ones still signing, by prefix and expiry."""
    response.headers["Cache-Control"] = "no-store"
    secrets = accounts.get_signing_secrets(session, user_id=caller.user_id)
    return _public(secrets, caller.scope)


@router.post("/rotate", response_model=SigningSecretPublic)
def rotate_signing_secret(
    session: SessionDep, caller: WriteCaller, response: Response
) -> SigningSecretPublic:
    """A new secret; the old one keeps signing for SIGNING_SECRET_GRACE_HOURS."""
    response.headers["Cache-Control"] = "no-store"
    return _public(accounts.rotate_signing_secret(session, user_id=caller.user_id), caller.scope)
