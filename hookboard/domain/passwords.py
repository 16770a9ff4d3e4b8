"""bcrypt password hashing."""

from __future__ import annotations

import bcrypt

# bcrypt only reads the first 72 bytes; longer passwords are refused upstream.
MAX_PASSWORD_BYTES = 72


def hash_password(password: str) -> str:
    return bcrypt.hashpw(password.encode(), bcrypt.gensalt()).decode()


def verify_password(password: str, password_hash: str) -> bool:
    try:
        return bcrypt.checkpw(password.encode(), password_hash.encode())
    except ValueError:  # a malformed hash or an over-long password
        return False
