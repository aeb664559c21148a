"""Reading what the user typed: normalised keywords and typed captures (email, code, number, date...).

Every matcher here runs on untrusted text in time linear in its length: an unanchored regex with an
unbounded run (the old `EMAIL.search`) was quadratic, 19 s on a 100 KB message with the event loop
stuck. Emails are found from each `@` outwards over bounded windows instead.
"""

from __future__ import annotations

import math
import re
import unicodedata
from datetime import date, datetime, timedelta
from typing import Any

_SPACES = re.compile(r"\s+")
#: Edge punctuation `normalize` drops (whitespace is already one space there); a leading `/` too (`/help`).
_TRAIL_PUNCT = " !.,;:?¿¡\"'()[]-"
_LEAD_PUNCT = _TRAIL_PUNCT + "/"
_LOCAL_CHARS = frozenset("abcdefghijklmnopqrstuvwxyzABCDEFGHIJKLMNOPQRSTUVWXYZ0123456789._%+'-")
_DOMAIN = re.compile(r"[A-Za-z0-9-]{1,63}(?:\.[A-Za-z0-9-]{1,63}){0,8}\.[A-Za-z]{2,63}")
_MAX_LOCAL, _MAX_DOMAIN = 64, 255
_NUMBER = re.compile(r"(\d+(?:[.,]\d+)*)\s*(k|m|mn|million|thousand|b|bn|billion)?\b", re.I)
_WEEKDAYS = ["monday", "tuesday", "wednesday", "thursday", "friday", "saturday", "sunday"]
_MONTHS = ["jan", "feb", "mar", "apr", "may", "jun", "jul", "aug", "sep", "oct", "nov", "dec"]
MAX_TEXT = 1000
#: WhatsApp's own limit on a text message; the webhook cuts there, and the matchers never look further.
MAX_INPUT = 4096
#: The largest number a typed answer may be (a quadrillion naira; 64-bit integers and JSON's doubles hold it).
MAX_NUMBER = 10**15


def normalize(text: str) -> str:
    """Case-, accent- and punctuation-insensitive form: `  Ménu! ` -> `menu`, `/Help` -> `help`."""
    plain = text[:MAX_INPUT]
    if not plain.isascii():  # ASCII has nothing to decompose and no combining marks: most texts skip this
        plain = "".join(ch for ch in unicodedata.normalize("NFKD", plain) if not unicodedata.combining(ch))
    plain = _SPACES.sub(" ", plain.casefold())
    # str.strip, not a `[...]+$` regex: that one retries from every position of a long punctuation run.
    return plain.lstrip(_LEAD_PUNCT).rstrip(_TRAIL_PUNCT)


def capture(kind: str, text: str, *, digits: int = 6, today: date | None = None) -> Any:
    """Parse `text` as `kind`; None when it is not one."""
    text = text[:MAX_INPUT].strip()
    if not text:
        return None
    if kind == "email":
        return find_email(text)
    if kind == "code":
        return parse_code(text, digits)
    if kind == "number":
        return parse_number(text)
    if kind == "date":
        return parse_date(text, today or date.today())
    if kind == "time":
        return parse_time(text)
    if kind == "text":
        return text[:MAX_TEXT]
    raise ValueError(f"unknown capture kind {kind!r}")


def find_email(text: str) -> str | None:
    """The first address in `text`, lowercased, in linear time: each `@` is looked at over bounded windows
    (64 characters of local part before it, 255 of domain after it), never by a regex scan from every start."""
    at = text.find("@")
    while at != -1:
        start = at
        while start > 0 and at - start < _MAX_LOCAL and text[start - 1] in _LOCAL_CHARS:
            start -= 1
        if start < at:
            domain = _DOMAIN.match(text, at + 1, min(len(text), at + 1 + _MAX_DOMAIN))
            if domain:
                return text[start:domain.end()].lower()
        at = text.find("@", at + 1)
    return None


def parse_code(text: str, digits: int) -> str | None:
    compact = re.sub(r"[\s-]", "", text)
    if compact.isdigit() and len(compact) == digits and compact.isascii():
        return compact
    found = re.findall(rf"(?<!\d)\d{{{digits}}}(?!\d)", text)
    return found[0] if len(found) == 1 and found[0].isascii() else None


