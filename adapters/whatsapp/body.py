"""Reading a webhook body without trusting it: a size cap before anything else, and a JSON decode that
cannot blow the stack.

The body is read before its signature can be checked, so the cap applies to everyone: four unsigned
250 MB bodies took the process to 1.2 GB. `Content-Length` over the cap is refused at once, and the
stream is read with the same cap, so a chunked body cannot get around it. Meta's bodies are a few KB.

Deep nesting made `json.loads` raise RecursionError (500) at depth ~990, and at depth 500-950 the
body decoded but failed later while being stored (503): a poison body Meta retries forever, taking the
valid messages beside it down too. Here every container nested deeper than `MAX_DEPTH` becomes `null`
before decoding, so the rest of the body is still read; text that is not JSON is a clean 400.
"""

from __future__ import annotations

import json
import re
from collections.abc import AsyncIterator
from typing import Any

from starlette.requests import ClientDisconnect
from starlette.types import Receive

#: Meta's bodies are small; 3 MB leaves room for a batch of a hundred messages.
DEFAULT_MAX_BODY = 3 * 1024 * 1024
#: Body bytes all webhook requests together may be reading at once (see ByteBudget).
DEFAULT_BODY_BUDGET = 64 * 1024 * 1024
#: Meta's bodies nest about 10 deep (entry > changes > value > messages > interactive > list_reply ...).
MAX_DEPTH = 32
#: Integers longer than this are decoded as floats: `int()` of more than 4300 digits raises, slowly.
_MAX_INT_DIGITS = 64
_TOKENS = re.compile(r'["\[\]{}]')


class BodyError(Exception):
    """A body refused before it is parsed; `status` is the HTTP answer (400 or 413), never a 5xx."""

    status = 400

    def __init__(self, reason: str) -> None:
        super().__init__(reason)
        self.reason = reason


class BodyTooLarge(BodyError):
    status = 413


class MalformedBody(BodyError):
    status = 400


class BodiesBusy(BodyError):
    """Too many body bytes are being read at once (across requests); Meta delivers again later."""

    status = 503


class ByteBudget:
    """The body bytes all requests together may be reading at once.

    The per-body cap alone still lets `limit_concurrency` connections hold a full body each (500 x 3 MB);
    past this budget a body is refused with 503 instead. Meta's bodies, a few KB, never come near it."""

    def __init__(self, limit: int) -> None:
        self.limit = limit
        self.used = 0

    def take(self, size: int) -> bool:
        if self.used + size > self.limit:
            return False
        self.used += size
        return True

    def give(self, size: int) -> None:
        self.used -= size


async def read_capped_chunks(declared: str | None, chunks: AsyncIterator[bytes], limit: int = DEFAULT_MAX_BODY,
                             budget: ByteBudget | None = None) -> bytes:
    """The whole body from its declared Content-Length and its chunks as they arrive, or BodyTooLarge as soon
    as it (declared or streamed) passes `limit` bytes, BodiesBusy when `budget` has no room left for it while
    it streams, MalformedBody when the client goes away before the end."""
    if declared is not None:
        if not declared.strip().isdigit():
            raise MalformedBody("Content-Length is not a number")
        if int(declared) > limit:
            raise BodyTooLarge(f"Content-Length {int(declared)} is over the {limit}-byte cap")
    received = bytearray()
    try:
        async for chunk in chunks:
            if budget is not None and not budget.take(len(chunk)):
                raise BodiesBusy("too many webhook bodies are being read at once; try again")
            received += chunk
            if len(received) > limit:
                raise BodyTooLarge(f"body passed the {limit}-byte cap while streaming")
    except ClientDisconnect:  # gone before the end (or cut off by the server's body timeout)
        raise MalformedBody("the client went away before the end of the body") from None
    finally:
        if budget is not None:
            budget.give(len(received))
    return bytes(received)


async def asgi_body(receive: Receive) -> AsyncIterator[bytes]:
    """The request body's chunks from ASGI `receive`, as Starlette's `Request.stream()` yields them."""
    while True:
        message = await receive()
        if message["type"] == "http.request":
            chunk = message.get("body", b"")
            if chunk:
                yield chunk
            if not message.get("more_body", False):
                return
        elif message["type"] == "http.disconnect":
            raise ClientDisconnect()


def decode_json(raw: bytes, max_depth: int = MAX_DEPTH) -> tuple[Any, int]:
    """(decoded body, how many over-deep containers became null); MalformedBody when it is not JSON."""
    try:
        text = raw.decode("utf-8")
    except UnicodeDecodeError as exc:
        raise MalformedBody(f"body is not UTF-8 (byte {exc.start})") from None
    pruned = 0
    if text.count("[") + text.count("{") > max_depth:  # cheap test first: most bodies cannot be too deep
        text, pruned = prune_depth(text, max_depth)
    try:
        return json.loads(text, parse_int=_bounded_int, parse_constant=lambda _: None), pruned
    except RecursionError:  # cannot happen after pruning; a 5xx here would be a poison body
        raise MalformedBody("body nests too deeply") from None
    except ValueError as exc:
        raise MalformedBody(f"malformed JSON: {exc}") from None


def prune_depth(text: str, max_depth: int) -> tuple[str, int]:
    """Replace every array or object that opens deeper than `max_depth` by `null`, in one linear pass.

    Strings are skipped (a `[` inside one is text); the result is JSON exactly when the input was."""
    spans: list[tuple[int, int]] = []
    depth = 0
    cut_from = -1
    in_string = False
    for found in _TOKENS.finditer(text):
        char, at = found.group(), found.start()
        if in_string:
            if char == '"' and not _escaped(text, at):
                in_string = False
            continue
        if char == '"':
            in_string = True
        elif char in "[{":
            depth += 1
            if depth == max_depth + 1:
                cut_from = at
        else:
            if depth == max_depth + 1 and cut_from >= 0:
                spans.append((cut_from, at + 1))
                cut_from = -1
            depth -= 1
    if cut_from >= 0:  # unbalanced: leave it to json.loads to refuse
        spans.append((cut_from, len(text)))
    if not spans:
        return text, 0
    parts, last = [], 0
    for start, end in spans:
        parts += [text[last:start], "null"]
        last = end
    parts.append(text[last:])
    return "".join(parts), len(spans)


def _escaped(text: str, at: int) -> bool:
    """Is the quote at `at` escaped (an odd run of backslashes before it)? Each run is read once."""
    backslashes = 0
    while at - backslashes - 1 >= 0 and text[at - backslashes - 1] == "\\":
        backslashes += 1
    return backslashes % 2 == 1


def _bounded_int(digits: str) -> int | float:
    return int(digits) if len(digits) <= _MAX_INT_DIGITS else float(digits)
