"""One settings object, built from the environment in one place and passed down explicitly.

`Settings` is a pydantic-settings model: every field is typed and validated, and its environment variable
is the field's name in capitals (`redis_url` <- `REDIS_URL`) unless an alias says otherwise. An empty
variable means "not configured": the default applies. `Settings(...)` never reads the environment by
itself (tests and tools build it explicitly); `Settings.from_env()` does, once, in the command line and
in each uvicorn worker, and reports every malformed variable at once, by name.
"""

from __future__ import annotations

import os
from collections.abc import Mapping
from pathlib import Path
from typing import Any

from pydantic import Field, ValidationError, field_validator
from pydantic_settings import BaseSettings, PydanticBaseSettingsSource, SettingsConfigDict


class SettingsError(ValueError):
    """Environment variables that could not be read, each named with what is wrong."""


class Settings(BaseSettings):
    """Every knob of the service. Empty strings mean "not configured": embedded defaults apply."""

    model_config = SettingsConfigDict(frozen=True, extra="ignore", populate_by_name=True)

    flows_path: Path = Path("flows.yaml")
    redis_url: str = ""
    database_url: str = "sqlite:///inspector-bot.db"
    conversation_ttl: int = 24 * 3600
    secret_key: str = Field(default="dev-secret-key-change-me", repr=False)
    admin_token: str = Field(default="", repr=False)
    api_key: str = Field(default="", repr=False)
    metrics_token: str = Field(default="", repr=False)
    link_codes_per_hour: int = 300
    link_guesses_per_hour: int = 1000
    log_level: str = "INFO"
    timezone: str = "Africa/Lagos"

    whatsapp_token: str = Field(default="", repr=False)
    whatsapp_phone_id: str = ""
    whatsapp_verify_token: str = Field(default="", repr=False)
    whatsapp_app_secret: str = Field(default="", repr=False)
    whatsapp_graph_url: str = "https://graph.facebook.com"
    rate_limit_per_minute: int = 10
    dedupe_ttl: int = 7 * 24 * 3600
    webhook_max_body: int = 3 * 1024 * 1024
    webhook_body_budget: int = 64 * 1024 * 1024
    http_header_timeout: float = 10.0
    http_body_timeout: float = 30.0
    http_keep_alive_timeout: int = 5
    http_limit_concurrency: int = 500
    http_max_header_bytes: int = 16 * 1024
    pipeline_partitions: int = Field(default=16, ge=1)
    read_receipts: bool = Field(default=True, alias="WHATSAPP_READ_RECEIPTS")
    pipeline_concurrency: int = Field(default=8, ge=1)

    inspector_api_base_url: str = ""
    inspector_api_key: str = Field(default="", repr=False)
    inspector_timeout: float = 5.0
    inspector_retries: int = 2
    sandbox_data: str = ""

    smtp_host: str = ""
    smtp_port: int = 0
    smtp_user: str = ""
    smtp_password: str = Field(default="", repr=False)
    smtp_from: str = "Inspector <no-reply@inspector.example>"
    smtp_tls: str = ""

    daily_digest_hour: int = 7
    alerts_interval_hours: int = 2
    reminder_lead_hours: int = 24
    booking_sweep_days: int = Field(default=60, ge=1)
    job_max_tries: int = 5

    log_format: str = "text"
    sentry_dsn: str = Field(default="", repr=False)
    sentry_environment: str = "production"
    alert_email: str = ""
    alert_phones: str = ""
    alert_throttle_seconds: int = 1800
    prometheus_multiproc_dir: str = ""
    broadcast_rate: float = 80.0

    @field_validator("log_format", mode="before")
    @classmethod
    def _lower(cls, value: Any) -> Any:
        return value.strip().lower() if isinstance(value, str) else value

    @classmethod
    def settings_customise_sources(
        cls,
        settings_cls: type[BaseSettings],
        init_settings: PydanticBaseSettingsSource,
        env_settings: PydanticBaseSettingsSource,
        dotenv_settings: PydanticBaseSettingsSource,
        file_secret_settings: PydanticBaseSettingsSource,
    ) -> tuple[PydanticBaseSettingsSource, ...]:
        """Only what the caller passes: the environment is read by `from_env`, in one place."""
        return (init_settings,)

    @classmethod
    def env_names(cls) -> dict[str, str]:
        """Field name -> its environment variable."""
        return {name: (info.alias or name).upper() for name, info in cls.model_fields.items()}

    @classmethod
    def from_env(cls, env: Mapping[str, str] | None = None) -> Settings:
        """Settings from `env` (default: os.environ); raises SettingsError naming every bad variable."""
        env = os.environ if env is None else env
        names = cls.env_names()
        values = {field: env[var].strip() for field, var in names.items() if (env.get(var) or "").strip()}
        try:
            return cls.model_validate(values)
        except ValidationError as exc:
            by_key = {**names, **{info.alias: names[f] for f, info in cls.model_fields.items() if info.alias}}
            problems = []
            for error in exc.errors():
                key = str(error["loc"][0]) if error["loc"] else ""
                var = by_key.get(key, key)
                field = next((f for f, v in names.items() if v == var), key)
                problems.append(f"{var}={values.get(field, '')!r}: {error['msg']}")
            raise SettingsError("; ".join(problems)) from None

    @property
    def whatsapp_configured(self) -> bool:
        return bool(self.whatsapp_token and self.whatsapp_phone_id)

    @property
    def smtp_configured(self) -> bool:
        return bool(self.smtp_host)

    @property
    def alert_phone_list(self) -> list[str]:
        """ALERT_PHONES is comma-separated E.164 numbers."""
        return [p.strip() for p in self.alert_phones.split(",") if p.strip()]
