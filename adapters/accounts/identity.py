"""Normalising what users type: E.164 phone numbers and email addresses."""

from __future__ import annotations

import re

_E164 = re.compile(r"^\+[1-9]\d{6,14}$")
# Deliberately simple: one @, no spaces, a dot in the domain. Inspector is the real authority.
_LABEL = r"[A-Za-z0-9](?:[A-Za-z0-9-]*[A-Za-z0-9])?"
_EMAIL = re.compile(rf"^[A-Za-z0-9.!#$%&'*+/=?^_`{{|}}~-]+@{_LABEL}(?:\.{_LABEL})+$")


def normalize_phone(phone: str) -> str:
    """`2348012345621`, `+234 801 234 5621` -> `+2348012345621`. WhatsApp ids come without the plus."""
    cleaned = re.sub(r"[\s().-]", "", phone or "")
    if cleaned.startswith("00"):
        cleaned = cleaned[2:]
    if not cleaned.startswith("+"):
        cleaned = "+" + cleaned
    if not _E164.match(cleaned):
        raise ValueError("phone number must be in E.164 form, like +2348012345678")
    return cleaned


def is_e164(phone: str) -> bool:
    return bool(_E164.match(phone or ""))


def normalize_email(email: str) -> str:
    cleaned = (email or "").strip().lower()
    if len(cleaned) > 320 or not _EMAIL.match(cleaned):
        raise ValueError("that does not look like an email address")
    return cleaned
