"""Sending the engine's OutboundMessages to WhatsApp with pywa_async, one result per message.

Retryable failures (429, 5xx, throttling codes, timeouts) go through an injectable `retry` hook:
by default an in-process retry with exponential backoff; a background-jobs adapter may replace it
with one that enqueues a job. Permanent failures (131047 outside the 24-hour window, 131026
undeliverable, ...) are returned with Meta's code and never retried.
"""

from __future__ import annotations

import asyncio
import logging
from collections.abc import Awaitable, Callable
from dataclasses import dataclass
from typing import Any, Protocol, cast

import httpx
from pywa_async import WhatsApp
from pywa_async.errors import WhatsAppError
from pywa_async.types import Button as PywaButton
from pywa_async.types import Contact, Section, SectionList, SectionRow
from pywa_async.types.templates import BodyText, TemplateLanguage

from adapters.backoff import backoff_delay
from adapters.privacy import mask_phone
from adapters.settings import Settings
from adapters.whatsapp.graph import graph_session, point_at
from adapters.whatsapp.limits import MAX_ROW_TITLE, enforce_limits, shorten
from adapters.whatsapp.session import GraphSession
from adapters.whatsapp.transport import SharedPool
from engine.messages import OutboundMessage

log = logging.getLogger(__name__)

# Meta codes worth another try: throttling and temporary unavailability.
RETRYABLE_CODES = frozenset({1, 2, 4, 80007, 130429, 131000, 131016, 131056, 133004})


@dataclass(slots=True)
class SendResult:
    """What happened to one OutboundMessage: `wamid` when sent, Meta's `error_code` when not."""

    to: str
    kind: str
    ok: bool
    wamid: str | None = None
    error_code: int | None = None
    error: str = ""
    retryable: bool = False
    attempts: int = 1
    queued: bool = False  # handed to a background retry; the final outcome is reported elsewhere
    timed_out: bool = False  # no answer in time: Meta may or may not have the message


SendOnce = Callable[[OutboundMessage], Awaitable[SendResult]]
RetryHook = Callable[[OutboundMessage, SendResult, SendOnce], Awaitable[SendResult]]


class Sender(Protocol):
    """What the pipeline and the jobs need: `send` retries through the hook, `send_once` never retries."""

    async def send(self, message: OutboundMessage) -> SendResult: ...

    async def send_once(self, message: OutboundMessage, *, patient: bool = False) -> SendResult: ...

    async def mark_read(self, wamid: str) -> None: ...

    async def aclose(self) -> None: ...


def backoff_retry(
    attempts: int = 4,
    base_delay: float = 0.5,
    max_delay: float = 8.0,
    sleep: Callable[[float], Awaitable[None]] = asyncio.sleep,
) -> RetryHook:
    """The default retry hook: up to `attempts` more tries, delays doubling with jitter."""

    async def retry(message: OutboundMessage, first: SendResult, send_once: SendOnce) -> SendResult:
        result = first
        for attempt in range(1, attempts + 1):
            delay = backoff_delay(attempt, base=base_delay, cap=max_delay)
            await sleep(delay)
            result = await send_once(message)
            result.attempts = first.attempts + attempt
            if result.ok or not result.retryable:
                return result
            log.info("retrying %s to %s (attempt %d): %s", message.kind, mask_phone(message.to),
                     result.attempts, result.error_code)
        log.warning("giving up on %s to %s after %d attempts: %s %s", message.kind,
                    mask_phone(message.to), result.attempts, result.error_code, result.error)
        return result

    return retry


