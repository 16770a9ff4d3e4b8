"""encrypt secrets at rest

Signing secrets, notification channel URLs and the secret-looking header
values of schedules and targets become AES-GCM envelopes (hookboard/domain/crypto.py),
with the key the settings name (ENCRYPTION_KEY, else derived from SECRET_KEY).
The downgrade decrypts them with the same key.

Revision ID: eaea5100b417
Revises: 26c4cda61ea4
Create Date: 2026-12-07 20:40:00
"""

from collections.abc import Sequence

import sqlalchemy as sa

from alembic import op
from hookboard.core.crypto import EncryptedColumn, keyring_of
from hookboard.core.crypto_rows import transform_column
from hookboard.core.redaction import is_secret_header
from hookboard.domain.crypto import is_envelope
from hookboard.settings import get_settings

revision: str = "eaea5100b417"
down_revision: str | None = "26c4cda61ea4"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None

# The columns as they were at this revision (not the live list, which may grow).
STRINGS = {
    EncryptedColumn("signing_secrets", "secret", "string"): 100,
    EncryptedColumn("notification_channels", "url", "string"): 2048,
}
HEADERS = (
    EncryptedColumn("schedules", "headers", "headers"),
    EncryptedColumn("targets", "headers", "headers"),
)


def _is_postgres() -> bool:
    return op.get_bind().dialect.name == "postgresql"


def upgrade() -> None:
    if _is_postgres():
        # An envelope is longer than its plaintext; SQLite ignores declared lengths.
        for spec, length in STRINGS.items():
            op.alter_column(
                spec.table, spec.column, type_=sa.Text(), existing_type=sa.String(length)
            )
    keyring = keyring_of(get_settings())

    def encrypt_string(value: str, context: str) -> str:
        return value if is_envelope(value) else keyring.encrypt(value, context)

    def encrypt_header(value: str, context: str) -> str:
        # The context ends with the header's name (see header_context).
        name = context.rpartition(":")[2]
        secret = is_secret_header(name) or is_envelope(value)
        return keyring.encrypt(value, context) if secret else value

    for spec in STRINGS:
        transform_column(op.get_bind(), spec, encrypt_string)
    for spec in HEADERS:
        transform_column(op.get_bind(), spec, encrypt_header)


def downgrade() -> None:
    keyring = keyring_of(get_settings())

    def decrypt(value: str, context: str) -> str:
        return keyring.decrypt(value, context) if is_envelope(value) else value

    for spec in (*STRINGS, *HEADERS):
        transform_column(op.get_bind(), spec, decrypt)
    if _is_postgres():
        for spec, length in STRINGS.items():
            op.alter_column(
                spec.table, spec.column, type_=sa.String(length), existing_type=sa.Text()
            )
