"""/api-keys: create (the key is shown once), list and revoke API keys."""

from __future__ import annotations

from typing import Annotated

from fastapi import APIRouter, Path, Response

from hookboard.api.deps import AdminCaller, Caller, SessionDep
from hookboard.api.errors import not_found
from hookboard.api.schemas.accounts import (
    ApiKeyCreate,
    ApiKeyCreated,
    ApiKeyList,
    ApiKeyPublic,
)
from hookboard.services import accounts

router = APIRouter(prefix="/api-keys", tags=["api keys"])

MAX_ID = 2**63 - 1  # BIGINT; a larger id is a 422, not a database error


@router.post("", status_code=201, response_model=ApiKeyCreated)
def create_api_key(
    body: ApiKeyCreate, session: SessionDep, caller: AdminCaller, response: Response
) -> ApiKeyCreated:
    """A new key of the workspace; `key` is the full key, shown in this response
    only. Admins and owners, signed in, make keys; a key never does."""
    created = accounts.create_api_key(
        session,
        access=caller,
        name=body.name,
        scope=body.scope,
    )
    response.headers["Cache-Control"] = "no-store"
    public = ApiKeyPublic.of(created.api_key, caller.email)
    return ApiKeyCreated(**public.model_dump(), key=created.key)


@router.get("", response_model=ApiKeyList)
def list_api_keys(session: SessionDep, caller: Caller) -> ApiKeyList:
    """The workspace's live keys (never the keys themselves), with who made each."""
    keys = accounts.list_api_keys(session, workspace_id=caller.workspace_id)
    return ApiKeyList(items=[ApiKeyPublic.of(api_key, email) for api_key, email in keys])


@router.delete("/{id}", status_code=204, response_class=Response)
def revoke_api_key(
    key_id: Annotated[int, Path(alias="id", ge=1, le=MAX_ID)],
    session: SessionDep,
    caller: AdminCaller,
) -> None:
    """Revoke a key: it gets 401 from now on."""
    if not accounts.revoke_api_key(session, access=caller, key_id=key_id):
        raise not_found("API key")
