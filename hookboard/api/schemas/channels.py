"""Request and response bodies of /notification-channels."""

from __future__ import annotations

from datetime import datetime
from typing import Annotated, Any, Literal

from pydantic import BaseModel, Field, StringConstraints

from hookboard.api.schemas.common import Flag, Name, Patch, Strict, Url
from hookboard.core.redaction import redact_channel_url
from hookboard.models import NotificationChannel

ChannelKindName = Literal["webhook", "email"]
Email = Annotated[str, StringConstraints(strip_whitespace=True, min_length=3, max_length=320)]


class ChannelCreate(Strict):
    name: Name
    kind: ChannelKindName = Field(
        description="webhook: a Slack-compatible JSON POST to `url`; email: to `email`."
    )
    url: Url | None = Field(None, description="webhook only: http(s) URL.")
    email: Email | None = Field(None, description="email only: the recipient.")
    enabled: Flag = True


class ChannelUpdate(Patch):
    """Only the fields given change; the kind is fixed."""

    NOT_NULL = frozenset({"name", "url", "email", "enabled"})

    name: Name | None = None
    url: Url | None = None
    email: Email | None = None
    enabled: Flag | None = None

    def to_changes(self) -> dict[str, Any]:
        return {name: getattr(self, name) for name in self.model_fields_set}


class ChannelPublic(BaseModel):
    id: int
    name: str
    kind: ChannelKindName
    url: str | None = Field(description="webhook only: scheme and host; the rest is masked.")
    email: str | None
    enabled: bool
    created_at: datetime
    updated_at: datetime

    @classmethod
    def of(cls, channel: NotificationChannel) -> ChannelPublic:
        public = cls.model_validate(channel, from_attributes=True)
        # The webhook URL is a bearer secret (Slack's, Discord's): scheme and host only.
        return public.model_copy(update={"url": redact_channel_url(channel.url)})


class ChannelPage(BaseModel):
    items: list[ChannelPublic]
    next_cursor: str | None


class ChannelTestResult(BaseModel):
    ok: bool = Field(description="True when the channel accepted the test alert.")
    error: str | None = Field(description="Why not, when it did not.")
