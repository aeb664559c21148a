"""Linking a WhatsApp number to an Inspector account with a one-time code.

One implementation serves both the WhatsApp flow (through engine actions) and the REST API. On WhatsApp
the phone is proved by WhatsApp itself, so the code goes to the account's email (proving the email). Over
REST the Inspector website has proved the email (its user is logged in), so the code goes to the phone by
WhatsApp (`deliver`, the `link_code` notification), proving the phone: nobody can link a number they do
not hold.
Rules: 6-digit codes from `secrets`, kept only as a salted HMAC; valid 5 minutes; single use;
at most 5 wrong attempts; at most 3 codes per phone and per email per hour, and a global cap on codes and
on guesses per hour (Redis counters), so covering N accounts does not buy 15·N guesses.
An unknown email gets exactly the answer a known one gets, in the same time: nothing is sent, a decoy
code row makes the later verification answer the same too, and both paths answer no sooner than the
typical time of a real send. Logs carry masked phones and emails only.
"""

from __future__ import annotations

import asyncio
import logging
import time
from collections.abc import Awaitable, Callable
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from typing import Any, NoReturn

from redis.asyncio import Redis

from adapters.accounts import store
from adapters.accounts.codes import code_matches, hash_code, looks_like_code, new_code, new_code_id, pseudonym
from adapters.accounts.database import AccountsDatabase
from adapters.accounts.identity import normalize_email, normalize_phone
from adapters.accounts.models import LinkCode, WhatsAppUser
from adapters.accounts.rate_limit import RedisCounter
from adapters.email.sender import EmailSender, EmailSendError
from adapters.privacy import mask_email, mask_phone
from engine.actions import ActionError

log = logging.getLogger(__name__)

LookupUser = Callable[[str], Awaitable[dict[str, Any] | None]]
Clock = Callable[[], datetime]
Sleep = Callable[[float], Awaitable[None]]
#: Sends a code to a phone: `await deliver(phone, code, minutes_valid)`; raises CodeNotSent when it could not.
CodeDelivery = Callable[[str, str, int], Awaitable[None]]


class CodeNotSent(Exception):
    """The code could not be delivered to the phone (WhatsApp refused it or is down)."""


def utc_now() -> datetime:
    return datetime.now(UTC)


@dataclass(frozen=True)
class LinkingLimits:
    code_ttl: timedelta = timedelta(minutes=5)
    max_attempts: int = 5
    codes_per_phone: int = 3
    codes_per_email: int = 3
    window_seconds: int = 3600
    #: For everyone together, per window: an attacker covering many accounts hits these, not 15 per account.
    codes_per_window: int = 300
    guesses_per_window: int = 1000
    #: Both answers of `start_link` take at least this long, and at least the typical time of a real send.
    initial_send_seconds: float = 0.3
    min_answer_seconds: float = 0.2


class LinkingError(ActionError):
    """An `ActionError` from linking; `tries_left` is set for `wrong_code`."""

    def __init__(self, user_message: str, *, kind: str, tries_left: int | None = None) -> None:
        super().__init__(user_message, kind=kind, data={"tries_left": tries_left} if tries_left is not None else None)
        self.tries_left = tries_left


MESSAGES = {
    "invalid_email": "That doesn't look like an email address. Please send the email you use on Inspector.",
    "invalid_phone": "That phone number is not valid. Use the international format, like +2348012345678.",
    "rate_limited": "You have asked for too many codes. Please wait an hour, then try again.",
    "send_failed": "We could not send the email just now. Please try again in a few minutes.",
    "no_code": "There is no code waiting for this number. Send your email address and we'll email you one.",
    "expired": "That code has expired. Send your email address again and we'll email you a new one.",
    "used": "That code has already been used. Send your email address again if you need a new one.",
    "too_many_attempts": "Too many wrong tries, so that code no longer works. "
    "Send your email address again and we'll email you a new one.",
}


def _error(kind: str) -> LinkingError:
    return LinkingError(MESSAGES[kind], kind=kind)


def _wrong_code(tries_left: int) -> LinkingError:
    tries = "1 try" if tries_left == 1 else f"{tries_left} tries"
    return LinkingError(f"That code is not right. You have {tries} left.", kind="wrong_code", tries_left=tries_left)


def public_user(user: WhatsAppUser) -> dict[str, Any]:
    """The linked user as flows and REST clients see it."""
    return {
        "id": user.inspector_user_id,
        "name": user.name,
        "role": user.role,
        "email_masked": mask_email(user.email),
        "phone": user.phone,
        "language": user.language,
    }


