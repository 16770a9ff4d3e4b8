"""The envelope of secrets at rest: AES-GCM, keyed, bound to its column."""

from __future__ import annotations

import base64

import pytest

from hookboard.core.crypto import decrypt_headers, encrypt_headers
from hookboard.domain.crypto import (
    PREFIX,
    DecryptionError,
    Keyring,
    derive_key,
    envelope_key_id,
    is_envelope,
)

OLD = "an old passphrase that is long enough to use"
NEW = base64.b64encode(bytes(range(32))).decode()
CONTEXT = "signing_secrets.secret"


def test_a_value_round_trips_and_the_envelope_holds_no_plaintext():
    keyring = Keyring.from_materials([NEW])
    envelope = keyring.encrypt("whsec_top-secret", CONTEXT)
    assert is_envelope(envelope) and envelope.startswith(f"{PREFIX}{keyring.primary_id}:")
    assert "top-secret" not in envelope
    assert keyring.decrypt(envelope, CONTEXT) == "whsec_top-secret"


def test_each_encryption_uses_a_fresh_nonce():
    keyring = Keyring.from_materials([NEW])
    assert keyring.encrypt("same", CONTEXT) != keyring.encrypt("same", CONTEXT)


def test_it_refuses_a_wrong_key():
    envelope = Keyring.from_materials([OLD]).encrypt("secret", CONTEXT)
    with pytest.raises(DecryptionError) as raised:
        Keyring.from_materials([NEW]).decrypt(envelope, CONTEXT)
    assert raised.value.key_id == envelope_key_id(envelope)


def test_it_refuses_a_tampered_ciphertext():
    keyring = Keyring.from_materials([NEW])
    envelope = keyring.encrypt("secret", CONTEXT)
    flipped = envelope[:-2] + ("A" if envelope[-2] != "A" else "B") + envelope[-1]
    with pytest.raises(DecryptionError):
        keyring.decrypt(flipped, CONTEXT)
    with pytest.raises(DecryptionError):
        keyring.decrypt(envelope[:-10], CONTEXT)


def test_it_refuses_a_ciphertext_moved_to_another_column():
    keyring = Keyring.from_materials([NEW])
    envelope = keyring.encrypt("https://hooks.example/T0/B0/secret", "notification_channels.url")
    with pytest.raises(DecryptionError):
        keyring.decrypt(envelope, CONTEXT)


def test_it_refuses_a_plaintext_where_an_envelope_belongs():
    with pytest.raises(DecryptionError):
        Keyring.from_materials([NEW]).decrypt("whsec_plain", CONTEXT)


def test_a_previous_key_still_decrypts_and_rotation_moves_values_to_the_newest():
    old_envelope = Keyring.from_materials([OLD]).encrypt("secret", CONTEXT)
    rotating = Keyring.from_materials([NEW, OLD])
    assert rotating.decrypt(old_envelope, CONTEXT) == "secret"
    moved = rotating.reencrypt(old_envelope, CONTEXT)
    assert envelope_key_id(moved) == rotating.primary_id != envelope_key_id(old_envelope)
    assert Keyring.from_materials([NEW]).decrypt(moved, CONTEXT) == "secret"
    assert rotating.reencrypt(moved, CONTEXT) is moved  # already current: untouched
    assert rotating.reencrypt("plain", CONTEXT) == "plain"


def test_keys_come_from_base64_or_a_passphrase_and_never_equal_the_material():
    raw = bytes(range(32))
    assert derive_key(NEW) == derive_key(base64.urlsafe_b64encode(raw).decode())
    assert derive_key(NEW) != raw
    assert derive_key(OLD) != derive_key(OLD + "x")
    assert len(derive_key(OLD)) == 32


def test_only_secret_header_values_are_encrypted_and_bound_to_their_header():
    keyring = Keyring.from_materials([NEW])
    headers = {"Authorization": "Bearer s3cret", "Content-Type": "text/plain", "X-Odd": PREFIX}
    stored = encrypt_headers(keyring, "schedules", headers)
    assert stored["Content-Type"] == "text/plain"
    assert is_envelope(stored["Authorization"]) and "s3cret" not in stored["Authorization"]
    # A plaintext that looks like an envelope is encrypted too, so reading it back is exact.
    assert stored["X-Odd"] != PREFIX
    assert decrypt_headers(keyring, "schedules", stored) == headers
    with pytest.raises(DecryptionError):
        decrypt_headers(keyring, "targets", stored)
    swapped = {"X-Api-Key": stored["Authorization"]}
    with pytest.raises(DecryptionError):
        decrypt_headers(keyring, "schedules", swapped)
