"""Webhook bodies shaped like Meta's documented samples (Cloud API, webhooks "messages" field)."""

from __future__ import annotations

import itertools
import json
from typing import Any

from adapters.whatsapp.signature import sign

PHONE_ID = "106540352242922"
WABA_ID = "102290129340398"
_ids = itertools.count(1)


def wamid() -> str:
    return f"wamid.HBgLMTY1MDUwNzY1MjAVAgASGBQzQTRBNjU5OUFFRTAzODEwMTQ0RgA{next(_ids)}="


def contact(wa_id: str, name: str = "Sheena Nelson", user_id: str | None = None) -> dict[str, Any]:
    c: dict[str, Any] = {"profile": {"name": name}, "wa_id": wa_id}
    if user_id:
        c["user_id"] = user_id
    return c


def body(
    messages: list[dict] | None = None, contacts: list[dict] | None = None, statuses: list[dict] | None = None
) -> dict[str, Any]:
    """One entry, one change, like most of Meta's samples."""
    value: dict[str, Any] = {
        "messaging_product": "whatsapp",
        "metadata": {"display_phone_number": "15550783881", "phone_number_id": PHONE_ID},
    }
    if contacts is not None:
        value["contacts"] = contacts
    if messages is not None:
        value["messages"] = messages
    if statuses is not None:
        value["statuses"] = statuses
    return {
        "object": "whatsapp_business_account",
        "entry": [{"id": WABA_ID, "changes": [{"value": value, "field": "messages"}]}],
    }


def message(
    sender: str, mtype: str, content: dict[str, Any] | None = None, *, id: str | None = None, **extra: Any
) -> dict[str, Any]:
    m: dict[str, Any] = {"from": sender, "id": id or wamid(), "timestamp": "1744344496", "type": mtype}
    if content is not None:
        m[mtype] = content
    m.update(extra)
    return m


def text(sender: str, body_text: str = "Does it come in another color?", **kw: Any) -> dict[str, Any]:
    return message(sender, "text", {"body": body_text}, **kw)


def button_reply(sender: str, reply_id: str = "change-button", title: str = "Change", **kw: Any) -> dict:
    return message(
        sender,
        "interactive",
        {"type": "button_reply", "button_reply": {"id": reply_id, "title": title}},
        context={"from": "15550783881", "id": wamid()},
        **kw,
    )


def list_reply(sender: str, reply_id: str = "priority_express", title: str = "Express Shipping", **kw: Any) -> dict:
    return message(
        sender,
        "interactive",
        {"type": "list_reply", "list_reply": {"id": reply_id, "title": title, "description": "Next Day to 2 Days"}},
        context={"from": "15550783881", "id": wamid()},
        **kw,
    )


def template_button(
    sender: str, payload: str = "Unsubscribe from Promos", text_: str = "Unsubscribe", **kw: Any
) -> dict:
    return message(
        sender, "button", {"payload": payload, "text": text_}, context={"from": "15550783881", "id": wamid()}, **kw
    )


def media(sender: str, kind: str) -> dict:
    return message(
        sender, kind, {"mime_type": "image/jpeg", "sha256": "abc=", "id": "1003383421387256", "caption": "a caption"}
    )


OTHER_MESSAGES = {
    "image": lambda s: media(s, "image"),
    "audio": lambda s: message(
        s, "audio", {"mime_type": "audio/ogg; codecs=opus", "sha256": "x", "id": "1003383421387256", "voice": True}
    ),
    "video": lambda s: media(s, "video"),
    "document": lambda s: message(
        s, "document", {"filename": "lease.pdf", "mime_type": "application/pdf", "sha256": "x", "id": "1"}
    ),
    "sticker": lambda s: message(
        s, "sticker", {"mime_type": "image/webp", "sha256": "x", "id": "1", "animated": False}
    ),
    "location": lambda s: message(
        s, "location", {"latitude": 6.5244, "longitude": 3.3792, "name": "Lagos", "address": "Lagos, NG"}
    ),
    "contacts": lambda s: message(
        s,
        "contacts",
        None,
        contacts=[
            {
                "name": {"formatted_name": "Barbara Johnson", "first_name": "Barbara"},
                "phones": [{"phone": "+1 (940) 555-1234", "type": "HOME"}],
            }
        ],
    ),
    "reaction": lambda s: message(s, "reaction", {"message_id": wamid(), "emoji": "\U0001f600"}),
    "order": lambda s: message(
        s,
        "order",
        {
            "catalog_id": "194836987003835",
            "product_items": [
                {"product_retailer_id": "di9ozbzfi4", "quantity": 2, "item_price": 30, "currency": "USD"}
            ],
        },
    ),
    "system": lambda s: message(
        s, "system", {"body": "User changed number", "type": "user_changed_number", "wa_id": "16505553333"}
    ),
    "unsupported": lambda s: message(
        s,
        "unsupported",
        None,
        errors=[
            {
                "code": 131051,
                "title": "Message type unknown",
                "message": "Message type unknown",
                "error_data": {"details": "Message type is currently not supported."},
            }
        ],
    ),
    "edit": lambda s: message(
        s, "edit", {"original_message_id": wamid(), "message": {"type": "text", "text": {"body": "edited"}}}
    ),
    "revoke": lambda s: message(s, "revoke", {"original_message_id": wamid()}),
    "interactive": lambda s: message(
        s, "interactive", {"type": "nfm_reply", "nfm_reply": {"name": "flow", "body": "Sent", "response_json": "{}"}}
    ),
}


def status(state: str, recipient: str, *, code: int | None = None, title: str = "") -> dict[str, Any]:
    s: dict[str, Any] = {"id": wamid(), "status": state, "timestamp": "1750263773", "recipient_id": recipient}
    if state in ("sent", "delivered"):
        s["conversation"] = {"id": "f2c0b2b0", "origin": {"type": "utility"}}
        s["pricing"] = {"billable": True, "pricing_model": "PMP", "category": "utility", "type": "regular"}
    if code is not None:
        s["errors"] = [
            {
                "code": code,
                "title": title,
                "message": title,
                "error_data": {
                    "details": "Message failed to send because more than 24 hours "
                    "have passed since the customer last replied."
                },
                "href": "https://developers.facebook.com/docs/whatsapp/cloud-api/support/error-codes/",
            }
        ]
    return s


def signed(payload: dict[str, Any] | bytes, secret: str) -> tuple[bytes, dict[str, str]]:
    raw = payload if isinstance(payload, bytes) else json.dumps(payload).encode()
    return raw, {"X-Hub-Signature-256": sign(raw, secret), "Content-Type": "application/json"}
