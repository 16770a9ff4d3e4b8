"""Session tokens and API keys: random, recognisable by prefix, stored as hashes."""

from __future__ import annotations

import hashlib
import secrets
from dataclasses import dataclass

SESSION_PREFIX = "hbs_"
API_KEY_PREFIX = "hbk_"
LOGIN_CHALLENGE_PREFIX = "hbc_"  # a password accepted, a two-factor code due
# 32 random bytes: far beyond guessing; sha256 is enough for such tokens
# (bcrypt is for low-entropy passwords).
TOKEN_BYTES = 32
DISPLAY_PREFIX_CHARS = 12


@dataclass(frozen=True)
class IssuedToken:
    token: str  # shown once, never stored
    token_hash: str
    display_prefix: str  # e.g. "hbk_3fA9xQ2b", enough to recognise a key in a list


def hash_token(token: str) -> str:
    return hashlib.sha256(token.encode()).hexdigest()


def _issue(prefix: str) -> IssuedToken:
    token = prefix + secrets.token_urlsafe(TOKEN_BYTES)
    return IssuedToken(token, hash_token(token), token[:DISPLAY_PREFIX_CHARS])


def new_session_token() -> IssuedToken:
    return _issue(SESSION_PREFIX)


def new_api_key() -> IssuedToken:
    return _issue(API_KEY_PREFIX)


def new_login_challenge() -> IssuedToken:
    return _issue(LOGIN_CHALLENGE_PREFIX)
