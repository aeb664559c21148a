"""One settings object, built from the environment in one place and passed down explicitly."""

from __future__ import annotations

import os
from collections.abc import Mapping
from dataclasses import dataclass, field
from pathlib import Path


def _bool(value: str | None, default: bool = False) -> bool:
    if value is None or value == "":
        return default
    return value.strip().lower() in {"1", "true", "yes", "on"}


def _int(env: Mapping[str, str], name: str, default: int) -> int:
    raw = env.get(name)
    if raw is None or raw.strip() == "":
        return default
    try:
        return int(raw)
    except ValueError:
        raise ValueError(f"{name} must be an integer, got {raw!r}") from None


def _float(env: Mapping[str, str], name: str, default: float) -> float:
    raw = env.get(name)
    if raw is None or raw.strip() == "":
        return default
    try:
        return float(raw)
    except ValueError:
        raise ValueError(f"{name} must be a number, got {raw!r}") from None


@dataclass(frozen=True)
class Settings:
    """Every knob of the service. Empty strings mean "not configured": embedded defaults apply."""

    flows_path: Path = Path("flows.yaml")
    redis_url: str = ""
    database_url: str = "sqlite:///inspector-bot.db"
    conversation_ttl: int = 24 * 3600
    secret_key: str = "dev-secret-key-change-me"
    admin_token: str = ""
    log_level: str = "INFO"
    timezone: str = "Africa/Lagos"

    whatsapp_token: str = field(default="", repr=False)
    whatsapp_phone_id: str = ""
    whatsapp_verify_token: str = field(default="", repr=False)
    whatsapp_app_secret: str = field(default="", repr=False)
    whatsapp_graph_url: str = "https://graph.facebook.com"
    rate_limit_per_minute: int = 10
    dedupe_ttl: int = 7 * 24 * 3600
    pipeline_partitions: int = 16
    read_receipts: bool = True
    pipeline_concurrency: int = 8

    inspector_api_base_url: str = ""
    inspector_api_key: str = field(default="", repr=False)
    inspector_timeout: float = 5.0
    inspector_retries: int = 2
    sandbox_data: str = ""

    smtp_host: str = ""
    smtp_port: int = 0
    smtp_user: str = ""
    smtp_password: str = field(default="", repr=False)
    smtp_from: str = "Inspector <no-reply@inspector.example>"
    smtp_tls: str = ""

    daily_digest_hour: int = 7
    alerts_interval_hours: int = 2
    reminder_lead_hours: int = 24
    job_max_tries: int = 5

    @classmethod
    def from_env(cls, env: Mapping[str, str] | None = None) -> Settings:
        env = os.environ if env is None else env
        defaults = cls()
        return cls(
            flows_path=Path(env.get("FLOWS_PATH") or defaults.flows_path),
            redis_url=env.get("REDIS_URL", ""),
            database_url=env.get("DATABASE_URL") or defaults.database_url,
            conversation_ttl=_int(env, "CONVERSATION_TTL", defaults.conversation_ttl),
            secret_key=env.get("SECRET_KEY") or defaults.secret_key,
            admin_token=env.get("ADMIN_TOKEN", ""),
            log_level=env.get("LOG_LEVEL") or defaults.log_level,
            timezone=env.get("TIMEZONE") or defaults.timezone,
            whatsapp_token=env.get("WHATSAPP_TOKEN", ""),
            whatsapp_phone_id=env.get("WHATSAPP_PHONE_ID", ""),
            whatsapp_verify_token=env.get("WHATSAPP_VERIFY_TOKEN", ""),
            whatsapp_app_secret=env.get("WHATSAPP_APP_SECRET", ""),
            whatsapp_graph_url=env.get("WHATSAPP_GRAPH_URL") or defaults.whatsapp_graph_url,
            rate_limit_per_minute=_int(env, "RATE_LIMIT_PER_MINUTE", defaults.rate_limit_per_minute),
            dedupe_ttl=_int(env, "DEDUPE_TTL", defaults.dedupe_ttl),
            pipeline_partitions=max(1, _int(env, "PIPELINE_PARTITIONS", defaults.pipeline_partitions)),
            read_receipts=_bool(env.get("WHATSAPP_READ_RECEIPTS"), defaults.read_receipts),
            pipeline_concurrency=max(1, _int(env, "PIPELINE_CONCURRENCY", defaults.pipeline_concurrency)),
            inspector_api_base_url=env.get("INSPECTOR_API_BASE_URL", ""),
            inspector_api_key=env.get("INSPECTOR_API_KEY", ""),
            inspector_timeout=_float(env, "INSPECTOR_TIMEOUT", defaults.inspector_timeout),
            inspector_retries=_int(env, "INSPECTOR_RETRIES", defaults.inspector_retries),
            sandbox_data=env.get("SANDBOX_DATA", ""),
            smtp_host=env.get("SMTP_HOST", ""),
            smtp_port=_int(env, "SMTP_PORT", 0),
            smtp_user=env.get("SMTP_USER", ""),
            smtp_password=env.get("SMTP_PASSWORD", ""),
            smtp_from=env.get("SMTP_FROM") or defaults.smtp_from,
            smtp_tls=env.get("SMTP_TLS", ""),
            daily_digest_hour=_int(env, "DAILY_DIGEST_HOUR", defaults.daily_digest_hour),
            alerts_interval_hours=_int(env, "ALERTS_INTERVAL_HOURS", defaults.alerts_interval_hours),
            reminder_lead_hours=_int(env, "REMINDER_LEAD_HOURS", defaults.reminder_lead_hours),
            job_max_tries=_int(env, "JOB_MAX_TRIES", defaults.job_max_tries),
        )

    @property
    def whatsapp_configured(self) -> bool:
        return bool(self.whatsapp_token and self.whatsapp_phone_id)

    @property
    def smtp_configured(self) -> bool:
        return bool(self.smtp_host)
