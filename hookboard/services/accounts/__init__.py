"""Accounts: signup, login (with two-factor codes), sessions, API keys and the signing secret.

Shared by the REST API and the dashboard. Keyword-only functions that take a
fresh session; each is one unit of work and commits it (signup must roll back
to turn a unique-constraint race into `EmailTakenError`). Failures are the
exceptions below, never HTTP: callers map them to their own answers.

Secrets (passwords, tokens, keys) are never logged; a new token or key is
returned once, in the result, and only its sha256 hash is stored.
"""

from hookboard.services.accounts.active_sessions import (
    SessionInfo,
    list_sessions,
    revoke_other_sessions,
    revoke_session,
)
from hookboard.services.accounts.api_keys import (
    CreatedApiKey,
    create_api_key,
    list_api_keys,
    revoke_api_key,
)
from hookboard.services.accounts.closing import ClosedAccount, close_account, delete_account
from hookboard.services.accounts.errors import (
    AccountError,
    EmailTakenError,
    InvalidChallengeError,
    InvalidCodeError,
    InvalidCredentialsError,
    InvalidInputError,
    LoginThrottledError,
    NeedsSessionError,
    SignupThrottledError,
    ThrottledError,
    TotpRequiredError,
    TwoFactorStateError,
)
from hookboard.services.accounts.rules import (
    API_KEY_SCOPES,
    EMAIL_PATTERN,
    EMAIL_SCHEMA_PATTERN,
    MAX_API_KEY_NAME_CHARS,
    MAX_EMAIL_CHARS,
    MIN_PASSWORD_CHARS,
    check_login_email,
    clean_api_key_name,
    is_encodable,
    login_email_forms,
    normalise_email,
    now_or_utc,
    validate_email,
    validate_new_password,
)
from hookboard.services.accounts.sessions import (
    LoginResult,
    SignupResult,
    change_password,
    login,
    logout,
    signup,
)
from hookboard.services.accounts.signing_secrets import (
    SECRET_DISPLAY_CHARS,
    SigningSecrets,
    get_signing_secrets,
    rotate_signing_secret,
    secret_display_prefix,
)

__all__ = [
    "API_KEY_SCOPES",
    "EMAIL_PATTERN",
    "EMAIL_SCHEMA_PATTERN",
    "MAX_API_KEY_NAME_CHARS",
    "MAX_EMAIL_CHARS",
    "MIN_PASSWORD_CHARS",
    "SECRET_DISPLAY_CHARS",
    "AccountError",
    "ClosedAccount",
    "CreatedApiKey",
    "EmailTakenError",
    "InvalidChallengeError",
    "InvalidCodeError",
    "InvalidCredentialsError",
    "InvalidInputError",
    "LoginResult",
    "LoginThrottledError",
    "NeedsSessionError",
    "SessionInfo",
    "SigningSecrets",
    "SignupResult",
    "SignupThrottledError",
    "ThrottledError",
    "TotpRequiredError",
    "TwoFactorStateError",
    "change_password",
    "check_login_email",
    "clean_api_key_name",
    "close_account",
    "create_api_key",
    "delete_account",
    "get_signing_secrets",
    "is_encodable",
    "list_api_keys",
    "list_sessions",
    "login",
    "login_email_forms",
    "logout",
    "normalise_email",
    "now_or_utc",
    "revoke_api_key",
    "revoke_other_sessions",
    "revoke_session",
    "rotate_signing_secret",
    "secret_display_prefix",
    "signup",
    "validate_email",
    "validate_new_password",
]
