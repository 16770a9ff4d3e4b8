"""POST /auth/signup, /auth/login (+ /auth/login/totp), /auth/logout, /auth/password:
session bearer tokens."""

from __future__ import annotations

from typing import Annotated

from fastapi import APIRouter, Header, Request, Response
from fastapi.responses import JSONResponse

from hookboard.api.deps import Caller, PersonCaller, SessionDep, bearer_token
from hookboard.api.errors import ApiError
from hookboard.api.schemas.accounts import (
    LoginRefused,
    LoginRequest,
    LoginResponse,
    PasswordChange,
    SessionsRevoked,
    SignupRequest,
    SignupResponse,
    TotpLoginRequest,
    UserPublic,
)
from hookboard.services import accounts
from hookboard.services.accounts import two_factor

router = APIRouter(prefix="/auth", tags=["auth"])

# Responses carrying a token must not be kept by caches.
NO_STORE = {"Cache-Control": "no-store"}


@router.post("/signup", status_code=201, response_model=SignupResponse)
def signup(
    body: SignupRequest, session: SessionDep, request: Request, response: Response
) -> SignupResponse:
    """Create an account; the answer holds a session token (shown once). Attempts
    per client IP are limited (SIGNUPS_PER_IP_PER_HOUR): past it, 429."""
    try:
        result = accounts.signup(
            session,
            email=body.email,
            password=body.password,
            client_ip=_client_ip(request),
            user_agent=request.headers.get("user-agent"),
        )
    except accounts.EmailTakenError as error:
        raise ApiError(409, str(error), code="email_taken", field="email") from None
    except accounts.ThrottledError as error:
        raise throttled(error) from None
    response.headers.update(NO_STORE)
    user = result.user
    return SignupResponse(
        user=UserPublic(id=user.id, email=user.email, created_at=user.created_at),
        token=result.token,
    )


@router.post(
    "/login",
    response_model=LoginResponse,
    responses={
        401: {"model": LoginRefused, "description": "invalid credentials, or a code is due"}
    },
)
def login(body: LoginRequest, session: SessionDep, request: Request, response: Response):
    """A new session token. Repeated failures per email or client IP get 429.
    With two-factor login on, a 401 `totp_required` holds a `challenge` to send
    with a code to POST /auth/login/totp within 5 minutes."""
    try:
        result = accounts.login(
            session,
            email=body.email,
            password=body.password,
            client_ip=_client_ip(request),
            user_agent=request.headers.get("user-agent"),
        )
    except accounts.InvalidCredentialsError as error:
        raise ApiError(401, str(error), code="invalid_credentials") from None
    except accounts.TotpRequiredError as error:
        return _totp_required(error)
    except accounts.ThrottledError as error:
        raise throttled(error) from None
    response.headers.update(NO_STORE)
    return LoginResponse(token=result.token, expires_at=result.expires_at)


def _totp_required(error: accounts.TotpRequiredError) -> JSONResponse:
    body = {
        "error": {"code": "totp_required", "message": str(error), "field": "code"},
        "challenge": error.challenge,
        "challenge_expires_at": error.expires_at.isoformat(),
    }
    return JSONResponse(body, status_code=401, headers=NO_STORE)


@router.post("/login/totp", response_model=LoginResponse)
def login_totp(
    body: TotpLoginRequest, session: SessionDep, request: Request, response: Response
) -> LoginResponse:
    """Finish a login with a code from the authenticator app, or a recovery code.
    A challenge takes 5 codes at most and one success; wrong codes count as
    failed logins (429 past the limit)."""
    try:
        result = two_factor.login_with_code(
            session,
            challenge=body.challenge,
            code=body.code,
            client_ip=_client_ip(request),
            user_agent=request.headers.get("user-agent"),
        )
    except accounts.InvalidChallengeError as error:
        raise ApiError(401, str(error), code="invalid_challenge", field="challenge") from None
    except accounts.InvalidCodeError as error:
        raise ApiError(401, str(error), code="invalid_code", field="code") from None
    except accounts.ThrottledError as error:
        raise throttled(error) from None
    response.headers.update(NO_STORE)
    return LoginResponse(token=result.token, expires_at=result.expires_at)


@router.post("/logout", status_code=204, response_class=Response)
def logout(
    session: SessionDep,
    caller: Caller,
    authorization: Annotated[str | None, Header()] = None,
) -> None:
    """Revoke the session token this request carries."""
    if caller.session_id is None:
        raise ApiError(
            400,
            "logout ends a session token; revoke an API key with DELETE /api/v1/api-keys/{id}",
            code="not_a_session",
        )
    accounts.logout(session, token=bearer_token(authorization))


def _client_ip(request: Request) -> str | None:
    return request.client.host if request.client else None


def throttled(error: accounts.ThrottledError) -> ApiError:
    headers = {"Retry-After": str(error.retry_after)}
    return ApiError(429, str(error), code="rate_limited", headers=headers)


@router.post("/password", response_model=SessionsRevoked)
def change_password(
    body: PasswordChange,
    session: SessionDep,
    caller: PersonCaller,
    authorization: Annotated[str | None, Header()] = None,
) -> SessionsRevoked:
    """Set a new password; every other session of the account is logged out."""
    keep = bearer_token(authorization)
    try:
        revoked = accounts.change_password(
            session,
            user_id=caller.user_id,
            current_password=body.current_password,
            new_password=body.new_password,
            keep_token=keep,
            access=caller,
        )
    except accounts.InvalidInputError as error:
        raise ApiError(422, str(error), field=error.field) from None
    except accounts.ThrottledError as error:
        raise throttled(error) from None
    return SessionsRevoked(revoked_sessions=revoked)
