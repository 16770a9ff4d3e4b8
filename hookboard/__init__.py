"""Hookboard: a self-hostable cron for webhooks."""

__version__ = "0.1.0"
