"""The dashboard's per-event session lookup records "last used" at most once a
minute, in its own short transaction, on both databases."""

from __future__ import annotations

import threading
from datetime import UTC, datetime, timedelta

from sqlmodel import Session, select

from hookboard.domain.tokens import new_session_token
from hookboard.models import AuthSession, User
from hookboard.services import crud
from hookboard.services.dashboard import session_access


def _session_token(engine) -> str:
    issued = new_session_token()
    with Session(engine) as session:
        user = User(email="touch@example.com", password_hash="x")
        session.add(user)
        session.flush()
        crud.create_workspace(session, name="Personal", owner_id=user.id, personal=True)
        expires = datetime.now(UTC) + timedelta(days=1)
        session.add(AuthSession(user_id=user.id, token_hash=issued.token_hash, expires_at=expires))
        session.commit()
    return issued.token


def _last_used(engine) -> datetime | None:
    with Session(engine) as session:
        return session.exec(select(AuthSession.last_used_at)).one()


def test_the_dashboard_lookup_touches_a_session_once_a_minute(engine):
    token = _session_token(engine)
    start = datetime.now(UTC)

    def look_up(now: datetime):
        """As the dashboard does: a session on the write engine, one lookup. In a
        daemon thread, so that a deadlock fails the test instead of hanging it."""
        found = []

        def work():
            with Session(engine, expire_on_commit=False) as session:
                found.append(session_access(session, token=token, now=now))

        thread = threading.Thread(target=work, daemon=True)
        thread.start()
        thread.join(timeout=10)
        assert found, "the lookup did not finish (waiting on its own write lock?)"
        return found[0]

    assert look_up(start) is not None
    assert _last_used(engine) == start
    assert look_up(start + timedelta(seconds=30)) is not None
    assert _last_used(engine) == start
    later = start + timedelta(seconds=61)
    assert look_up(later) is not None
    assert _last_used(engine) == later
