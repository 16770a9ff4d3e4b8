"""Workspaces: the permission table, members, invitations and the audit log."""
