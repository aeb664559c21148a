"""Decoding Meta's webhook bodies: every entry, change, message and status, nothing trusted blindly.

pywa only parses the first message of a body and drops payloads it does not expect, so bodies are
read here. Every message becomes an `InboundEvent`; every status a `StatusUpdate`. A malformed part
is logged and skipped: it never stops the other messages of the same body.
"""

from __future__ import annotations

import logging
from collections.abc import Iterator, Mapping
from dataclasses import dataclass, field
from typing import Any

from adapters.privacy import mask_phone
from engine.events import InboundEvent

log = logging.getLogger(__name__)

_MESSAGE_KEYS = {"from", "id", "timestamp", "type", "context", "from_user_id", "errors", "referral"}
_VALUE_KEYS = {"messaging_product", "metadata", "contacts", "messages", "statuses", "errors"}


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


def parse_body(body: Any) -> WebhookBody:
    """Read every message and status of a decoded webhook body. Never raises."""
    out = WebhookBody()
    if not isinstance(body, Mapping):
        log.warning("webhook body is not a JSON object (%s); ignored", type(body).__name__)
        return out
    for value in _change_values(body):
        contacts = _contacts_by_id(value.get("contacts"))
        for raw in _list(value.get("messages")):
            try:
                event = parse_message(raw, contacts)
            except Exception:  # one bad message must not stop the others
                log.warning("skipping a message that could not be read (type=%s)", _type_of(raw),
                            exc_info=True)
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
    sender_id = str(raw.get("from") or raw.get("from_user_id") or "")
    contact = contacts.get(sender_id) or contacts.get("") or {}
    # The phone number (wa_id) is what replies go to; a business-scoped user id only when hidden.
    sender = str(raw.get("from") or contact.get("wa_id") or sender_id or contact.get("user_id") or "")
    wamid = raw.get("id")
    if not sender or not wamid:
        log.warning("message without sender or id ignored (type=%s)", _type_of(raw))
        return None
    profile = contact.get("profile")
    profile_name = profile.get("name") if isinstance(profile, Mapping) else None
    extra: dict[str, Any] = {}
    user_id = raw.get("from_user_id") or contact.get("user_id")
    if user_id:
        extra["user_id"] = str(user_id)
    context = raw.get("context")
    if isinstance(context, Mapping) and context.get("id"):
        extra["context_id"] = str(context["id"])
    if raw.get("errors"):
        extra["errors"] = raw["errors"]
    unknown = set(raw) - _MESSAGE_KEYS - {str(raw.get("type"))}
    if unknown:
        log.debug("ignoring unknown message fields: %s", sorted(unknown))

    base = dict(
        phone=sender,
        wamid=str(wamid),
        profile_name=profile_name,
        timestamp=_timestamp(raw.get("timestamp")),
        extra=extra,
    )
    mtype = str(raw.get("type") or "unknown")
    if mtype == "text":
        text = raw.get("text")
        body = text.get("body") if isinstance(text, Mapping) else None
        return InboundEvent(kind="text", text=str(body or ""), message_type="text", **base)
    if mtype == "interactive":
        inter = raw.get("interactive") if isinstance(raw.get("interactive"), Mapping) else {}
        sub = inter.get("type")
        if sub in ("button_reply", "list_reply") and isinstance(inter.get(sub), Mapping):
            reply = inter[sub]
            return InboundEvent(
                kind="button" if sub == "button_reply" else "list",
                text=str(reply.get("title") or ""),
                reply_id=str(reply.get("id") or "") or None,
                message_type="interactive",
                **base,
            )
        extra["interactive_type"] = sub
        return InboundEvent(kind="other", message_type="interactive", **base)
    if mtype == "button":  # quick-reply button of a template
        button = raw.get("button") if isinstance(raw.get("button"), Mapping) else {}
        return InboundEvent(
            kind="button",
            text=str(button.get("text") or ""),
            reply_id=str(button.get("payload") or button.get("text") or "") or None,
            message_type="button",
            **base,
        )
    if mtype == "location":  # a shared pin ("Near me"); without usable coordinates it is unreadable
        pin = _location(raw.get("location"))
        if pin is not None:
            extra["location"] = pin
            return InboundEvent(phone=sender, kind="location", text=pin["name"] or pin["address"],
                                message_type="location", profile_name=profile_name, wamid=str(wamid),
                                timestamp=_timestamp(raw.get("timestamp")), extra=extra)
    return InboundEvent(kind="other", message_type=mtype, **base)


def _location(raw: Any) -> dict[str, Any] | None:
    if not isinstance(raw, Mapping):
        return None
    try:
        latitude, longitude = float(raw["latitude"]), float(raw["longitude"])
    except (KeyError, TypeError, ValueError):
        return None
    if not (-90 <= latitude <= 90 and -180 <= longitude <= 180):
        return None
    return {"latitude": latitude, "longitude": longitude, "name": str(raw.get("name") or "")[:200],
            "address": str(raw.get("address") or "")[:300]}


def parse_status(raw: Any) -> StatusUpdate | None:
    if not isinstance(raw, Mapping) or not raw.get("id") or not raw.get("status"):
        return None
    code: int | None = None
    title = detail = ""
    errors = _list(raw.get("errors"))
    if errors and isinstance(errors[0], Mapping):
        err = errors[0]
        try:
            code = int(err.get("code"))
        except (TypeError, ValueError):
            code = None
        title = str(err.get("title") or err.get("message") or "")
        data = err.get("error_data")
        detail = str(data.get("details") or "") if isinstance(data, Mapping) else ""
    return StatusUpdate(
        wamid=str(raw["id"]),
        status=str(raw["status"]),
        recipient=str(raw.get("recipient_id") or raw.get("recipient_user_id") or ""),
        timestamp=_timestamp(raw.get("timestamp")),
        error_code=code,
        error_title=title,
        error_detail=detail,
    )


def describe(event: InboundEvent) -> str:
    """A log-safe one-liner: masked phone, kind, wamid; never the text."""
    return f"{mask_phone(event.phone)} {event.kind}/{event.message_type} {event.wamid}"


def _list(value: Any) -> list[Any]:
    return value if isinstance(value, list) else []


def _type_of(raw: Any) -> str:
    return str(raw.get("type")) if isinstance(raw, Mapping) else type(raw).__name__


def _timestamp(value: Any) -> float | None:
    try:
        return float(value)
    except (TypeError, ValueError):
        return None
