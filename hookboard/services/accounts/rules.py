"""The rules an account's inputs obey: email, password, API key name and scope."""

from __future__ import annotations

import re
import unicodedata
from datetime import UTC, datetime
from functools import lru_cache
from itertools import pairwise
from pathlib import Path

from hookboard.core.whitespace import PYTHON_SPACE
from hookboard.domain.passwords import MAX_PASSWORD_BYTES
from hookboard.services.accounts.errors import InvalidInputError
from hookboard.services.errors import InvalidInput
from hookboard.services.fields import check_name

# A key's scope: "read" acts as a viewer, "write" as an editor (workspaces.permissions).
API_KEY_SCOPES = ("read", "write")


MIN_PASSWORD_CHARS = 8


MAX_API_KEY_NAME_CHARS = 100


MAX_EMAIL_CHARS = 320


# Characters that show as nothing or as a blank that is not whitespace (C1
# controls, soft hyphen, zero widths, joiners, bidi marks and controls, fillers,
# variation selectors, BOM): an address holding one looks like another account's.
# A regex class, so that the schema pattern below states it too.
INVISIBLE = (
    r"\x80-\x9f\xad\u034f\u061c\u115f\u1160\u17b4\u17b5\u180b-\u180f\u200b-\u200f"
    r"\u202a-\u202e\u2060-\u206f\u2800\u3164\ufe00-\ufe0f\ufeff\uffa0\ufff9-\ufffb"
)
_INVISIBLE = re.compile(f"[{INVISIBLE}]")


# A pragmatic check (RFC 5321 lengths, one @, a dotted domain, no spaces,
# control or invisible characters); whether the address receives mail is not ours to know.
_NOT_IN_EMAIL = rf"@{PYTHON_SPACE}\x00-\x1f\x7f{INVISIBLE}"


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
    and the CLI all hold names to this rule (services/fields.check_name's)."""
    try:
        return check_name(value, "name", max_chars=MAX_API_KEY_NAME_CHARS)
    except InvalidInput as error:
        raise InvalidInputError("name", error.message) from None


def normalise_email(email: str) -> str:
    """The one form an address is stored and looked up in: NFKC (fullwidth
    letters, ligatures and other compatibility forms folded), trimmed, lower-cased."""
    return unicodedata.normalize("NFKC", email).strip().lower()


def login_email_forms(email: str) -> list[str]:
    """The stored forms a login's address may match: normalise_email's, then the
    one accounts made before NFKC folding were stored in (trimmed, lower-cased)."""
    forms = [normalise_email(email), email.strip().lower()]
    return forms[:1] if forms[0] == forms[1] else forms


def check_login_email(email: str) -> str:
    """A login's address as typed (trimmed): shaped as validate_email wants it,
    left unfolded so that login_email_forms can still find an older account."""
    validate_email(email)
    return email.strip()


def is_encodable(text: str) -> bool:
    """False for lone surrogates ("\\ud800" in JSON): no database can store them."""
    try:
        text.encode()
    except UnicodeEncodeError:
        return False
    return True


def validate_email(email: str) -> str:
    """The email as stored (normalise_email's form), or InvalidInputError."""
    if not is_encodable(email):
        raise InvalidInputError("email", "not a valid email address")
    email = normalise_email(email)
    if _INVISIBLE.search(email):
        raise InvalidInputError("email", "must not contain invisible characters")
    if len(email) > MAX_EMAIL_CHARS or not EMAIL_PATTERN.fullmatch(email):
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
    weakness = _weakness(password)
    if weakness:
        raise InvalidInputError("password", f"password is {weakness}; choose a longer, rarer one")
    return password


# What may trail a common word and still leave it common: "Password1!", "dragon2024".
_COMMON_SUFFIX = re.compile(r"[\d\W_]+$")


def _weakness(password: str) -> str | None:
    """Why a password is too easy to guess, or None. Never echoes the password."""
    if not password.strip():
        return "blank"
    folded = password.lower()
    if len(set(folded)) <= 2 or folded in (folded + folded)[1:-1]:
        return "a repeated pattern"
    steps = {ord(b) - ord(a) for a, b in pairwise(folded)}
    if steps in ({1}, {-1}):
        return "a sequence"
    if folded in _common_passwords() or _COMMON_SUFFIX.sub("", folded) in _common_passwords():
        return "among the most common passwords"
    return None


@lru_cache(maxsize=1)
def _common_passwords() -> frozenset[str]:
    text = (Path(__file__).parent / "common_passwords.txt").read_text(encoding="utf-8")
    return frozenset(
        line.strip() for line in text.splitlines() if line.strip() and not line.startswith("#")
    )


def now_or_utc(now: datetime | None) -> datetime:
    return now or datetime.now(UTC)
