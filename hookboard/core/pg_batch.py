"""PostgreSQL statements that take a whole batch as one JSON document.

psycopg runs an executemany as one statement per row (~70 us of client CPU
each, measured, plus the server's per-statement work), and a multi-row VALUES
changes its text with the batch size, so it is parsed and planned again every
time. Here the batch is one parameter, a JSON array of rows serialised by the
standard library's C encoder, that the server unpacks with
`json_to_recordset`: one fixed statement text (psycopg prepares it once), one
round trip, and no per-value work in Python (psycopg's text dumping of arrays
escapes every string with a regex: slower still). The hot paths (ticker,
worker) use these on PostgreSQL; SQLite, in-process, keeps executemany.
"""

from __future__ import annotations

import json
from collections.abc import Iterable, Mapping, Sequence
from datetime import datetime

from sqlalchemy import Connection, TextClause, text

# (column name, PostgreSQL type) of each field in the batch's rows.
Columns = Sequence[tuple[str, str]]


def is_postgres(connection: Connection) -> bool:
    return connection.dialect.name == "postgresql"


def insert_rows(table: str, columns: Columns, *, suffix: str = "") -> TextClause:
    """INSERT INTO table (columns) SELECT them FROM the :rows batch, then `suffix`."""
    names = _names(columns)
    return text(f"INSERT INTO {table} ({names}) SELECT {names} FROM {_recordset(columns)} {suffix}")


def update_rows(
    table: str, key: tuple[str, str], columns: Columns, *, where: str = "", suffix: str = ""
) -> TextClause:
    """UPDATE table SET columns FROM the :rows batch WHERE the key matches [AND where],
    then `suffix` (a RETURNING clause, say)."""
    assignments = ", ".join(f'"{name}" = v."{name}"' for name, _ in columns)
    condition = f'{table}."{key[0]}" = v."{key[0]}"' + (f" AND {where}" if where else "")
    return text(
        f"UPDATE {table} SET {assignments} FROM {_recordset([key, *columns])}"
        f" WHERE {condition} {suffix}"
    )


def rows_param(rows: Iterable[Mapping]) -> dict[str, str]:
    """The bind parameters of these statements: the rows as one JSON array."""
    return {"rows": json.dumps(list(rows), default=_json_default, separators=(",", ":"))}


def _recordset(columns: Columns) -> str:
    fields = ", ".join(f'"{name}" {kind}' for name, kind in columns)
    return f"json_to_recordset(CAST(:rows AS json)) AS v({fields})"


def _names(columns: Columns) -> str:
    return ", ".join(f'"{name}"' for name, _ in columns)


def _json_default(value: object) -> str:
    if isinstance(value, datetime):
        return value.isoformat()  # aware UTC in, timestamptz out
    raise TypeError(f"{type(value).__name__} is not JSON serialisable")
