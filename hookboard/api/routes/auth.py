"""POST /auth/signup, /auth/login and /auth/logout: session bearer tokens."""

from __future__ import annotations

from typing import Annotated

from fastapi import APIRouter, Header, Request, Response

from hookboard.api.deps import Caller, SessionDep, bearer_token
from hookboard.api.errors import ApiError
from hookboard.api.schemas.accounts import (
    LoginRequest,
    LoginResponse,
    SignupRequest,
    SignupResponse,
    UserPublic,
)
from hookboard.services import accounts

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
            session, email=body.email, password=body.password, client_ip=_client_ip(request)
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


@router.post("/login", response_model=LoginResponse)
def login(
    body: LoginRequest, session: SessionDep, request: Request, response: Response
) -> LoginResponse:
    """A new session token. Repeated failures per email or client IP get 429."""
    try:
        result = accounts.login(
            session, email=body.email, password=body.password, client_ip=_client_ip(request)
        )
    except accounts.InvalidCredentialsError as error:
        raise ApiError(401, str(error), code="invalid_credentials") from None
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