class LinkingService:
    def __init__(
        self,
        *,
        database: AccountsDatabase,
        redis: Redis,
        lookup_user_by_email: LookupUser,
        email_sender: EmailSender,
        secret_key: str,
        clock: Clock = utc_now,
        limits: LinkingLimits | None = None,
        key_prefix: str = "inspector:accounts",
        sleep: Sleep = asyncio.sleep,
        monotonic: Callable[[], float] = time.perf_counter,
    ) -> None:
        if not secret_key:
            raise ValueError("LinkingService needs a SECRET_KEY to hash link codes")
        self.db = database
        self._lookup = lookup_user_by_email
        self._email = email_sender
        self._secret = secret_key
        self._clock = clock
        self.limits = limits or LinkingLimits()
        self._counter = RedisCounter(redis, key_prefix, self.limits.window_seconds)
        self._sleep = sleep
        self._monotonic = monotonic
        self._send_seconds = self.limits.initial_send_seconds

    # --- linking -------------------------------------------------------------------------------

    async def start_link(self, phone: str, email: str, *, deliver: CodeDelivery | None = None) -> dict[str, Any]:
        """Send a code if `email` belongs to an Inspector account: by email, or to the phone with `deliver`
        (REST). Same answer, in the same time, either way."""
        started = self._monotonic()
        phone = self._phone(phone)
        try:
            email = normalize_email(email)
        except ValueError:
            raise _error("invalid_email") from None
        await self._count_request(phone, email, web=deliver is not None)

        account = await self._lookup(email)
        code, code_id, now = new_code(), new_code_id(), self._clock()
        row = LinkCode(
            id=code_id,
            phone=phone,
            email=email,
            inspector_user_id=str(account["id"]) if account else None,
            role=(account.get("role") or None) if account else None,
            name=(account.get("name") or None) if account else None,
            code_hash=hash_code(self._secret, code_id=code_id, phone=phone, code=code),
            expires_at=now + self.limits.code_ttl,
            created_at=now,
            road="web" if deliver is not None else "whatsapp",
        )
        await self.db.run(lambda s: store.add_code(s, row))

        if account is not None:
            await self._send_code(phone, email, code, code_id, account, deliver)
        log.info("link code requested by %s for %s", mask_phone(phone), mask_email(email))
        await self._steady_answer(started, sent=account is not None)
        return {"email": mask_email(email), "expires_in": int(self.limits.code_ttl.total_seconds())}

    async def verify_code(self, phone: str, code: str, language: str = "", *, road: str = "whatsapp"
                          ) -> dict[str, Any]:
        """Check the latest code of `phone` asked on `road` (`whatsapp`, or `web` for the website); on success
        link the account and return the user.

        `language` is the one the user picked in the conversation, kept on the account."""
        phone = self._phone(phone)
        code = "".join((code or "").split())
        if await self._counter.hit(self._counter.key("link", "all", "guesses")) > self.limits.guesses_per_window:
            log.warning("link code guesses rate-limited for everyone (more than %d this hour)",
                        self.limits.guesses_per_window)
            raise _error("rate_limited")
        row = await self.db.run(lambda s: store.latest_code(s, phone, road))
        if row is None:
            raise _error("no_code")
        matches = looks_like_code(code) and code_matches(
            self._secret, code_id=row.id, phone=phone, code=code, code_hash=row.code_hash
        )
        if row.used:
            raise _error("used" if matches else "no_code")
        if row.attempts >= self.limits.max_attempts:
            raise _error("too_many_attempts")
        if row.revoked:
            raise _error("no_code")
        if self._clock() >= row.expires_at:
            raise _error("expired")
        if not matches or row.inspector_user_id is None:
            await self._wrong_attempt(phone, row)

        account = {"id": row.inspector_user_id, "role": row.role, "name": row.name, "email": row.email}
        now = self._clock()

        def consume_and_link(session) -> WhatsAppUser | None:
            if not store.consume_code(session, row.id, self.limits.max_attempts):
                return None
            return store.link(session, phone, account, now, language or None)

        user = await self.db.run(consume_and_link)
        if user is None:  # someone used or burned it between our read and our write
            raise _error("used")
        log.info("phone %s linked to inspector user %s (%s)", mask_phone(phone), user.inspector_user_id, user.role)
        return public_user(user)

    async def unlink(self, phone: str) -> bool:
        phone = self._phone(phone)
        now = self._clock()
        removed = await self.db.run(lambda s: store.unlink(s, phone, now))
        if removed:
            log.info("phone %s unlinked", mask_phone(phone))
        return removed

    async def link_demo_user(self, phone: str, user: dict[str, Any]) -> dict[str, Any]:
        """Link without a code (the terminal chat's `--as seeker`). Never reachable from WhatsApp."""
        phone = self._phone(phone)
        now = self._clock()
        linked = await self.db.run(lambda s: store.link(s, phone, user, now, user.get("language")))
        log.info("demo link: %s as %s", mask_phone(phone), linked.role)
        return public_user(linked)

    async def remember_language(self, phone: str, language: str) -> bool:
        """Keep the language `phone`'s user picked; False when the phone has no row."""
        phone = self._phone(phone)
        now = self._clock()
        return await self.db.run(lambda s: store.set_language(s, phone, language, now))

    # --- reads and bookkeeping -----------------------------------------------------------------

    async def identify(self, phone: str) -> dict[str, Any] | None:
        user = await self.get_user(phone)
        return public_user(user) if user is not None and user.linked else None

    async def get_user(self, phone: str) -> WhatsAppUser | None:
        """The phone's row (linked or not), detached from its session."""
        try:
            phone = normalize_phone(phone)
        except ValueError:
            return None
        return await self.db.run(lambda s: store.get_user(s, phone))

    async def linked_users(self, role: str | None = None) -> list[WhatsAppUser]:
        return await self.db.run(lambda s: store.linked_users(s, role))

    async def record_inbound(self, phone: str, profile_name: str | None, at: datetime) -> None:
        """Note an inbound WhatsApp message: starts WhatsApp's 24-hour customer-service window."""
        phone = self._phone(phone)
        await self.db.run(lambda s: store.record_inbound(s, phone, profile_name, at))

    async def last_inbound(self, phone: str) -> datetime | None:
        user = await self.get_user(phone)
        return user.last_inbound_at if user is not None else None

    # --- internals -----------------------------------------------------------------------------

    def _phone(self, phone: str) -> str:
        try:
            return normalize_phone(phone)
        except ValueError:
            raise _error("invalid_phone") from None

    def _limit_keys(self, phone: str, email: str, *, web: bool = False) -> tuple[str, str, str]:
        # A phone's codes are counted per road: codes the website asks for (for a phone it cannot prove) never
        # use up the ones the phone's owner may ask for on WhatsApp.
        return (
            self._counter.key("link", "web-phone" if web else "phone", pseudonym(self._secret, "phone", phone)),
            self._counter.key("link", "email", pseudonym(self._secret, "email", email)),
            self._counter.key("link", "all", "codes"),
        )

    async def _count_request(self, phone: str, email: str, *, web: bool) -> None:
        phone_key, email_key, all_key = self._limit_keys(phone, email, web=web)
        if await self._counter.hit(phone_key) > self.limits.codes_per_phone:
            log.info("link codes rate-limited for phone %s", mask_phone(phone))
            raise _error("rate_limited")
        if await self._counter.hit(email_key) > self.limits.codes_per_email:
            log.info("link codes rate-limited for email %s", mask_email(email))
            raise _error("rate_limited")
        if await self._counter.hit(all_key) > self.limits.codes_per_window:
            log.warning("link codes rate-limited for everyone (more than %d this hour)", self.limits.codes_per_window)
            raise _error("rate_limited")

    async def _steady_answer(self, started: float, *, sent: bool) -> None:
        """Answer no sooner than a real send typically takes, whether or not one happened.

        Right after start-up an unknown email answered in 49 ms against 16 ms for a known one; now both
        wait until the same moment: the larger of a floor and the running average of real sends."""
        elapsed = self._monotonic() - started
        if sent:
            self._send_seconds = 0.8 * self._send_seconds + 0.2 * min(elapsed, 5.0)
        target = max(self.limits.min_answer_seconds, self._send_seconds * 1.25)
        if target > elapsed:
            await self._sleep(target - elapsed)

    async def _send_code(self, phone: str, email: str, code: str, code_id: str, account: dict,
                         deliver: CodeDelivery | None) -> None:
        minutes = int(self.limits.code_ttl.total_seconds() // 60)
        if deliver is not None:
            try:
                await deliver(phone, code, minutes)
            except Exception as exc:  # any failure: the code must not stay usable, nor count against the user
                await self._forget_code(phone, email, code_id, web=True)
                log.warning("link code to %s by WhatsApp not delivered (%s)", mask_phone(phone), type(exc).__name__)
                raise _error("send_failed") from None
            return
        greeting = f"Hello {account['name']}," if account.get("name") else "Hello,"
        text = (
            f"{greeting}\n\nYour code to link WhatsApp to your Inspector account is:\n\n    {code}\n\n"
            f"Reply with it in WhatsApp within {minutes} minutes. It works once.\n"
            "If you did not ask for this, ignore this email: nothing changes on your account.\n"
        )
        try:
            await self._email.send(to=email, subject="Your Inspector linking code", text=text)
        except EmailSendError:
            # The code must not stay usable, and the failed attempt should not count against the user.
            await self._forget_code(phone, email, code_id)
            log.warning("link code email to %s for %s not delivered", mask_email(email), mask_phone(phone))
            raise _error("send_failed") from None

    async def _forget_code(self, phone: str, email: str, code_id: str, *, web: bool = False) -> None:
        await self.db.run(lambda s: store.revoke_code(s, code_id))
        for key in self._limit_keys(phone, email, web=web):
            await self._counter.undo(key)

    async def _wrong_attempt(self, phone: str, row: LinkCode) -> NoReturn:
        attempts = await self.db.run(lambda s: store.count_wrong_attempt(s, row.id, self.limits.max_attempts))
        tries_left = self.limits.max_attempts - attempts if attempts is not None else 0
        log.info("wrong link code from %s (%d tries left)", mask_phone(phone), tries_left)
        if tries_left <= 0:
            raise _error("too_many_attempts")
        raise _wrong_code(tries_left)
