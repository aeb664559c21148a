"""Decoding Meta's webhook bodies: every entry, change, message and status, nothing trusted blindly.

pywa only parses the first message of a body and drops payloads it does not expect, so bodies are
read here. Every message becomes an `InboundEvent`; every status a `StatusUpdate`. A malformed part
is logged and skipped: it never stops the other messages of the same body.

Signed is not the same as well-formed. A `from` that is no phone number, a timestamp of `1e300` or a
lone surrogate in a profile name used to pass here and fail later, in the database or in Redis, four
times over and then into the dead letters, for every message of that user. So each field is checked
here: what can be normalised is (phones to digits, texts cut to WhatsApp's 4096 characters, lone
surrogates and NULs replaced, impossible timestamps dropped), and what cannot is dropped and counted
by reason in `WebhookBody.dropped`, never retried.
"""

from __future__ import annotations

import logging
import math
import re
from collections import Counter
from collections.abc import Iterator, Mapping
from dataclasses import dataclass, field
from typing import Any

from adapters.privacy import mask_phone
from engine.events import EventKind, InboundEvent

log = logging.getLogger(__name__)

_MESSAGE_KEYS = {"from", "id", "timestamp", "type", "context", "from_user_id", "errors", "referral"}
_VALUE_KEYS = {"messaging_product", "metadata", "contacts", "messages", "statuses", "errors"}
OBJECT = "whatsapp_business_account"
#: WhatsApp's limits: a text message is at most 4096 characters, a reply id 256, a title 24 (we allow more).
MAX_TEXT, MAX_ID, MAX_TITLE, MAX_NAME = 4096, 256, 256, 256
#: A message id (wamid) is about 60 characters; anything much longer is not Meta's.
MAX_WAMID = 512
#: Timestamps outside 2000-01-01 .. 2100-01-01 are not Meta's; the event is kept without one.
_EARLIEST, _LATEST = 946_684_800.0, 4_102_444_800.0
_PHONE_PUNCT = re.compile(r"[\s+().-]")
_USER_ID = re.compile(r"[A-Za-z]{2}\.[A-Za-z0-9_-]{1,128}")
_UNSAFE = re.compile(r"[\ud800-\udfff\x00]")


@dataclass(frozen=True, slots=True)
class StatusUpdate:
    """Meta's report on a message we sent: sent, delivered, read or failed (with Meta's error)."""

    wamid: str
    status: str
    recipient: str
    timestamp: float | None = None
    error_code: int | None = None
    error_title: str = ""
    error_detail: str = ""


@dataclass(slots=True)
class WebhookBody:
    """Everything usable in one webhook body, in the order Meta listed it."""

    events: list[InboundEvent] = field(default_factory=list)
    statuses: list[StatusUpdate] = field(default_factory=list)
    skipped: int = 0
    #: What was left out, by reason ("object", "message:sender", "status:invalid", ...), for the counters.
    dropped: Counter[str] = field(default_factory=Counter)


class Invalid(ValueError):
    """A field that cannot be normalised; the message is dropped under `reason`."""

    def __init__(self, reason: str) -> None:
        super().__init__(reason)
        self.reason = reason


def parse_body(body: Any) -> WebhookBody:
    """Read every message and status of a decoded webhook body. Never raises."""
    out = WebhookBody()
    if not isinstance(body, Mapping):
        log.warning("webhook body is not a JSON object (%s); ignored", type(body).__name__)
        out.dropped["not_an_object"] += 1
        return out
    if body.get("object") != OBJECT:
        log.warning("webhook body for object %r, not %s; ignored", _short(body.get("object")), OBJECT)
        out.dropped["object"] += 1
        return out
    for value in _change_values(body):
        contacts = _contacts_by_id(value.get("contacts"))
        for raw in _list(value.get("messages")):
            try:
                event = parse_message(raw, contacts)
                if event is None:
                    out.dropped["message:incomplete"] += 1  # no sender or no id: nothing to answer
            except Invalid as exc:
                log.warning("dropping a message with an invalid %s (type=%s)", exc.reason, _type_of(raw))
                out.dropped[f"message:{exc.reason}"] += 1
                event = None
            except Exception:  # one bad message must not stop the others
                log.warning("skipping a message that could not be read (type=%s)", _type_of(raw),
                            exc_info=True)
                out.dropped["message:unreadable"] += 1
                event = None
            if event is None:
                out.skipped += 1
            else:
                out.events.append(event)
        for raw in _list(value.get("statuses")):
            try:
                status = parse_status(raw)
            except Exception:
                log.warning("skipping a status that could not be read", exc_info=True)
                status = None
            if status is None:
                out.dropped["status:invalid"] += 1
                out.skipped += 1
            else:
                out.statuses.append(status)
        unknown = set(value) - _VALUE_KEYS
        if unknown:
            log.debug("ignoring unknown webhook value fields: %s", sorted(unknown))
    return out


