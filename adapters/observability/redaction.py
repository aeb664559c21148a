"""Masking personal data and secrets in free text: the last line of defence before a log line leaves.

Our own code already masks what it logs (`adapters.privacy`), but third-party libraries do not: httpx
logs request URLs (`/users/by-email/agent%40example.com`), pywa logs whole bodies at DEBUG, uvicorn's access
log carries the webhook verify token in the query string, arq logs job arguments (phone numbers). So every
line is rewritten here, whoever wrote it:

- phone numbers (`+` and 7-15 digits, or 11-15 bare digits: WhatsApp ids) -> `+2348*******45`;
- emails, plain or URL-encoded -> `s***@example.com`;
- six-digit numbers standing alone (link codes) -> `******`;
- bearer tokens, and the values of query/JSON fields named like token, secret, key, password, code, signature;
- any configured secret value (WhatsApp token, app secret, API keys...) wherever it appears.

Every pattern has bounded repetition, so a hostile 100 KB line costs linear time.
"""

from __future__ import annotations

import re
from collections.abc import Iterable

from adapters.privacy import mask_email, mask_phone

MASK = "***"

_PHONE = re.compile(r"(?<![\w.%])(\+\d{7,15}|\d{11,15})(?![\w])")
_ENCODED_PHONE = re.compile(r"(?i)%2B(\d{7,15})(?![\w])")
_EMAIL = re.compile(r"(?<![\w.+-])([\w.+-]{1,64})(@|%40)([A-Za-z0-9-]{1,63}(?:\.[A-Za-z0-9-]{1,63}){1,8})")
_CODE = re.compile(r"(?<![\w.])\d{6}(?!\w)")
_BEARER = re.compile(r"(?i)\b(bearer|basic)\s+[A-Za-z0-9._~+/=-]{1,4096}")
_SENSITIVE = re.compile(r"(?i)token|secret|password|passwd|api[_-]?key|signature|code|otp|challenge")
# A key starts where a run of key characters starts (the look-behind), so each run is tried once: linear.
_QUERY_FIELD = re.compile(r"(?<![\w.-])([\w.-]{1,80})=([^&\s\"',;]{1,4096})")
_JSON_FIELD = re.compile(r"(['\"])([\w.-]{1,80})\1(\s{0,3}:\s{0,3})(['\"])([^'\"]{0,4096})\4")

class Redactor:
    """`redactor(text)` -> text with personal data and secrets masked. Secrets shorter than 6 are ignored."""

    def __init__(self, secrets: Iterable[str] = ()) -> None:
        self.secrets = sorted({s for s in secrets if s and len(s) >= 6}, key=len, reverse=True)

    def __call__(self, text: str) -> str:
        if not text:
            return text
        for secret in self.secrets:
            if secret in text:
                text = text.replace(secret, MASK)
        text = _BEARER.sub(lambda m: f"{m.group(1)} {MASK}", text)
        text = _QUERY_FIELD.sub(_query_field, text)
        text = _JSON_FIELD.sub(_json_field, text)
        text = _EMAIL.sub(_email, text)
        text = _ENCODED_PHONE.sub(lambda m: "%2B" + mask_phone(m.group(1))[1:], text)
        text = _PHONE.sub(lambda m: mask_phone(m.group(1)), text)
        return _CODE.sub("******", text)


def _query_field(match: re.Match[str]) -> str:
    return f"{match.group(1)}={MASK}" if _SENSITIVE.search(match.group(1)) else match.group(0)


def _json_field(match: re.Match[str]) -> str:
    if not _SENSITIVE.search(match.group(2)):
        return match.group(0)
    quote, key, colon, value_quote = match.group(1), match.group(2), match.group(3), match.group(4)
    return f"{quote}{key}{quote}{colon}{value_quote}{MASK}{value_quote}"


def _email(match: re.Match[str]) -> str:
    masked = mask_email(f"{match.group(1)}@{match.group(3)}")
    return masked.replace("@", match.group(2))


def settings_secrets(settings: object) -> list[str]:
    """The values in Settings that must never be printed, by field name."""
    names = ("whatsapp_token", "whatsapp_verify_token", "whatsapp_app_secret", "inspector_api_key", "smtp_password",
             "secret_key", "admin_token", "api_key", "metrics_token", "sentry_dsn")
    return [str(getattr(settings, name, "") or "") for name in names]
