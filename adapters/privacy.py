"""Masking for log lines: no full phone number, email or code ever reaches a log."""

from __future__ import annotations


def mask_phone(phone: str | None) -> str:
    """`+2348012345621` -> `+2348*****21`: enough to tell users apart in a log, not to call them."""
    if not phone:
        return "?"
    digits = phone.lstrip("+")
    if len(digits) <= 6:
        return "+" + "*" * len(digits)
    return "+" + digits[:4] + "*" * (len(digits) - 6) + digits[-2:]


def mask_email(email: str | None) -> str:
    if not email or "@" not in email:
        return "?"
    local, _, domain = email.partition("@")
    return f"{local[:1]}***@{domain}"
