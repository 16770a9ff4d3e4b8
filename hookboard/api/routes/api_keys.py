"""/api-keys: create (the key is shown once), list and revoke API keys."""

from __future__ import annotations

from typing import Annotated

from fastapi import APIRouter, Path, Response

from hookboard.api.deps import Caller, SessionDep, WriteCaller
from hookboard.api.errors import ApiError, not_found
from hookboard.api.schemas.accounts import (
    ApiKeyCreate,
    ApiKeyCreated,
    ApiKeyList,
    ApiKeyPublic,
)
from hookboard.models import ApiKey
from hookboard.services import accounts

router = APIRouter(prefix="/api-keys", tags=["api keys"])

MAX_ID = 2**63 - 1  # BIGINT; a larger id is a 422, not a database error


def _public(api_key: ApiKey) -> ApiKeyPublic:
    return ApiKeyPublic.model_validate(api_key, from_attributes=True)


@router.post("", status_code=201, response_model=ApiKeyCreated)
def create_api_key(
    body: ApiKeyCreate, session: SessionDep, caller: WriteCaller, response: Response
) -> ApiKeyCreated:
    """A new key; `key` is the full key, shown in this response only. A key
    mints keys of its own scope or narrower (403 otherwise)."""
    try:
        created = accounts.create_api_key(
            session,
            user_id=caller.user_id,
            name=body.name,
            scope=body.scope,
            granted_by=caller.scope,
        )
    except accounts.ScopeTooWideError as error:
        raise ApiError(403, str(error), code="insufficient_scope", field="scope") from None
    response.headers["Cache-Control"] = "no-store"
    return ApiKeyCreated(**_public(created.api_key).model_dump(), key=created.key)


@router.get("", response_model=ApiKeyList)
def list_api_keys(session: SessionDep, caller: Caller) -> ApiKeyList:
    """The caller's live keys (never the keys themselves)."""
    keys = accounts.list_api_keys(session, user_id=caller.user_id)
    return ApiKeyList(items=[_public(api_key) for api_key in keys])


@router.delete("/{id}", status_code=204, response_class=Response)
def revoke_api_key(
    key_id: Annotated[int, Path(alias="id", ge=1, le=MAX_ID)],
    session: SessionDep,
    caller: WriteCaller,
) -> None:
    """Revoke a key: it gets 401 from now on."""
    if not accounts.revoke_api_key(session, user_id=caller.user_id, key_id=key_id):
        raise not_found("API key")
