from pathlib import Path

import pytest

from hookboard.settings import Settings, SettingsError, get_settings, normalise_database_url


def test_defaults_put_sqlite_under_the_data_dir(tmp_path, monkeypatch):
    monkeypatch.delenv("DATABASE_URL", raising=False)
    settings = Settings(data_dir=tmp_path)
    assert settings.effective_database_url == f"sqlite:///{tmp_path / 'hookboard.db'}"
    assert settings.retention_days == 7
    assert settings.allow_private_targets is False
    assert settings.port == 3000


def test_it_generates_and_keeps_a_secret_key_in_development(tmp_path):
    first = Settings(data_dir=tmp_path, secret_key="").effective_secret_key()
    again = Settings(data_dir=tmp_path, secret_key="").effective_secret_key()
    assert len(first) >= 40
    assert first == again
    assert oct((tmp_path / "secret_key").stat().st_mode)[-3:] == "600"


def test_production_refuses_a_missing_secret_key(monkeypatch):
    monkeypatch.setenv("ENVIRONMENT", "production")
    monkeypatch.delenv("SECRET_KEY", raising=False)
    get_settings.cache_clear()
    with pytest.raises(SettingsError, match="SECRET_KEY"):
        get_settings()
    get_settings.cache_clear()


def test_production_accepts_a_real_secret_key():
    settings = Settings(environment="production", secret_key="x" * 40, data_dir=Path("/tmp"))
    assert settings.effective_secret_key() == "x" * 40


def test_a_malformed_redis_url_names_the_setting(monkeypatch):
    monkeypatch.setenv("REDIS_URL", "http://localhost:6379")
    get_settings.cache_clear()
    with pytest.raises(SettingsError, match=r"^REDIS_URL: must start with redis://"):
        get_settings()
    get_settings.cache_clear()


def test_a_bad_port_names_the_setting(monkeypatch):
    monkeypatch.setenv("PORT", "99999")
    get_settings.cache_clear()
    with pytest.raises(SettingsError, match=r"^PORT: "):
        get_settings()
    get_settings.cache_clear()


@pytest.mark.parametrize(
    ("url", "expected"),
    [
        ("postgresql://u@h/db", "postgresql+psycopg://u@h/db"),
        ("postgres://u@h/db", "postgresql+psycopg://u@h/db"),
        ("postgresql+psycopg://u@h/db", "postgresql+psycopg://u@h/db"),
        ("sqlite:///x.db", "sqlite:///x.db"),
    ],
)
def test_postgres_urls_use_psycopg3(url, expected):
    assert normalise_database_url(url) == expected


def test_a_short_encryption_key_names_the_setting(monkeypatch):
    monkeypatch.setenv("ENCRYPTION_KEY", "too short")
    get_settings.cache_clear()
    try:
        with pytest.raises(SettingsError, match="ENCRYPTION_KEY: needs at least 32 characters"):
            get_settings()
    finally:
        get_settings.cache_clear()


def test_encryption_keys_default_to_secret_key_and_list_previous_ones(tmp_path):
    derived = Settings(data_dir=tmp_path, secret_key="s" * 40)
    assert derived.encryption_keys() == ["s" * 40]
    explicit = Settings(
        data_dir=tmp_path,
        secret_key="s" * 40,
        encryption_key="e" * 32,
        encryption_key_previous=" old-secret-key , " + "p" * 44,
    )
    assert explicit.encryption_keys() == ["e" * 32, "old-secret-key", "p" * 44]