def _change_values(body: Mapping[str, Any]) -> Iterator[Mapping[str, Any]]:
    for entry in _list(body.get("entry")):
        if not isinstance(entry, Mapping):
            continue
        for change in _list(entry.get("changes")):
            if not isinstance(change, Mapping):
                continue
            field_name = change.get("field")
            value = change.get("value")
            if field_name not in (None, "messages") or not isinstance(value, Mapping):
                log.debug("ignoring webhook change field=%s", field_name)
                continue
            yield value


def _contacts_by_id(raw: Any) -> dict[str, Mapping[str, Any]]:
    """Contacts keyed by every id a message may use to name its sender (wa_id and user_id)."""
    valid = [c for c in _list(raw) if isinstance(c, Mapping)]
    contacts: dict[str, Mapping[str, Any]] = {}
    for contact in valid:
        for key in ("wa_id", "user_id"):
            if contact.get(key):
                contacts[str(contact[key])] = contact
    if len(valid) == 1:
        contacts[""] = valid[0]  # the only contact, for a message that names its sender differently
    return contacts


def parse_message(raw: Any, contacts: Mapping[str, Mapping[str, Any]] | None = None) -> InboundEvent | None:
    """One entry of `messages[]` -> InboundEvent, or None when it names no sender or no id."""
    if not isinstance(raw, Mapping):
        return None
    contacts = contacts or {}
    sender_id = _scalar(raw.get("from") or raw.get("from_user_id"))
    contact = contacts.get(sender_id) or contacts.get("") or {}
    # The phone number (wa_id) is what replies go to; a business-scoped user id only when hidden.
    sender = _scalar(raw.get("from") or contact.get("wa_id") or sender_id or contact.get("user_id"))
    wamid = raw.get("id")
    if not sender or not wamid:
        log.warning("message without sender or id ignored (type=%s)", _type_of(raw))
        return None
    sender = normalize_sender(sender)
    if not isinstance(wamid, str) or len(wamid) > MAX_WAMID or _UNSAFE.search(wamid):
        raise Invalid("id")
    profile = contact.get("profile")
    profile_name = _clean(profile.get("name"), MAX_NAME) if isinstance(profile, Mapping) else None
    extra: dict[str, Any] = {}
    user_id = _scalar(raw.get("from_user_id") or contact.get("user_id"))
    if user_id and _USER_ID.fullmatch(user_id):
        extra["user_id"] = user_id
    context = raw.get("context")
    if isinstance(context, Mapping) and context.get("id"):
        extra["context_id"] = _clean(context["id"], MAX_WAMID)
    errors = [_error(e) for e in _list(raw.get("errors"))[:3] if isinstance(e, Mapping)]
    if errors:
        extra["errors"] = errors
    unknown = set(raw) - _MESSAGE_KEYS - {str(raw.get("type"))}
    if unknown:
        log.debug("ignoring unknown message fields: %s", sorted(unknown))

    timestamp = _timestamp(raw.get("timestamp"))

    def make(kind: EventKind, message_type: str, *, text: str = "", reply_id: str | None = None) -> InboundEvent:
        return InboundEvent(phone=sender, kind=kind, text=text, reply_id=reply_id, message_type=message_type,
                            profile_name=profile_name, wamid=str(wamid), timestamp=timestamp, extra=extra)

    mtype = _scalar(raw.get("type")) or "unknown"
    if mtype == "text":
        text = raw.get("text")
        body = text.get("body") if isinstance(text, Mapping) else None
        return make("text", "text", text=_clean(body, MAX_TEXT) or "")
    if mtype == "interactive":
        inter: Mapping[str, Any] = raw["interactive"] if isinstance(raw.get("interactive"), Mapping) else {}
        sub = inter.get("type")
        if sub in ("button_reply", "list_reply") and isinstance(inter.get(sub), Mapping):
            reply = inter[sub]
            return make("button" if sub == "button_reply" else "list", "interactive",
                        text=_clean(reply.get("title"), MAX_TITLE) or "",
                        reply_id=_clean(reply.get("id"), MAX_ID) or None)
        extra["interactive_type"] = _clean(sub, MAX_ID)
        return make("other", "interactive")
    if mtype == "button":  # quick-reply button of a template
        button: Mapping[str, Any] = raw["button"] if isinstance(raw.get("button"), Mapping) else {}
        return make("button", "button", text=_clean(button.get("text"), MAX_TITLE) or "",
                    reply_id=_clean(button.get("payload") or button.get("text"), MAX_ID) or None)
    if mtype == "location":  # a shared pin ("Near me"); without usable coordinates it is unreadable
        pin = _location(raw.get("location"))
        if pin is not None:
            extra["location"] = pin
            return make("location", "location", text=pin["name"] or pin["address"])
    return make("other", _clean(mtype, 64) or "unknown")


