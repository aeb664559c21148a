"""`python main.py doctor`: is this deployment ready? Settings, Redis, database, Inspector, SMTP, Graph token.

Each check is independent (one failing never hides the others), bounded by a timeout, and answers in one
line: what it found or what is wrong and what to do. Nothing is written: no email is sent, no message
either (the Graph check reads the phone number's id).
"""

from __future__ import annotations

import asyncio
import smtplib
import ssl
from collections.abc import Awaitable, Callable
from dataclasses import dataclass
from typing import IO, Any

import httpx
import sqlalchemy as sa

from adapters.email.smtp import SmtpConfig
from adapters.settings import Settings

DEV_SECRET = Settings().secret_key
GRAPH_VERSION = "v21.0"


@dataclass(frozen=True)
class Finding:
    name: str
    ok: bool
    detail: str
    skipped: bool = False


def check_settings(settings: Settings) -> Finding:
    problems = []
    live = settings.whatsapp_configured
    if settings.secret_key == DEV_SECRET or len(settings.secret_key) < 32:
        problems.append("SECRET_KEY is the development default or shorter than 32 characters")
    if live:
        for name, value in [("WHATSAPP_APP_SECRET", settings.whatsapp_app_secret),
                            ("WHATSAPP_VERIFY_TOKEN", settings.whatsapp_verify_token),
                            ("REDIS_URL", settings.redis_url),
                            ("INSPECTOR_API_BASE_URL", settings.inspector_api_base_url),
                            ("SMTP_HOST", settings.smtp_host)]:
            if not value:
                problems.append(f"{name} is empty (required in live mode)")
    if not settings.admin_token:
        problems.append("ADMIN_TOKEN is empty: reload, graph and stats are disabled")
    if settings.log_format not in ("json", "text"):
        problems.append(f"LOG_FORMAT must be json or text, not {settings.log_format!r}")
    if not settings.flows_path.exists():
        problems.append(f"FLOWS_PATH {settings.flows_path} does not exist")
    mode = "live" if live else "development (no WHATSAPP_TOKEN/WHATSAPP_PHONE_ID)"
    return Finding("settings", not problems, "; ".join(problems) or f"ok, {mode}")


async def check_redis(settings: Settings) -> Finding:
    if not settings.redis_url:
        return Finding("redis", not settings.whatsapp_configured, "REDIS_URL not set: embedded store, "
                       "state lost at exit", skipped=True)
    from redis.asyncio import Redis

    client = Redis.from_url(settings.redis_url, socket_timeout=3, socket_connect_timeout=3)
    try:
        await client.ping()
        info = await client.info("persistence")
        aof = bool(int(info.get("aof_enabled", 0)))
        if not aof:
            return Finding("redis", False, "reachable but AOF is off: set `appendonly yes` (the inbox and "
                           "conversations live in Redis)")
        return Finding("redis", True, "ok, AOF on")
    finally:
        await client.aclose()


async def check_database(settings: Settings) -> Finding:
    from adapters.accounts.database import AccountsDatabase

    database = AccountsDatabase.from_url(settings.database_url)
    try:
        def probe(session: Any) -> str | None:
            session.execute(sa.text("SELECT 1"))
            try:
                return session.execute(sa.text("SELECT version_num FROM alembic_version_accounts")).scalar()
            except sa.exc.DBAPIError:
                return None

        revision = await database.run(probe)
    finally:
        database.dispose()
    if revision is None:
        return Finding("database", False, "reachable but not migrated: run `python main.py db upgrade`")
    return Finding("database", True, f"ok, {database.engine.url.get_backend_name()} at revision {revision}")


async def check_inspector(settings: Settings) -> Finding:
    if not settings.inspector_api_base_url:
        return Finding("inspector", not settings.whatsapp_configured,
                       "INSPECTOR_API_BASE_URL not set: the embedded sandbox (fake data) answers", skipped=True)
    headers = {"Authorization": f"Bearer {settings.inspector_api_key}"} if settings.inspector_api_key else {}
    async with httpx.AsyncClient(base_url=settings.inspector_api_base_url.rstrip("/"), headers=headers,
                                 timeout=settings.inspector_timeout) as client:
        response = await client.get("/locations")
    if response.status_code in (401, 403):
        return Finding("inspector", False, f"answered {response.status_code}: check INSPECTOR_API_KEY")
    if response.status_code >= 400:
        return Finding("inspector", False, f"GET /locations answered {response.status_code}")
    return Finding("inspector", True, f"ok, GET /locations {response.status_code}")


