"""Development sender: prints each email, link code included, to stdout instead of sending it.

Dev-only convenience so a developer can link an account from the terminal chat without an SMTP
server. It writes to a stream (stdout), never to a logger: log records must not carry codes.
"""

from __future__ import annotations

import sys
from typing import TextIO


class ConsoleEmailSender:
    def __init__(self, stream: TextIO | None = None, sender: str = "Inspector <no-reply@inspector.example>"):
        self._stream = stream
        self.sender = sender

    async def send(self, *, to: str, subject: str, text: str) -> None:
        stream = self._stream or sys.stdout
        rule = "-" * 60
        stream.write(
            f"\n{rule}\n[dev email, not sent]\nFrom: {self.sender}\nTo: {to}\nSubject: {subject}\n\n"
            f"{text.rstrip()}\n{rule}\n"
        )
        stream.flush()

    def __repr__(self) -> str:
        return "ConsoleEmailSender()"
