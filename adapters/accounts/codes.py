"""Link codes: generated with `secrets`, stored only as a salted HMAC, compared in constant time."""

from __future__ import annotations

import hashlib
import hmac
import re
import secrets
import uuid

CODE_DIGITS = 6
_CODE = re.compile(r"^\d{6}$")


def new_code() -> str:
    return f"{secrets.randbelow(10**CODE_DIGITS):0{CODE_DIGITS}d}"


def new_code_id() -> str:
    return uuid.uuid4().hex


def looks_like_code(text: str) -> bool:
    return bool(_CODE.match(text))


def hash_code(secret_key: str, *, code_id: str, phone: str, code: str) -> str:
    """HMAC-SHA256 keyed with SECRET_KEY, salted with the code's id and phone.

    Without the key a database dump does not reveal codes; the salt makes equal codes hash apart.
    """
    message = f"link-code\x00{code_id}\x00{phone}\x00{code}".encode()
    return hmac.new(secret_key.encode(), message, hashlib.sha256).hexdigest()


def code_matches(secret_key: str, *, code_id: str, phone: str, code: str, code_hash: str) -> bool:
    candidate = hash_code(secret_key, code_id=code_id, phone=phone, code=code)
    return hmac.compare_digest(candidate.encode(), code_hash.encode())


def pseudonym(secret_key: str, kind: str, value: str) -> str:
    """A keyed digest of a phone or email, for Redis keys that must not hold the raw value."""
    digest = hmac.new(secret_key.encode(), f"{kind}\x00{value}".encode(), hashlib.sha256).hexdigest()
    return digest[:32]
