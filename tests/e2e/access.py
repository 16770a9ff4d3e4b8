"""The Access a workspace's owner acts with, for tests that call services directly."""

from __future__ import annotations

from sqlalchemy import Engine
from sqlmodel import Session, select

from hookboard.models import Membership
from hookboard.services import credentials
from hookboard.services.workspaces.permissions import Access


def owner_access(engine: Engine, workspace_id: int) -> Access:
    with Session(engine) as session:
        user_id = session.exec(
            select(Membership.user_id).where(
                Membership.workspace_id == workspace_id, Membership.role == "owner"
            )
        ).first()
        return credentials.member_access(
            session.connection(), user_id=user_id, workspace_id=workspace_id
        )