class WhatsAppSender:
    """Sends through the Cloud API with pywa_async (its httpx session routed to the configured URL)."""

    def __init__(self, settings: Settings, *, retry: RetryHook | None = None, timeout: float = 10.0,
                 patient_timeout: float = 30.0, transport: httpx.AsyncBaseTransport | None = None) -> None:
        # Two clients: pywa takes no per-request timeout, and the one resend after a timeout waits longer.
        # Without a `transport`, both send straight onto one aiohttp pool (session.py); with one, through
        # httpx on that transport (what the transport tests compare).
        self._session: GraphSession | httpx.AsyncClient
        self._patient_session: GraphSession | httpx.AsyncClient
        if transport is None:
            pool = SharedPool()
            self._session = GraphSession(settings.whatsapp_graph_url, timeout=timeout, pool=pool)
            self._patient_session = GraphSession(settings.whatsapp_graph_url, timeout=patient_timeout, pool=pool)
        else:
            self._session = graph_session(settings, timeout=timeout, transport=transport)
            self._patient_session = graph_session(settings, timeout=patient_timeout, transport=transport)
        self.wa = self._client(settings, self._session)
        self.wa_patient = self._client(settings, self._patient_session)
        self.retry = retry or backoff_retry()

    @staticmethod
    def _client(settings: Settings, session: GraphSession | httpx.AsyncClient) -> WhatsApp:
        wa = WhatsApp(
            phone_id=settings.whatsapp_phone_id,
            token=settings.whatsapp_token,
            session=cast(httpx.AsyncClient, session),
            server=None,
            verify_token=settings.whatsapp_verify_token or None,
            app_secret=settings.whatsapp_app_secret or None,
            validate_updates=False,
        )
        if isinstance(session, httpx.AsyncClient):
            point_at(session, settings.whatsapp_graph_url)
        return wa

    async def send(self, message: OutboundMessage) -> SendResult:
        result = await self.send_once(message)
        if not result.ok and result.retryable:
            result = await self.retry(message, result, self.send_once)
        if not result.ok and not result.retryable:
            log.warning("%s to %s not sent: Meta error %s %s", message.kind, mask_phone(message.to),
                        result.error_code, result.error)
        return result

    async def send_once(self, message: OutboundMessage, *, patient: bool = False) -> SendResult:
        """One attempt, no retry. Never raises. `patient`: the longer timeout, for the one resend."""
        msg = enforce_limits(message)
        try:
            sent = await self._post(msg, self.wa_patient if patient else self.wa)
        except WhatsAppError as exc:
            status = exc.raw_response.status_code if exc.raw_response is not None else 0
            retryable = status == 429 or status >= 500 or exc.code in RETRYABLE_CODES or bool(
                exc.is_transient)
            return SendResult(msg.to, msg.kind, False, error_code=exc.code,
                              error=str(exc.message)[:200], retryable=retryable)
        except httpx.TimeoutException as exc:
            return SendResult(msg.to, msg.kind, False, error=f"{type(exc).__name__}", retryable=True,
                              timed_out=not isinstance(exc, httpx.ConnectTimeout | httpx.PoolTimeout))
        except httpx.TransportError as exc:
            return SendResult(msg.to, msg.kind, False, error=f"{type(exc).__name__}", retryable=True)
        except Exception as exc:  # a bug or an unexpected answer: report it, do not retry blindly
            log.exception("unexpected failure sending %s to %s", msg.kind, mask_phone(msg.to))
            return SendResult(msg.to, msg.kind, False, error=f"{type(exc).__name__}: {exc}"[:200])
        return SendResult(msg.to, msg.kind, True, wamid=getattr(sent, "id", None))

    async def _post(self, msg: OutboundMessage, wa: WhatsApp):
        reply_to = msg.reply_to or None
        if msg.kind == "template" and msg.template is not None:
            tpl = msg.template
            # pywa declares `params` without `self` (called on the class), which mypy cannot follow.
            params = [cast(Any, BodyText).params(*tpl.params)] if tpl.params else None
            return await wa.send_template(
                to=msg.to, name=tpl.name, language=TemplateLanguage(tpl.language), params=params,
                reply_to_message_id=reply_to,
            )
        media = msg.media or {}
        if msg.kind == "contacts":
            name, phone = str(media["name"]), str(media["phone"])
            card = Contact(name=Contact.Name(formatted_name=name, first_name=name.split(" ")[0]),
                           phones=[Contact.Phone(phone=phone, type="WORK", wa_id=phone.lstrip("+") or None)])
            return await wa.send_contact(to=msg.to, contact=card, reply_to_message_id=reply_to)
        if msg.kind == "location":
            return await wa.send_location(
                to=msg.to, latitude=float(media["latitude"]), longitude=float(media["longitude"]),
                name=media.get("name") or None, address=media.get("address") or None, reply_to_message_id=reply_to,
            )
        if msg.kind == "image":
            return await wa.send_image(to=msg.to, image=str(media["url"]), caption=msg.text or None,
                                            reply_to_message_id=reply_to)
        buttons: list[PywaButton] | SectionList | None = None
        if msg.kind == "buttons" and msg.buttons:
            buttons = [PywaButton(title=b.title, callback_data=b.id) for b in msg.buttons]
        elif msg.kind == "list" and msg.rows:
            rows = [SectionRow(title=r.title, callback_data=r.id, description=r.description or None)
                    for r in msg.rows]
            buttons = SectionList(
                button_title=msg.list_button,
                sections=[Section(title=shorten(msg.list_button, MAX_ROW_TITLE), rows=rows)],
            )
        return await wa.send_message(
            to=msg.to, text=msg.text or "…", header=msg.header if buttons else None,
            footer=msg.footer if buttons else None, buttons=buttons, reply_to_message_id=reply_to,
        )

    async def mark_read(self, wamid: str) -> None:
        try:
            await self.wa.mark_message_as_read(wamid)
        except Exception as exc:  # a missed blue tick is not worth failing a turn
            log.info("could not mark %s as read: %s", wamid, getattr(exc, "code", type(exc).__name__))

    async def aclose(self) -> None:
        await self._session.aclose()
        await self._patient_session.aclose()


class LogSender:
    """Development mode (no WhatsApp credentials): messages are logged with a masked phone, not sent."""

    def __init__(self) -> None:
        self.sent: list[OutboundMessage] = []
        self._count = 0

    async def send(self, message: OutboundMessage) -> SendResult:
        return await self.send_once(message)

    async def send_once(self, message: OutboundMessage, *, patient: bool = False) -> SendResult:
        msg = enforce_limits(message)
        self.sent.append(msg)
        self._count += 1
        log.info("[dev] would send %s to %s: %r%s", msg.kind, mask_phone(msg.to), msg.text[:80],
                 f" choices={[c.id for c in msg.choices()]}" if msg.choices() else "")
        return SendResult(msg.to, msg.kind, True, wamid=f"wamid.dev.{self._count}")

    async def mark_read(self, wamid: str) -> None:
        return None

    async def aclose(self) -> None:
        return None


def build_sender(settings: Settings, *, retry: RetryHook | None = None) -> Sender:
    """The real sender when WhatsApp is configured, otherwise the logging one (said once, here)."""
    if settings.whatsapp_configured:
        return WhatsAppSender(settings, retry=retry)
    log.warning("WhatsApp token/phone id not configured: development mode, messages are logged, not sent")
    return LogSender()
