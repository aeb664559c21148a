"""The live-mode rule: with real WhatsApp credentials, never run on development defaults.

`serve` with WHATSAPP_TOKEN and WHATSAPP_PHONE_ID used to start, healthy, on fake demo listings (no
INSPECTOR_API_BASE_URL), link codes printed into the container log (no SMTP_HOST), an in-process store
lost at every restart (no REDIS_URL), unsigned forged webhooks accepted (empty WHATSAPP_APP_SECRET) and
`SECRET_KEY=x`. In live mode `serve` and `worker` now refuse to start and name every such setting at once.
The embedded defaults stay for `chat`, tests, and `serve` without WhatsApp credentials.
"""

from __future__ import annotations

from adapters.settings import Settings

#: SECRET_KEY keys the hashes of link codes and phone pseudonyms; shorter than this is guessable.
MIN_SECRET_KEY = 32


def is_live(settings: Settings) -> bool:
    """Live mode: replies go to real people through a real WhatsApp number."""
    return settings.whatsapp_configured


def live_mode_problems(settings: Settings) -> list[str]:
    """Every missing or weak setting that live mode forbids, each naming its env var; [] when fine
    (always [] outside live mode)."""
    if not is_live(settings):
        return []
    problems = []
    if not settings.whatsapp_app_secret:
        problems.append("WHATSAPP_APP_SECRET is empty: forged, unsigned webhooks would be processed. Set it to "
                        "the app secret (Meta app settings > Basic).")
    if not settings.whatsapp_verify_token:
        problems.append("WHATSAPP_VERIFY_TOKEN is empty: Meta cannot verify the webhook. Set any long random "
                        "string and give Meta the same one.")
    if not settings.redis_url:
        problems.append("REDIS_URL is empty: conversations, dedupe and jobs would live in process memory and be "
                        "lost at every restart. Set it, e.g. redis://redis:6379/0.")
    if not settings.inspector_api_base_url:
        problems.append("INSPECTOR_API_BASE_URL is empty: real people would be served fake demo listings. Set it "
                        "to Inspector's API (or run `python main.py sandbox` as its own service and point it there).")
    if not settings.smtp_host:
        problems.append("SMTP_HOST is empty: link codes would be printed into the logs instead of emailed. "
                        "Set SMTP_HOST (and SMTP_PORT, SMTP_USER, SMTP_PASSWORD, SMTP_FROM).")
    if settings.secret_key == Settings().secret_key:
        problems.append("SECRET_KEY is the development default: set a random key of at least "
                        f"{MIN_SECRET_KEY} characters (it keys the hashes of link codes).")
    elif len(settings.secret_key) < MIN_SECRET_KEY:
        problems.append(f"SECRET_KEY is {len(settings.secret_key)} characters: use a random key of at least "
                        f"{MIN_SECRET_KEY} (e.g. `python -c 'import secrets; print(secrets.token_urlsafe(48))'`).")
    return problems


def refuse_message(command: str, problems: list[str]) -> str:
    """What `serve`/`worker` print before exiting: why, then every problem on its own line."""
    lines = [f"`{command}` refuses to start: WHATSAPP_TOKEN and WHATSAPP_PHONE_ID are set (live mode), and:"]
    lines += [f"  - {problem}" for problem in problems]
    return "\n".join(lines)