def _smtp_login(config: SmtpConfig) -> str:
    context = ssl.create_default_context()
    client = (smtplib.SMTP_SSL(config.host, config.port, timeout=config.timeout, context=context)
              if config.tls == "ssl" else smtplib.SMTP(config.host, config.port, timeout=config.timeout))
    with client:
        client.ehlo()
        if config.tls == "starttls":
            client.starttls(context=context)
        if config.user:
            client.login(config.user, config.password)
    return f"ok, {config.host}:{config.port} ({config.tls}{', logged in' if config.user else ''})"


async def check_smtp(settings: Settings) -> Finding:
    if not settings.smtp_host:
        return Finding("smtp", not settings.whatsapp_configured, "SMTP_HOST not set: emails are printed to stdout",
                       skipped=True)
    try:
        config = SmtpConfig.from_settings(settings)
        return Finding("smtp", True, await asyncio.to_thread(_smtp_login, config))
    except smtplib.SMTPAuthenticationError:
        return Finding("smtp", False, "login refused: check SMTP_USER and SMTP_PASSWORD")
    except (smtplib.SMTPException, ValueError) as exc:
        return Finding("smtp", False, f"{type(exc).__name__}: {str(exc)[:120]}")


async def check_graph(settings: Settings) -> Finding:
    if not settings.whatsapp_configured:
        return Finding("whatsapp", True, "not configured (development mode)", skipped=True)
    base = settings.whatsapp_graph_url.rstrip("/")
    async with httpx.AsyncClient(timeout=10) as client:
        response = await client.get(f"{base}/{GRAPH_VERSION}/{settings.whatsapp_phone_id}",
                                    params={"fields": "id,display_phone_number,verified_name"},
                                    headers={"Authorization": f"Bearer {settings.whatsapp_token}"})
    if response.status_code == 200:
        body = response.json()
        return Finding("whatsapp", True, f"ok, token valid for {body.get('verified_name') or body.get('id')}")
    try:
        error = response.json().get("error", {})
    except ValueError:
        error = {}
    hint = "WHATSAPP_TOKEN expired or revoked" if error.get("code") == 190 else "check WHATSAPP_PHONE_ID and the token"
    return Finding("whatsapp", False, f"Graph answered {response.status_code} (code {error.get('code')}): {hint}")


async def _guard(name: str, check: Callable[[], Awaitable[Finding]], timeout: float) -> Finding:
    try:
        return await asyncio.wait_for(check(), timeout)
    except TimeoutError:
        return Finding(name, False, f"no answer within {timeout:.0f} s")
    except Exception as exc:  # a doctor reports; it does not crash on the illness it looks for
        return Finding(name, False, f"{type(exc).__name__}: {str(exc)[:160]}")


async def diagnose(settings: Settings, *, timeout: float = 10.0) -> list[Finding]:
    checks: list[tuple[str, Callable[[], Awaitable[Finding]]]] = [
        ("redis", lambda: check_redis(settings)), ("database", lambda: check_database(settings)),
        ("inspector", lambda: check_inspector(settings)), ("smtp", lambda: check_smtp(settings)),
        ("whatsapp", lambda: check_graph(settings)),
    ]
    found = await asyncio.gather(*(_guard(name, check, timeout) for name, check in checks))
    return [check_settings(settings), *found]


def report(findings: list[Finding], out: IO[str]) -> int:
    """Print one line per check; 0 when all pass, 1 otherwise."""
    width = max(len(f.name) for f in findings)
    for finding in findings:
        mark = "ok  " if finding.ok and not finding.skipped else ("skip" if finding.ok else "FAIL")
        out.write(f"[{mark}] {finding.name.ljust(width)}  {finding.detail}\n")
    failed = [f.name for f in findings if not f.ok]
    out.write(f"\n{len(failed)} problem(s): {', '.join(failed)}\n" if failed else "\nall checks passed\n")
    return 1 if failed else 0
