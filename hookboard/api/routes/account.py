"""DELETE /account: close the caller's account and delete its data."""

from __future__ import annotations

from datetime import datetime
from typing import Annotated

from fastapi import APIRouter
from pydantic import BaseModel, ConfigDict, Field

from hookboard.api.deps import PersonCaller, SessionDep
from hookboard.api.errors import ApiError
from hookboard.api.routes.auth import throttled
from hookboard.services import accounts
from hookboard.services.accounts.two_factor import MAX_CODE_CHARS

router = APIRouter(prefix="/account", tags=["auth"])


class DeleteAccountRequest(BaseModel):
    model_config = ConfigDict(extra="forbid")
    password: Annotated[str, Field(min_length=1, max_length=1024)]
    code: Annotated[
        str | None,
        Field(
            max_length=MAX_CODE_CHARS,
            description="A two-factor or recovery code; required when two-factor login is on.",
        ),
    ] = None


class DeletedAccount(BaseModel):
    closed_at: datetime
    data_deleted: bool = Field(
        description="False: the rest of the data is deleted in the background within minutes."
    )


@router.delete("", response_model=DeletedAccount)
def delete_account(body: DeleteAccountRequest, session: SessionDep, caller: PersonCaller):
    """Close the account at once (sign-ins, keys and deliveries stop) and delete all
    its data. Needs a signed-in session, the password and, with two-factor login
    on, a code; a wrong password or code counts as a failed login."""
    try:
        closed = accounts.delete_account(
            session,
            user_id=caller.user_id,
            password=body.password,
            by_session=caller.session_id is not None,
            code=body.code,
        )
    except accounts.NeedsSessionError as error:
        raise ApiError(403, str(error), code="session_required") from None
    except accounts.InvalidCodeError as error:
        raise ApiError(403, str(error), code="invalid_code", field=error.field) from None
    except accounts.InvalidInputError as error:
        raise ApiError(403, str(error), code="invalid_credentials", field=error.field) from None
    except accounts.ThrottledError as error:
        raise throttled(error) from None
    return DeletedAccount(closed_at=closed.closed_at, data_deleted=closed.data_deleted)