def parse_number(text: str) -> int | float | None:
    """`₦5,000,000`, `5m`, `2.5 million`, `450k` -> numbers; anything else, or beyond ±MAX_NUMBER -> None."""
    cleaned = text.replace("₦", "").replace("NGN", "").replace("ngn", "").strip()
    found = _NUMBER.fullmatch(cleaned) or _NUMBER.fullmatch(cleaned.replace(" ", ""))
    if not found or not found.group(1).isascii():
        return None
    raw = found.group(1)
    if raw.count(",") and not raw.count("."):
        raw = raw.replace(",", "")
    elif raw.count(",") == 1 and raw.count(".") == 0:
        raw = raw.replace(",", ".")
    else:
        raw = raw.replace(",", "")
    try:
        value = float(raw)
    except ValueError:
        return None
    scale = {"k": 1e3, "thousand": 1e3, "m": 1e6, "mn": 1e6, "million": 1e6, "b": 1e9, "bn": 1e9,
             "billion": 1e9}.get((found.group(2) or "").lower(), 1)
    value *= scale
    if not math.isfinite(value) or abs(value) > MAX_NUMBER:
        return None  # 1e400 is infinite, 2e19 does not fit the stored conversation's 64-bit integers
    return int(value) if value.is_integer() else value


def parse_date(text: str, today: date) -> str | None:
    """ISO, `25/12/2026`, `25/12`, `today`, `tomorrow`, `friday`, `1 dec` -> `YYYY-MM-DD`."""
    word = normalize(text)
    if word == "today":
        return today.isoformat()
    if word == "tomorrow":
        return (today + timedelta(days=1)).isoformat()
    if word in _WEEKDAYS or word[:3] in [d[:3] for d in _WEEKDAYS] and len(word) <= 9 and word.isalpha():
        target = [d[:3] for d in _WEEKDAYS].index(word[:3])
        ahead = (target - today.weekday()) % 7 or 7
        return (today + timedelta(days=ahead)).isoformat()
    try:
        return date.fromisoformat(word).isoformat()
    except ValueError:
        pass
    found = re.fullmatch(r"(\d{1,2})[/.-](\d{1,2})(?:[/.-](\d{2,4}))?", word)
    if found:
        day, month = int(found.group(1)), int(found.group(2))
        year = int(found.group(3)) if found.group(3) else today.year
        year += 2000 if year < 100 else 0
        return _safe_date(year, month, day, today, explicit_year=bool(found.group(3)))
    found = re.fullmatch(r"(\d{1,2})(?:st|nd|rd|th)? ([a-z]{3})[a-z]*(?: (\d{4}))?", word) or None
    if found:
        day_text, month_name, year_text = found.groups()
    else:
        found = re.fullmatch(r"([a-z]{3})[a-z]* (\d{1,2})(?:st|nd|rd|th)?(?: (\d{4}))?", word)
        if not found:
            return None
        month_name, day_text, year_text = found.groups()
    if month_name not in _MONTHS:
        return None
    year = int(year_text) if year_text else today.year
    return _safe_date(year, _MONTHS.index(month_name) + 1, int(day_text), today, explicit_year=bool(year_text))


def _safe_date(year: int, month: int, day: int, today: date, explicit_year: bool) -> str | None:
    try:
        value = date(year, month, day)
    except ValueError:
        return None
    if not explicit_year and value < today:
        try:
            value = date(year + 1, month, day)
        except ValueError:
            return None
    return value.isoformat()


def parse_time(text: str) -> str | None:
    """`10:30`, `10am`, `2:30 pm`, `14h` -> `HH:MM`."""
    word = normalize(text).replace(" ", "")
    found = re.fullmatch(r"(\d{1,2})(?:[:.h](\d{2}))?h?(am|pm)?", word)
    if not found:
        return None
    hour, minute = int(found.group(1)), int(found.group(2) or 0)
    if found.group(3):
        if not 1 <= hour <= 12:
            return None
        hour = hour % 12 + (12 if found.group(3) == "pm" else 0)
    elif found.group(2) is None and not word.endswith("h"):
        return None
    if hour > 23 or minute > 59:
        return None
    return f"{hour:02d}:{minute:02d}"


def now_iso(moment: datetime) -> str:
    return moment.isoformat(timespec="seconds")
