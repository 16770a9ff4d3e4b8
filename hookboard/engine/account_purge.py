"""Deleting a closed account's rows, a small batch per short transaction.

Closing an account (services.accounts.closing) stops it at once: sign-ins,
keys and deliveries. Its rows are then deleted here: first by the request that
closed it, for a moment, then by every ticker's housekeeping until none is
left. A large account never holds a lock for long, several tickers can purge
side by side (a batch that lost the race deletes nothing), and a purge cut
short by a crash is taken up again on the next pass.
"""

from __future__ import annotations

import time

from sqlalchemy import Engine, Table, delete, select

from hookboard.models import Alert, Attempt, NotificationChannel, Run, Schedule, Target, User

BATCH_SIZE = 1000
MAX_ACCOUNTS_PER_PASS = 10
users = User.__table__
# The tables that can hold many rows of one user, children first. What is left
# (sessions, keys, secrets) is a handful of rows and goes with the user's row.
_BY_USER: tuple[Table, ...] = tuple(
    model.__table__ for model in (Attempt, Alert, Run, Schedule, Target, NotificationChannel)
)


def purge_closed_accounts(engine: Engine, *, deadline: float | None = None) -> int:
    """Purge accounts that were closed; returns how many are gone completely."""
    with engine.connect() as connection:
        closed = connection.execute(
            select(users.c.id).where(users.c.is_active.is_(False)).limit(MAX_ACCOUNTS_PER_PASS)
        ).scalars()
        user_ids = list(closed)
    return sum(purge_account(engine, user_id, deadline=deadline) for user_id in user_ids)


def purge_account(engine: Engine, user_id: int, *, deadline: float | None = None) -> bool:
    """Delete a closed account's rows until done (True) or past `deadline`, a
    time.monotonic() instant (False: the rest is left to the next pass)."""
    for table in _BY_USER:
        while True:
            if deadline is not None and time.monotonic() >= deadline:
                return False
            if _delete_batch(engine, table, user_id) < BATCH_SIZE:
                break
    with engine.begin() as connection:
        # Only a closed account: a guard against a wrong id, never a live user.
        connection.execute(delete(users).where(users.c.id == user_id, users.c.is_active.is_(False)))
    return True


def _delete_batch(engine: Engine, table: Table, user_id: int) -> int:
    batch = (
        select(table.c.id).where(table.c.user_id == user_id).order_by(table.c.id).limit(BATCH_SIZE)
    )
    with engine.begin() as connection:
        return connection.execute(delete(table).where(table.c.id.in_(batch))).rowcount
