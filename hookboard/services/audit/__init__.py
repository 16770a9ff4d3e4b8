"""The audit log: who changed what, written in the change's own transaction.

`record(session, actor, action, ...)` adds the row to the caller's session and
never commits: the change and its row commit together or not at all.
"""

from hookboard.services.audit.recording import SYSTEM, Actor, record

__all__ = ["SYSTEM", "Actor", "record"]
