"""Encrypted columns row by row: re-encrypt them in batches, check that the keys open them.

Works on the raw stored values (a plain table, not the encrypting column
types), so it can encrypt plaintext (the migration), move envelopes to the
newest key (rotation) or decrypt them (the downgrade) with one walk.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass

from sqlalchemy import JSON, Connection, Engine, Text, bindparam, column, func, select, table

from hookboard.core.crypto import ENCRYPTED_COLUMNS, EncryptedColumn, header_context
from hookboard.domain.crypto import KEY_ID_CHARS, PREFIX, DecryptionError, Keyring

# value, context -> the value to store (the same object when nothing changes)
Transform = Callable[[str, str], str]


@dataclass
class Counts:
    examined: int = 0
    changed: int = 0


def _raw_table(spec: EncryptedColumn):
    kind = JSON if spec.kind == "headers" else Text
    return table(spec.table, column("id"), column(spec.column, kind))


def _transform_value(spec: EncryptedColumn, value, transform: Transform):
    if value is None:
        return None
    if spec.kind == "string":
        return transform(value, spec.context)
    return {
        name: transform(item, header_context(spec.table, name)) if isinstance(item, str) else item
        for name, item in value.items()
    }


def transform_batch(
    connection: Connection,
    spec: EncryptedColumn,
    transform: Transform,
    *,
    after_id: int,
    batch_size: int,
    counts: Counts,
) -> int | None:
    """Rewrite the next batch of rows after ``after_id``; the last id seen, None at the end.

    The rows are locked while they are rewritten (PostgreSQL; SQLite's writer
    lock does it), so a concurrent edit is never overwritten with older data."""
    raw = _raw_table(spec)
    value_column = raw.c[spec.column]
    rows = connection.execute(
        select(raw.c.id, value_column)
        .where(raw.c.id > after_id)
        .order_by(raw.c.id)
        .limit(batch_size)
        .with_for_update()
    ).all()
    if not rows:
        return None
    changed = []
    for row_id, value in rows:
        new = _transform_value(spec, value, transform)
        if new != value:
            changed.append({"b_id": row_id, "b_value": new})
    if changed:
        connection.execute(
            raw.update()
            .where(raw.c.id == bindparam("b_id"))
            .values({value_column: bindparam("b_value")}),
            changed,
        )
    counts.examined += len(rows)
    counts.changed += len(changed)
    return rows[-1][0]


def transform_column(
    connection: Connection, spec: EncryptedColumn, transform: Transform, batch_size: int = 500
) -> Counts:
    """Every row of the column, in batches, within the caller's transaction (migrations)."""
    counts, after_id = Counts(), 0
    while (
        after_id := transform_batch(
            connection, spec, transform, after_id=after_id, batch_size=batch_size, counts=counts
        )
    ) is not None:
        pass
    return counts


def rotate_column(
    engine: Engine, spec: EncryptedColumn, keyring: Keyring, batch_size: int
) -> Counts:
    """Moves the column to the newest key, one short transaction per batch.

    Resumable and idempotent: rows already under the newest key are left alone,
    so an interrupted rotation simply runs again."""
    counts, after_id = Counts(), 0
    while after_id is not None:
        with engine.begin() as connection:
            after_id = transform_batch(
                connection,
                spec,
                keyring.reencrypt,
                after_id=after_id,
                batch_size=batch_size,
                counts=counts,
            )
    return counts


def stored_key_ids(connection: Connection, spec: EncryptedColumn) -> list[str]:
    """The ids of the keys a string column's values were written with."""
    raw = _raw_table(spec)
    value = raw.c[spec.column]
    key_id = func.substr(value, len(PREFIX) + 1, KEY_ID_CHARS)
    query = select(key_id).where(value.like(PREFIX + "%")).distinct()
    return sorted(connection.execute(query).scalars())


def undecryptable_key_id(connection: Connection, keyring: Keyring) -> str | None:
    """The id of a stored key the keyring cannot open, or None when it opens them all.

    Checks the small string columns: every key id in use, and one value per
    key id really decrypted (a matching id alone could be a collision)."""
    for spec in ENCRYPTED_COLUMNS:
        if spec.kind != "string":
            continue
        raw = _raw_table(spec)
        value = raw.c[spec.column]
        for key_id in stored_key_ids(connection, spec):
            sample = connection.execute(
                select(value).where(value.like(f"{PREFIX}{key_id}:%")).limit(1)
            ).scalar_one()
            try:
                keyring.decrypt(sample, spec.context)
            except DecryptionError:
                return key_id
    return None


def wrong_key_message(key_id: str, keyring: Keyring) -> str:
    return (
        f"ENCRYPTION_KEY: does not decrypt the stored secrets (key id {key_id}; configured:"
        f" {', '.join(keyring.key_ids)}); set ENCRYPTION_KEY or ENCRYPTION_KEY_PREVIOUS"
        " to the key they were written with"
    )
