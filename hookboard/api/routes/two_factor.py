"""/auth/totp: turn two-factor login on (QR code, first code), regenerate
recovery codes, turn it off. Session tokens only: API keys cannot."""

from __future__ import annotations

from contextlib import contextmanager
from typing import Annotated

from fastapi import APIRouter, Header, Response

from hookboard.api.deps import PersonCaller, SessionDep, bearer_token
from hookboard.api.errors import ApiError
from hookboard.api.routes.auth import NO_STORE, throttled
from hookboard.api.schemas.accounts import (
    RecoveryCodes,
    SessionsRevoked,
    TotpCode,
    TotpDisable,
    TotpSetupResponse,
    TotpStatus,
)
from hookboard.services import accounts
from hookboard.services.accounts import two_factor

router = APIRouter(prefix="/auth/totp", tags=["auth"])


@router.get("", response_model=TotpStatus)
def totp_status(session: SessionDep, caller: PersonCaller) -> TotpStatus:
    found = two_factor.status(session, user_id=caller.user_id)
    return TotpStatus(**found.__dict__)


@router.post("/setup", response_model=TotpSetupResponse)
def begin_setup(session: SessionDep, caller: PersonCaller, response: Response) -> TotpSetupResponse:
    """A new secret and its QR code; two-factor login is on once POST /auth/totp/confirm
    gets a code from it. The secret is never shown again. 409 when already on."""
    with _answers():
        setup = two_factor.begin_setup(session, user_id=caller.user_id)
    response.headers.update(NO_STORE)
    return TotpSetupResponse(secret=setup.secret, otpauth_uri=setup.uri, qr_svg=setup.qr_svg)


@router.post("/confirm", response_model=RecoveryCodes)
def confirm_setup(
    body: TotpCode, session: SessionDep, caller: PersonCaller, response: Response
) -> RecoveryCodes:
    """Turn two-factor login on with a first code; the ten recovery codes, shown once."""
    with _answers():
        codes = two_factor.confirm_setup(session, user_id=caller.user_id, code=body.code)
    response.headers.update(NO_STORE)
    return RecoveryCodes(recovery_codes=codes)


@router.post("/recovery-codes", response_model=RecoveryCodes)
def regenerate_recovery_codes(
    body: TotpCode, session: SessionDep, caller: PersonCaller, response: Response
) -> RecoveryCodes:
    """Ten new recovery codes for a code; the old ones stop working."""
    with _answers():
        codes = two_factor.regenerate_recovery_codes(
            session, user_id=caller.user_id, code=body.code
        )
    response.headers.update(NO_STORE)
    return RecoveryCodes(recovery_codes=codes)


@router.post("/disable", response_model=SessionsRevoked)
def disable(
    body: TotpDisable,
    session: SessionDep,
    caller: PersonCaller,
    authorization: Annotated[str | None, Header()] = None,
) -> SessionsRevoked:
    """Turn two-factor login off with the password and a code; every other session ends."""
    with _answers():
        revoked = two_factor.disable(
            session,
            user_id=caller.user_id,
            password=body.password,
            code=body.code,
            keep_token=bearer_token(authorization),
        )
    return SessionsRevoked(revoked_sessions=revoked)


@contextmanager
def _answers():
    """The account errors of these routes as API errors."""
    try:
        yield
    except accounts.TwoFactorStateError as error:
        raise ApiError(409, str(error), code="totp_state") from None
    except accounts.InvalidInputError as error:
        raise ApiError(422, str(error), field=error.field) from None
    except accounts.ThrottledError as error:
        raise throttled(error) from None
