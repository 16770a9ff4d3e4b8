"""Secrets at rest: AES-256-GCM envelopes, self-describing and bound to their column.

An envelope reads ``enc:v1:<key id>:<base64url(nonce | ciphertext | tag)>``:
the version and the key id say how to open it, so several keys can be valid
at once during a rotation (the first encrypts, all decrypt). The associated
data is the value's place (``table.column``), so a ciphertext copied into
another column does not decrypt. Pure: the keys come from the caller.
"""

from __future__ import annotations

import base64
import binascii
import hashlib
import os
from functools import lru_cache

from cryptography.exceptions import InvalidTag
from cryptography.hazmat.primitives.ciphers.aead import AESGCM
from cryptography.hazmat.primitives.hashes import SHA256
from cryptography.hazmat.primitives.kdf.hkdf import HKDF

PREFIX = "enc:v1:"
KEY_BYTES = 32
NONCE_BYTES = 12  # 96 bits, random per value: AES-GCM's recommended nonce
KEY_ID_CHARS = 8
# Fixed labels: changing one would orphan every stored secret.
_KEY_INFO = b"hookboard secrets at rest v1"
_KEY_ID_LABEL = b"hookboard key id v1:"
# Decrypted values per keyring (ciphertext is immutable, so entries never go stale).
DECRYPT_CACHE_SIZE = 4096


class DecryptionError(ValueError):
    """A value is not an envelope, or none of the keys opens it."""

    def __init__(self, message: str, key_id: str = "?") -> None:
        super().__init__(message)
        self.key_id = key_id


def derive_key(material: str) -> bytes:
    """The AES key of a setting: 32 bytes in base64, or any other text, through HKDF.

    Always through HKDF, so the key never equals the material (SECRET_KEY
    also signs sessions)."""
    raw = _base64_key(material.strip()) or material.strip().encode()
    return HKDF(algorithm=SHA256(), length=KEY_BYTES, salt=None, info=_KEY_INFO).derive(raw)


def _base64_key(text: str) -> bytes | None:
    for decode in (base64.urlsafe_b64decode, base64.standard_b64decode):
        try:
            raw = decode(text + "=" * (-len(text) % 4))
        except (binascii.Error, ValueError):
            continue
        if len(raw) == KEY_BYTES:
            return raw
    return None


def key_id_of(key: bytes) -> str:
    """A short public name for a key: enough to tell keys apart, nothing to attack."""
    return hashlib.sha256(_KEY_ID_LABEL + key).hexdigest()[:KEY_ID_CHARS]


def is_envelope(value: str) -> bool:
    return value.startswith(PREFIX)


def envelope_key_id(value: str) -> str:
    return value[len(PREFIX) : len(PREFIX) + KEY_ID_CHARS]


class Keyring:
    """The valid keys, newest first: the first encrypts, any of them decrypts."""

    def __init__(self, keys: list[bytes]) -> None:
        if not keys:
            raise ValueError("a keyring needs at least one key")
        self._ciphers = {key_id_of(key): AESGCM(key) for key in keys}
        self.primary_id = key_id_of(keys[0])
        self._primary = self._ciphers[self.primary_id]
        self.decrypt = lru_cache(maxsize=DECRYPT_CACHE_SIZE)(self._decrypt)

    @classmethod
    def from_materials(cls, materials: list[str]) -> Keyring:
        return cls([derive_key(material) for material in materials])

    @property
    def key_ids(self) -> list[str]:
        return list(self._ciphers)

    def encrypt(self, plaintext: str, context: str) -> str:
        """A new envelope of ``plaintext`` for the place named ``context``."""
        nonce = os.urandom(NONCE_BYTES)
        sealed = self._primary.encrypt(nonce, plaintext.encode(), context.encode())
        payload = base64.urlsafe_b64encode(nonce + sealed).decode("ascii").rstrip("=")
        return f"{PREFIX}{self.primary_id}:{payload}"

    def _decrypt(self, envelope: str, context: str) -> str:
        if not is_envelope(envelope):
            raise DecryptionError("the stored value is not encrypted")
        key_id = envelope_key_id(envelope)
        cipher = self._ciphers.get(key_id)
        if cipher is None:
            raise DecryptionError(f"no configured key has id {key_id}", key_id)
        payload = envelope[len(PREFIX) + KEY_ID_CHARS + 1 :]
        try:
            raw = base64.urlsafe_b64decode(payload + "=" * (-len(payload) % 4))
            plain = cipher.decrypt(raw[:NONCE_BYTES], raw[NONCE_BYTES:], context.encode())
        except (binascii.Error, ValueError, InvalidTag):
            raise DecryptionError(f"a value under key {key_id} fails to decrypt", key_id) from None
        return plain.decode()

    def is_current(self, envelope: str) -> bool:
        """Written with the key that encrypts now (nothing for a rotation to do)."""
        return is_envelope(envelope) and envelope_key_id(envelope) == self.primary_id

    def reencrypt(self, value: str, context: str) -> str:
        """The value under the newest key; the same object if it is already (or is plaintext)."""
        if not is_envelope(value) or self.is_current(value):
            return value
        return self.encrypt(self.decrypt(value, context), context)
