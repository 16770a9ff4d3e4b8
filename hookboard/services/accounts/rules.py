"""The rules an account's inputs obey: email, password, API key name and scope."""

from __future__ import annotations

import re
from datetime import UTC, datetime

from hookboard.core.whitespace import PYTHON_SPACE
from hookboard.domain.passwords import MAX_PASSWORD_BYTES
from hookboard.services.accounts.errors import InvalidInputError

# Narrowest first: a credential may grant what its own scope reaches, no more.
API_KEY_SCOPES = ("read", "write")


def scope_reaches(granted: str, wanted: str) -> bool:
    """Whether a credential of scope `granted` covers what scope `wanted` may do."""
    return API_KEY_SCOPES.index(granted) >= API_KEY_SCOPES.index(wanted)


def may_read_signing_secret(scope: str) -> bool:
    """The full signing secret forges webhooks to every receiver: write scope only
    (the admin role once workspaces land). Others see its prefix and dates."""
    return scope_reaches(scope, "write")


MIN_PASSWORD_CHARS = 8


MAX_API_KEY_NAME_CHARS = 100


MAX_EMAIL_CHARS = 320


# A pragmatic check (RFC 5321 lengths, one @, a dotted domain, no spaces or
# control characters); whether the address receives mail is not ours to know.
_NOT_IN_EMAIL = rf"@{PYTHON_SPACE}\x00-\x1f\x7f"


EMAIL_PATTERN = re.compile(
    rf"[^{_NOT_IN_EMAIL}]{{1,64}}@(?=.{{1,255}}$)[^{_NOT_IN_EMAIL}.]+(?:\.[^{_NOT_IN_EMAIL}.]+)+"
)


# The same rule for OpenAPI clients, without the lookahead JSON Schema lacks: the
# domain's 255 characters become at most four labels of 63. Whitespace around
# the address is allowed, as it is trimmed.
EMAIL_SCHEMA_PATTERN = (
    rf"^[{PYTHON_SPACE}]*[^{_NOT_IN_EMAIL}]{{1,64}}@[^{_NOT_IN_EMAIL}.]{{1,63}}"
    rf"(\.[^{_NOT_IN_EMAIL}.]{{1,63}}){{1,3}}[{PYTHON_SPACE}]*$"
)


def clean_api_key_name(value: str) -> str:
    """An API key's name, stripped of surrounding space; the dashboard, the API
    and the CLI all hold names to this rule."""
    value = value.strip()
    if not value:
        raise InvalidInputError("name", "name must not be blank")
    if len(value) > MAX_API_KEY_NAME_CHARS:
        raise InvalidInputError("name", f"name must be at most {MAX_API_KEY_NAME_CHARS} characters")
    if any(ord(char) < 32 or ord(char) == 127 for char in value):
        raise InvalidInputError("name", "name must not contain control characters")
    if not is_encodable(value):
        raise InvalidInputError("name", "name is not valid Unicode text")
    return value


def normalise_email(email: str) -> str:
    return email.strip().lower()


def is_encodable(text: str) -> bool:
    """False for lone surrogates ("\\ud800" in JSON): no database can store them."""
    try:
        text.encode()
    except UnicodeEncodeError:
        return False
    return True


def validate_email(email: str) -> str:
    """The email as stored (trimmed, lower-cased), or InvalidInputError."""
    email = normalise_email(email)
    valid = len(email) <= MAX_EMAIL_CHARS and EMAIL_PATTERN.fullmatch(email)
    if not valid or not is_encodable(email):
        raise InvalidInputError("email", "not a valid email address")
    return email


def validate_new_password(password: str) -> str:
    if not is_encodable(password):
        raise InvalidInputError("password", "password is not valid Unicode text")
    if len(password) < MIN_PASSWORD_CHARS:
        raise InvalidInputError(
            "password", f"password must be at least {MIN_PASSWORD_CHARS} characters"
        )
    if len(password.encode()) > MAX_PASSWORD_BYTES:
        raise InvalidInputError(
            "password",
            f"password must be at most {MAX_PASSWORD_BYTES} bytes in UTF-8 (bcrypt's limit)",
        )
    if "\x00" in password:
        raise InvalidInputError("password", "password must not contain NUL characters")
    return password


def now_or_utc(now: datetime | None) -> datetime:
    return now or datetime.now(UTC)