def _location(raw: Any) -> dict[str, Any] | None:
    if not isinstance(raw, Mapping):
        return None
    try:
        latitude, longitude = float(raw["latitude"]), float(raw["longitude"])
    except (KeyError, TypeError, ValueError):
        return None
    if not (-90 <= latitude <= 90 and -180 <= longitude <= 180):
        return None
    return {"latitude": latitude, "longitude": longitude, "name": _clean(raw.get("name"), 200) or "",
            "address": _clean(raw.get("address"), 300) or ""}


def parse_status(raw: Any) -> StatusUpdate | None:
    if not isinstance(raw, Mapping) or not raw.get("id") or not raw.get("status"):
        return None
    code: int | None = None
    title = detail = ""
    errors = _list(raw.get("errors"))
    if errors and isinstance(errors[0], Mapping):
        err = errors[0]
        try:
            code = int(err.get("code"))  # type: ignore[arg-type]  # None or junk: caught below
        except (TypeError, ValueError, OverflowError):
            code = None
        title = str(err.get("title") or err.get("message") or "")
        data = err.get("error_data")
        detail = str(data.get("details") or "") if isinstance(data, Mapping) else ""
    return StatusUpdate(
        wamid=_clean(raw["id"], MAX_WAMID) or "",
        status=_clean(raw["status"], 32) or "",
        recipient=_clean(raw.get("recipient_id") or raw.get("recipient_user_id"), 64) or "",
        timestamp=_timestamp(raw.get("timestamp")),
        error_code=code,
        error_title=_clean(title, MAX_NAME) or "",
        error_detail=_clean(detail, 1024) or "",
    )


def describe(event: InboundEvent) -> str:
    """A log-safe one-liner: masked phone, kind, wamid; never the text."""
    return f"{mask_phone(event.phone)} {event.kind}/{event.message_type} {event.wamid}"


def _list(value: Any) -> list[Any]:
    return value if isinstance(value, list) else []


def _type_of(raw: Any) -> str:
    return _short(raw.get("type")) if isinstance(raw, Mapping) else type(raw).__name__


def _error(raw: Mapping[str, Any]) -> dict[str, Any]:
    """Meta's error on an unsupported message, reduced to what a log needs (its nesting is not kept)."""
    code = raw.get("code")
    return {"code": code if isinstance(code, int) and not isinstance(code, bool) else None,
            "title": _clean(raw.get("title") or raw.get("message"), MAX_NAME) or ""}


def normalize_sender(value: str) -> str:
    """A phone as Meta writes it (digits, no `+`), or a business-scoped user id; Invalid otherwise."""
    digits = _PHONE_PUNCT.sub("", value)
    if digits.isdigit() and digits.isascii() and 7 <= len(digits) <= 15:
        return digits
    if _USER_ID.fullmatch(value):
        return value
    raise Invalid("sender")


def _scalar(value: Any) -> str:
    """A str or number as text; containers and booleans are not ids (empty)."""
    if isinstance(value, str):
        return value[:MAX_WAMID]
    if isinstance(value, int | float) and not isinstance(value, bool):
        return str(value)
    return ""


def _clean(value: Any, limit: int) -> str | None:
    """Text safe to store anywhere: lone surrogates and NULs replaced, cut at `limit`; None if not text."""
    if value is None or isinstance(value, bool | list | dict):
        return None
    text = str(value)[:limit]
    return _UNSAFE.sub("\ufffd", text) if _UNSAFE.search(text) else text


def _short(value: Any) -> str:
    return (_clean(value, 40) or "") if not isinstance(value, Mapping | list) else type(value).__name__


def _timestamp(value: Any) -> float | None:
    try:
        moment = float(value)
    except (TypeError, ValueError, OverflowError):
        return None
    return moment if math.isfinite(moment) and _EARLIEST <= moment <= _LATEST else None
