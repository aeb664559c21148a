"""The terminal channel: talk to the engine line by line, as WhatsApp would, on embedded defaults.

Buttons and list rows are printed numbered; typing a number or a title sends it as a tap (a button or
list reply with its id), exactly as WhatsApp would, so stale buttons and ids behave the same here.
"""

from __future__ import annotations

import sys
from typing import TextIO

from app.runtime import Runtime
from engine.events import EventKind, InboundEvent
from engine.matching import normalize
from engine.messages import OutboundMessage

DEMO_EMAILS = {"seeker": "seeker@example.com", "agent": "agent@example.com", "inspector": "inspector@example.com"}
DEMO_PHONES = {"seeker": "+2348010000001", "agent": "+2348010000002", "inspector": "+2348010000003"}
HELP = ("(chat commands: /as seeker|agent|inspector switches to that demo user in this same sandbox, "
        "/new starts as a new unlinked number, /location LAT,LNG shares a location, /quit leaves)")


def format_message(message: OutboundMessage) -> str:
    lines = []
    if message.header:
        lines.append(f"[{message.header}]")
    if message.kind == "template" and message.template:
        lines.append(f"(template {message.template.name}: {', '.join(message.template.params)})")
    media = message.media or {}
    if message.kind == "contacts":
        lines.append(f"[contact card] {media.get('name')} {media.get('phone')}")
    elif message.kind == "location":
        lines.append(f"[location] {media.get('name') or ''} ({media.get('latitude')}, {media.get('longitude')})"
                     + (f" {media.get('address')}" if media.get("address") else ""))
    elif message.kind == "image":
        lines.append(f"[photo] {media.get('url')}")
    if message.text or message.kind not in ("contacts", "location", "image"):
        lines.append(message.text)
    if message.kind == "buttons":
        lines += [f"  {i}. [{b.title}]" for i, b in enumerate(message.buttons, 1)]
    elif message.kind == "list":
        lines.append(f"  ({message.list_button})")
        for i, row in enumerate(message.rows, 1):
            lines.append(f"  {i}. {row.title}" + (f" · {row.description}" if row.description else ""))
    if message.footer:
        lines.append(f"  _{message.footer}_")
    rows = "\n".join(lines).split("\n")
    return "\n".join(("bot> " if n == 0 else "     ") + line for n, line in enumerate(rows))


def to_event(phone: str, line: str, last: OutboundMessage | None, profile_name: str | None) -> InboundEvent:
    """A typed line: a tap when it names one of the last message's choices, text otherwise."""
    if last is not None and last.kind in ("buttons", "list"):
        choices = last.choices()
        typed = normalize(line)
        picked = None
        if typed.isdigit() and 1 <= int(typed) <= len(choices):
            picked = choices[int(typed) - 1]
        else:
            picked = next((c for c in choices if normalize(c.title) == typed), None)
        if picked is not None:
            kind: EventKind = "button" if last.kind == "buttons" else "list"
            return InboundEvent(phone=phone, kind=kind, text=picked.title, reply_id=picked.id,
                                message_type="interactive", profile_name=profile_name)
    return InboundEvent(phone=phone, text=line, profile_name=profile_name)


def location_event(phone: str, text: str, profile_name: str | None) -> InboundEvent | None:
    """`/location 6.5,3.37`: what WhatsApp sends when the user shares a location (📎 → Location)."""
    try:
        latitude, longitude = (float(part) for part in text.replace(" ", "").split(","))
    except ValueError:
        return None
    if not (-90 <= latitude <= 90 and -180 <= longitude <= 180):
        return None
    pin = {"latitude": latitude, "longitude": longitude, "name": "", "address": ""}
    return InboundEvent(phone=phone, kind="location", message_type="location", profile_name=profile_name,
                        extra={"location": pin})


async def link_demo_user(runtime: Runtime, phone: str, role: str) -> tuple[dict, list[OutboundMessage]]:
    """Link the sandbox's demo user of `role` to `phone` and open their menu."""
    user = await runtime.inspector.get_user_by_email(DEMO_EMAILS[role])
    if user is None:
        raise SystemExit(f"the sandbox has no demo {role} ({DEMO_EMAILS[role]})")
    linked = await runtime.linking.link_demo_user(phone, user.model_dump(mode="json"))
    turn = await runtime.engine.start_as(phone, linked)
    return linked, turn.messages


async def switch_to(runtime: Runtime, role: str, out: TextIO) -> tuple[str, OutboundMessage | None]:
    """Become the demo user of `role` (linked, at their menu); the sandbox's data is shared by all."""
    phone = DEMO_PHONES[role]
    user, menu = await link_demo_user(runtime, phone, role)
    print(f"(you are now the demo {role} {user.get('name')} on {phone})", file=out)
    for message in menu:
        print(format_message(message), file=out)
    taps = [m for m in menu if m.kind in ("buttons", "list")]
    return phone, (taps[-1] if taps else None)


async def run_chat(runtime: Runtime, phone: str, role: str | None, *, stdin: TextIO = sys.stdin,
                   stdout: TextIO = sys.stdout, profile_name: str | None = None) -> int:
    interactive = stdin.isatty()
    out = stdout
    last: OutboundMessage | None = None
    if role:
        phone, last = await switch_to(runtime, role, out)
    else:
        print(f"(chatting as a new user on {phone}; say hi. Demo accounts: {', '.join(DEMO_EMAILS.values())})",
              file=out)
    print(HELP, file=out)
    new_users = 0
    while True:
        if interactive:
            print("you> ", end="", file=out, flush=True)
        line = stdin.readline()
        if not line:
            break
        line = line.rstrip("\n")
        if not interactive:
            print(f"you> {line}", file=out)
        command = line.strip().split()
        if command and command[0] == "/quit":
            break
        if command and command[0] == "/as" and len(command) == 2 and command[1] in DEMO_EMAILS:
            phone, last = await switch_to(runtime, command[1], out)
            continue
        if command and command[0] == "/new":
            new_users += 1
            phone, last = f"+23480999{new_users:05d}", None
            print(f"(now a new unlinked user on {phone}; say hi)", file=out)
            continue
        if command and command[0] == "/location":
            event = location_event(phone, " ".join(command[1:]), profile_name)
            if event is None:
                print("(usage: /location 6.5,3.37 — latitude,longitude)", file=out)
                continue
        else:
            event = to_event(phone, line, last, profile_name)
        try:
            turn = await runtime.engine.handle(event)
        except Exception as exc:  # WhatsApp would retry this event; here, say so and go on
            print(f"(the bot could not handle that: {type(exc).__name__}: {exc}; see the log, then try again)",
                  file=out)
            continue
        for message in turn.messages:
            print(format_message(message), file=out, flush=True)
        taps = [m for m in turn.messages if m.kind in ("buttons", "list")]
        last = taps[-1] if taps else None
    return 0
