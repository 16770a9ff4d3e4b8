"""Request and response bodies of /auth (login, two-factor, sessions), /api-keys and
/signing-secret."""

from __future__ import annotations

from datetime import datetime
from typing import Annotated, Literal

from pydantic import AfterValidator, BaseModel, ConfigDict, Field, ValidationInfo, field_validator

from hookboard.api.errors import ErrorDetail
from hookboard.services.accounts import (
    EMAIL_SCHEMA_PATTERN,
    MAX_API_KEY_NAME_CHARS,
    MIN_PASSWORD_CHARS,
    check_login_email,
    clean_api_key_name,
    validate_email,
    validate_new_password,
)
from hookboard.services.accounts.two_factor import MAX_CODE_CHARS
from hookboard.services.fields import NAME_SCHEMA_PATTERN
from hookboard.services.workspaces.permissions import ROLE_OF_SCOPE, SCOPE_OF_ROLE, Role

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
    # Either field, never null: typed without None, absent means unset.
    model_config = ConfigDict(
        json_schema_extra={"oneOf": [{"required": ["scope"]}, {"required": ["role"]}]}
    )

    role: Literal["viewer", "editor"] = Field(  # type: ignore[assignment]
        default=None, description="The role the key acts with (instead of `scope`)."
    )
    # Checked after `role` (declared first), and even when absent: one of the two.
    scope: Literal["read", "write"] = Field(  # type: ignore[assignment]
        default=None,
        validate_default=True,
        description='"read" acts as a viewer, "write" as an editor (or give `role`).',
    )

    @field_validator("scope", mode="before")
    @classmethod
    def _scope_or_role(cls, scope: object, info: ValidationInfo) -> object:
        role = info.data.get("role")
        if (scope is None) == (role is None):
            raise ValueError("give either scope (read or write) or role (viewer or editor)")
        return scope or SCOPE_OF_ROLE[Role(role)]


class ApiKeyCreator(BaseModel):
    id: int
    email: str


class ApiKeyPublic(BaseModel):
    id: int
    name: str
    prefix: str = Field(description="The key's first characters, to recognise it.")
    scope: str
    role: str = Field(description="What the key may do: viewer (read) or editor (write).")
    created_by: ApiKeyCreator | None = Field(
        description="Who made the key; null once that account is deleted."
    )
    created_at: datetime
    last_used_at: datetime | None

    @classmethod
    def of(cls, api_key, creator_email: str | None) -> ApiKeyPublic:
        creator = api_key.created_by_user_id
        return cls(
            id=api_key.id,
            name=api_key.name,
            prefix=api_key.prefix,
            scope=api_key.scope,
            role=ROLE_OF_SCOPE[api_key.scope],
            created_by=None
            if creator is None or creator_email is None
            else ApiKeyCreator(id=creator, email=creator_email),
            created_at=api_key.created_at,
            last_used_at=api_key.last_used_at,
        )


class ApiKeyCreated(ApiKeyPublic):
    key: str = Field(description="The full API key; shown only in this response.")


class ApiKeyList(BaseModel):
    items: list[ApiKeyPublic]


class PreviousSigningSecret(BaseModel):
    secret_prefix: str
    expires_at: datetime


class SigningSecretPublic(BaseModel):
    secret: str | None = Field(
        description="The current `whsec_...` secret; null unless you have the admin role."
    )
    secret_prefix: str = Field(description="Its first characters, to recognise it.")
    created_at: datetime
    previous: list[PreviousSigningSecret] = Field(
        description="Rotated secrets that still sign deliveries until `expires_at`."
    )


# A TOTP code ("123456") or a recovery code ("abcd-efgh-ijkl-mnop").
Code = Annotated[str, Field(min_length=1, max_length=MAX_CODE_CHARS)]


class LoginRefused(BaseModel):
    """The 401 of POST /auth/login: the error; with code `totp_required` (the
    password was right, the account has two-factor login) a challenge too."""

    error: ErrorDetail
    challenge: str | None = Field(
        None, description="Send it with a code to POST /auth/login/totp; once."
    )
    challenge_expires_at: datetime | None = None


class TotpLoginRequest(_Body):
    challenge: Annotated[str, Field(min_length=1, max_length=200)]
    code: Code


class PasswordChange(_Body):
    current_password: Annotated[str, Field(min_length=1, max_length=1024)]
    new_password: NewPassword


class SessionsRevoked(BaseModel):
    revoked_sessions: int = Field(description="How many other sessions were logged out.")


class TotpStatus(BaseModel):
    enabled: bool
    enabled_at: datetime | None
    recovery_codes_left: int


class TotpSetupResponse(BaseModel):
    secret: str = Field(description="The base32 secret, for apps that cannot scan; shown once.")
    otpauth_uri: str
    qr_svg: str = Field(description="The otpauth URI as a QR code, an SVG document.")


class TotpCode(_Body):
    code: Code


class TotpDisable(_Body):
    password: Annotated[str, Field(min_length=1, max_length=1024)]
    code: Code


class RecoveryCodes(BaseModel):
    recovery_codes: list[str] = Field(description="Each works once; shown only here.")


class SessionPublic(BaseModel):
    id: int
    created_at: datetime
    last_used_at: datetime | None = Field(description="To the minute.")
    expires_at: datetime
    client_ip: str | None
    user_agent: str | None
    current: bool = Field(description="The session making this request.")


class SessionList(BaseModel):
    items: list[SessionPublic]
