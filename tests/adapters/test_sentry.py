"""Sentry stays off without SENTRY_DSN; with it, events leave masked like the logs."""

from __future__ import annotations

import logging

import pytest

from adapters.observability.redaction import Redactor
from adapters.observability.sentry import init_sentry

sentry_sdk = pytest.importorskip("sentry_sdk", reason="sentry-sdk is the optional [sentry] extra")


class Capture(sentry_sdk.transport.Transport):
    def __init__(self, options=None) -> None:
        super().__init__(options)
        self.envelopes = []

    def capture_envelope(self, envelope) -> None:
        self.envelopes.append(envelope)


def test_off_without_a_dsn():
    assert init_sentry("", environment="test", release="1", redact=Redactor()) is False


def test_events_are_masked_before_they_leave():
    transport = Capture()
    try:
        assert init_sentry("https://public@sentry.example/1", environment="test", release="1",
                           redact=Redactor(["wa-token-123456"]), transport=transport)
        try:
            raise RuntimeError("send to 2348012345678 failed for ada@example.com with wa-token-123456")
        except RuntimeError:
            logging.getLogger("adapters.test").exception("code 654321 for %s", "+2348012345678")
        sentry_sdk.flush(2)
    finally:
        sentry_sdk.init(dsn=None)
    payload = b"".join(item.payload.get_bytes() for envelope in transport.envelopes for item in envelope.items)
    assert payload, "nothing was sent"
    for leaked in [b"2348012345678", b"ada@example.com", b"wa-token-123456", b"654321"]:
        assert leaked not in payload, leaked
    assert b"+2348*******78" in payload and b"a***@example.com" in payload
