"""Request and response bodies of /auth, /api-keys and /signing-secret."""

from __future__ import annotations

from datetime import datetime
from typing import Annotated, Literal

from pydantic import AfterValidator, BaseModel, ConfigDict, Field

from hookboard.services.accounts import (
    EMAIL_SCHEMA_PATTERN,
    MAX_API_KEY_NAME_CHARS,
    MIN_PASSWORD_CHARS,
    check_login_email,
    clean_api_key_name,
    validate_email,
    validate_new_password,
)
from hookboard.services.fields import NAME_SCHEMA_PATTERN

# The patterns are for the schema only; the validators are the rule.
Email = Annotated[
    str,
    Field(max_length=1000, json_schema_extra={"pattern": EMAIL_SCHEMA_PATTERN}),
    AfterValidator(validate_email),
]
LoginEmail = Annotated[
    str,
    Field(max_length=1000, json_schema_extra={"pattern": EMAIL_SCHEMA_PATTERN}),
    AfterValidator(check_login_email),
]
NewPassword = Annotated[
    str,
    Field(min_length=MIN_PASSWORD_CHARS, max_length=1024),
    AfterValidator(validate_new_password),
]


class _Body(BaseModel):
    model_config = ConfigDict(extra="forbid")


class SignupRequest(_Body):
    email: Email
    password: NewPassword


class LoginRequest(_Body):
    email: LoginEmail
    # Any length is checked against the hash; far past bcrypt's 72 bytes is refused early.
    password: Annotated[str, Field(min_length=1, max_length=1024)]


class UserPublic(BaseModel):
    id: int
    email: str
    created_at: datetime


class SignupResponse(BaseModel):
    user: UserPublic
    token: str = Field(description="Session bearer token; shown only here.")


class LoginResponse(BaseModel):
    token: str = Field(description="Session bearer token; shown only here.")
    expires_at: datetime


class ApiKeyCreate(_Body):
    name: Annotated[
        str,
        Field(
            max_length=MAX_API_KEY_NAME_CHARS, json_schema_extra={"pattern": NAME_SCHEMA_PATTERN}
        ),
        AfterValidator(clean_api_key_name),
    ]
    scope: Literal["read", "write"]


class ApiKeyPublic(BaseModel):
    id: int
    name: str
    prefix: str = Field(description="The key's first characters, to recognise it.")
    scope: str
    created_at: datetime
    last_used_at: datetime | None


class ApiKeyCreated(ApiKeyPublic):
    key: str = Field(description="The full API key; shown only in this response.")


class ApiKeyList(BaseModel):
    items: list[ApiKeyPublic]


class PreviousSigningSecret(BaseModel):
    secret_prefix: str
    expires_at: datetime


class SigningSecretPublic(BaseModel):
    secret: str | None = Field(
        description="The current `whsec_...` secret; null for a read-scope API key."
    )
    secret_prefix: str = Field(description="Its first characters, to recognise it.")
    created_at: datetime
    previous: list[PreviousSigningSecret] = Field(
        description="Rotated secrets that still sign deliveries until `expires_at`."
    )
