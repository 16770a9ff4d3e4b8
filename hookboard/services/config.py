"""What the services need from the settings, gathered once."""

from __future__ import annotations

from dataclasses import dataclass, field

from hookboard.net.guard import NetPolicy
from hookboard.settings import Settings, get_settings


@dataclass(frozen=True)
class ServiceConfig:
    """The settings this module enforces; `from_settings()` reads the process's."""

    policy: NetPolicy = field(default_factory=NetPolicy)
    max_body_bytes: int = 262_144
    max_schedules_per_user: int = 10_000
    default_timeout_seconds: float = 30.0
    excerpt_bytes: int = 65_536

    @classmethod
    def from_settings(cls, settings: Settings | None = None) -> ServiceConfig:
        settings = settings or get_settings()
        return cls(
            policy=NetPolicy.from_settings(settings),
            max_body_bytes=settings.max_webhook_body_bytes,
            max_schedules_per_user=settings.max_schedules_per_user,
            default_timeout_seconds=settings.default_timeout_seconds,
            excerpt_bytes=settings.response_excerpt_bytes,
        )
