"""Typed settings read from the environment (and an optional `.env` file).

Imports nothing from the rest of Hookboard, so every process (web, worker,
ticker, CLI, tests) can read its configuration the same way.
"""

from __future__ import annotations

import secrets
from functools import lru_cache
from pathlib import Path
from typing import Literal

from pydantic import Field, ValidationError, field_validator, model_validator
from pydantic_settings import BaseSettings, SettingsConfigDict

from hookboard.domain.host_allowlist import parse_host_allowlist
from hookboard.domain.limits import RANGES

PLACEHOLDER_SECRETS = {"", "changeme", "change-me", "secret", "please-change"}
SECRET_KEY_FILE = "secret_key"
# An ENCRYPTION_KEY is 32 random bytes in base64 (44 characters) or a passphrase this long.
MIN_ENCRYPTION_KEY_CHARS = 32


class SettingsError(RuntimeError):
    """A setting is missing or malformed; the message names the setting."""


class Settings(BaseSettings):
    """Every knob of Hookboard. Each field is documented in the README's settings table."""

    model_config = SettingsConfigDict(env_file=".env", extra="ignore", case_sensitive=False)

    environment: Literal["development", "production"] = Field(
        "development", description="`production` requires an explicit SECRET_KEY."
    )
    data_dir: Path = Field(Path("data"), description="Where the SQLite file and dev secret live.")
    database_url: str = Field("", description="SQLAlchemy URL; empty means SQLite in DATA_DIR.")
    redis_url: str = Field("redis://127.0.0.1:6379/0", description="Redis for queues and limits.")
    secret_key: str = Field("", description="Signs sessions; generated in development.")
    encryption_key: str = Field(
        "", description="Encrypts stored secrets; empty = a key derived from SECRET_KEY."
    )
    encryption_key_previous: str = Field(
        "", description="Comma-separated older keys that still decrypt, during a rotation."
    )

    port: int = Field(3000, ge=1, le=65535, description="Web port: dashboard and API.")

    retention_days: float = Field(7, gt=0, description="Runs and attempts older than this go.")
    retention_days_failed: float = Field(
        30, gt=0, description="Failed runs and their attempts older than this go."
    )
    audit_retention_days: float = Field(
        365, gt=0, description="Audit log events older than this go."
    )
    allow_private_targets: bool = Field(False, description="Allow every private address.")
    private_target_allowlist: str = Field(
        "", description="Comma-separated hosts or CIDRs (optional :port) allowed although private."
    )
    target_host_allowlist: str = Field(
        "",
        description="Comma-separated host patterns (*.example.com, host[:port]) webhooks may "
        "reach; empty = anywhere.",
    )
    response_excerpt_bytes: int = Field(65536, ge=0, le=10_485_760)
    default_timeout_seconds: float = Field(
        30, ge=RANGES["timeout_seconds"][0], le=RANGES["timeout_seconds"][1]
    )
    signing_secret_grace_hours: float = Field(24, ge=0)
    queue_name: str = Field("hookboard", description="RQ queue (and key prefix) name.")
    misfire_grace_seconds: float = Field(
        30, ge=0, description="A firing later than this counts as missed (misfire policy)."
    )
    lease_grace_seconds: float = Field(
        30, ge=1, description="Unfinished runs whose lease ran out are queued again."
    )
    ticker_max_idle_seconds: float = Field(
        2, gt=0, le=60, description="Longest ticker sleep when nothing is due (wake-ups cut it)."
    )
    delivery_batch_size: int = Field(100, ge=1, le=1000, description="Runs per RQ job.")
    worker_max_in_flight: int = Field(
        256, ge=1, le=10_000, description="Concurrent requests per worker process."
    )
    worker_http_clients: int = Field(
        1, ge=1, le=64, description="HTTP connection pools per worker process."
    )
    log_level: Literal["DEBUG", "INFO", "WARNING", "ERROR"] = "INFO"
    max_schedules_per_user: int = Field(
        10_000,
        ge=1,
        description="Schedules one workspace may have; creating more is refused (409).",
    )
    max_webhook_body_bytes: int = Field(
        262_144,
        ge=0,
        le=10_485_760,
        description="Largest request body a schedule, target or test delivery may send.",
    )
    max_workspaces_per_user: int = Field(
        20, ge=1, description="Workspaces one user may belong to; creating or joining more is 409."
    )
    max_members_per_workspace: int = Field(
        100, ge=1, description="Members one workspace may have; inviting or joining more is 409."
    )
    max_open_invitations_per_workspace: int = Field(
        50, ge=1, description="Unexpired invitations one workspace may hold; more is a 409."
    )
    invitation_ttl_hours: float = Field(
        72, gt=0, le=24 * 90, description="How long an invitation's link can be accepted."
    )
    session_ttl_hours: float = Field(
        24 * 14, gt=0, description="Lifetime of a login session token (dashboard or API)."
    )
    login_max_failures_per_email: int = Field(
        10, ge=1, description="Failed logins for one email per window before 429."
    )
    login_max_failures_per_ip: int = Field(
        50, ge=1, description="Failed logins from one client IP per window before 429."
    )
    login_failure_window_minutes: float = Field(
        15, gt=0, description="Window over which failed logins are counted."
    )
    trusted_proxy_hops: int = Field(
        0,
        ge=0,
        le=10,
        description="Reverse proxies in front of Hookboard whose X-Forwarded-For is trusted.",
    )
    signups_per_ip_per_hour: int = Field(
        10, ge=0, description="Sign-up attempts from one client IP per hour; 0 = unlimited."
    )
    rate_limit_per_minute: int = Field(
        600, ge=0, description="API requests per minute per API key or session; 0 = unlimited."
    )
    user_rate_limit_per_minute: int = Field(
        1200, ge=0, description="API requests per minute per workspace, all keys; 0 = unlimited."
    )
    cors_origins: str = Field(
        "", description="Comma-separated origins allowed to call the API; empty = same origin."
    )
    public_url: str = Field(
        "", description="Address users open Hookboard at; https:// turns on HSTS."
    )
    smtp_host: str = Field("", description="SMTP server for email alerts; empty = email off.")
    smtp_port: int = Field(587, ge=1, le=65535, description="SMTP server port.")
    smtp_username: str = Field("", description="SMTP login; empty = no authentication.")
    smtp_password: str = Field("", description="SMTP password.")
    smtp_from: str = Field("hookboard@localhost", description="From address of alert emails.")
    smtp_tls: Literal["starttls", "ssl", "none"] = Field(
        "starttls", description="starttls (upgrade), ssl (TLS from the start) or none."
    )
    alert_max_attempts: int = Field(
        8, ge=1, le=50, description="Tries per alert before it is given up."
    )
    alert_retry_base_seconds: float = Field(
        30, ge=0.1, le=3600, description="First alert retry delay; doubles each time (max 1 h)."
    )
    metrics_token: str = Field(
        "", description="Bearer token /metrics requires; empty = loopback only or METRICS_PUBLIC."
    )
    metrics_public: bool = Field(
        False, description="Serve /metrics without a token to every address, not only loopback."
    )
    max_request_body_bytes: int = Field(
        1_048_576,
        ge=1024,
        le=104_857_600,
        description="Largest HTTP request body the web process reads; more is a 413.",
    )

    @field_validator("redis_url")
    @classmethod
    def _redis_url_is_redis(cls, value: str) -> str:
        if not value.startswith(("redis://", "rediss://", "unix://")):
            raise ValueError("must start with redis://, rediss:// or unix://")
        return value

    @field_validator("target_host_allowlist")
    @classmethod
    def _host_patterns_parse(cls, value: str) -> str:
        parse_host_allowlist(value)  # cached: NetPolicy.from_settings reuses this parse
        return value

    @field_validator("encryption_key")
    @classmethod
    def _key_is_long_enough(cls, value: str) -> str:
        # Previous keys are not checked: one may be an old SECRET_KEY, whatever its length.
        if 0 < len(value.strip()) < MIN_ENCRYPTION_KEY_CHARS:
            raise ValueError(f"needs at least {MIN_ENCRYPTION_KEY_CHARS} characters")
        return value

    @field_validator("public_url")
    @classmethod
    def _public_url_is_http(cls, value: str) -> str:
        if value and not value.startswith(("http://", "https://")):
            raise ValueError("must start with https:// (or http://), or be empty")
        return value.rstrip("/")

    @property
    def served_over_https(self) -> bool:
        """Browsers reach Hookboard over https (PUBLIC_URL says so): HSTS is sent."""
        return self.public_url.startswith("https://")

    @model_validator(mode="after")
    def _production_needs_a_real_secret(self) -> Settings:
        if self.environment == "production" and self.secret_key.strip() in PLACEHOLDER_SECRETS:
            raise ValueError("SECRET_KEY: must be set to a random value in production")
        return self

    @property
    def effective_database_url(self) -> str:
        """The database URL with defaults and drivers filled in."""
        if not self.database_url:
            return f"sqlite:///{(self.data_dir / 'hookboard.db').resolve()}"
        return normalise_database_url(self.database_url)

    def encryption_keys(self) -> list[str]:
        """The key material, newest first: the first encrypts, every one decrypts."""
        current = self.encryption_key.strip() or self.effective_secret_key()
        return [current, *split_keys(self.encryption_key_previous)]

    def effective_secret_key(self) -> str:
        """SECRET_KEY, or in development one generated once and kept in DATA_DIR."""
        if self.secret_key:
            return self.secret_key
        path = self.data_dir / SECRET_KEY_FILE
        if not path.exists():
            self.data_dir.mkdir(parents=True, exist_ok=True)
            path.write_text(secrets.token_urlsafe(48))
            path.chmod(0o600)
        return path.read_text().strip()


def split_keys(value: str) -> list[str]:
    return [key.strip() for key in value.split(",") if key.strip()]


def normalise_database_url(url: str) -> str:
    """Point plain PostgreSQL URLs at psycopg 3, the driver we install."""
    for prefix in ("postgres://", "postgresql://"):
        if url.startswith(prefix):
            return "postgresql+psycopg://" + url[len(prefix) :]
    return url


def describe_validation_error(error: ValidationError) -> str:
    """One line per bad setting, named as the environment variable."""
    parts = []
    for item in error.errors():
        name = "_".join(str(p) for p in item["loc"]).upper()
        message = item["msg"].removeprefix("Value error, ")
        # Model-level checks already start their message with the setting's name.
        parts.append(f"{name}: {message}" if name else message)
    return "; ".join(parts)


@lru_cache
def get_settings() -> Settings:
    """The process-wide settings; raises SettingsError with a readable message."""
    try:
        return Settings()
    except ValidationError as error:
        raise SettingsError(describe_validation_error(error)) from None
