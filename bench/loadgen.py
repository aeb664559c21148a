"""The benchmark's load generator, in its own process: a closed loop of users sending signed webhooks.

Each user posts one signed message, waits for the acknowledgement, then waits for its reply before the
next message. The fake Graph API (bench/graph_fake.py) announces each reply on its events port with the
inbound wamid the reply quotes (`context.message_id`), so every reply is counted against its
(user, turn): none is lost, none is doubled, or the run says so.

HTTP is raw asyncio on one keep-alive connection per user: an in-process httpx client was the bottleneck
of the old benchmark (an endpoint returning 200 topped out at 122-130 req/s under it).

    python -m bench.loadgen --url http://127.0.0.1:8000/api/v1/webhook --events 127.0.0.1:8802 \\
        --secret S --phone-id 123 --tag run1 --phone-base 2340010000000

Prints one JSON object: wall time, messages, ack and end-to-end latencies (ms percentiles), lost and
duplicated replies, non-2xx acks, and the generator's own CPU seconds.
"""

from __future__ import annotations

import argparse
import asyncio
import contextlib
import hashlib
import hmac
import json
import resource
import time
from collections import Counter
from urllib.parse import urlsplit


def webhook_body(phone: str, phone_id: str, wamid: str, text: str) -> bytes:
    """One inbound text message as Meta delivers it."""
    message = {"from": phone, "id": wamid, "timestamp": str(int(time.time())), "type": "text",
               "text": {"body": text}}
    value = {"messaging_product": "whatsapp",
             "metadata": {"display_phone_number": "15550000000", "phone_number_id": phone_id},
             "contacts": [{"profile": {"name": "Bench"}, "wa_id": phone, "user_id": f"NG.{phone}"}],
             "messages": [message]}
    return json.dumps({"object": "whatsapp_business_account",
                       "entry": [{"id": "1", "changes": [{"field": "messages", "value": value}]}]},
                      separators=(",", ":")).encode()


class Connection:
    """One keep-alive HTTP/1.1 connection; reopened when the server closed it."""

    def __init__(self, host: str, port: int) -> None:
        self.host, self.port = host, port
        self.reader: asyncio.StreamReader | None = None
        self.writer: asyncio.StreamWriter | None = None

    async def post(self, path: str, body: bytes, headers: dict[str, str]) -> int:
        head = [f"POST {path} HTTP/1.1", f"Host: {self.host}:{self.port}", f"Content-Length: {len(body)}",
                *(f"{k}: {v}" for k, v in headers.items())]
        request = ("\r\n".join(head) + "\r\n\r\n").encode() + body
        for attempt in (1, 2):
            fresh = self.writer is None
            if fresh:
                self.reader, self.writer = await asyncio.open_connection(self.host, self.port)
            assert self.reader is not None and self.writer is not None
            self.writer.write(request)
            try:
                status_line = await self.reader.readline()
            except ConnectionError:
                status_line = b""
            if status_line:
                return await self._finish(status_line)
            await self.close()  # the server closed an idle connection before reading: send again
            if fresh or attempt == 2:
                raise ConnectionError(f"no response from {self.host}:{self.port}")
        raise AssertionError("unreachable")

    async def _finish(self, status_line: bytes) -> int:
        assert self.reader is not None
        status = int(status_line.split(b" ", 2)[1])
        length, chunked, close = 0, False, False
        while True:
            line = await self.reader.readline()
            if line in (b"\r\n", b"\n", b""):
                break
            name, _, value = line.partition(b":")
            name = name.strip().lower()
            if name == b"content-length":
                length = int(value)
            elif name == b"transfer-encoding" and b"chunked" in value.lower():
                chunked = True
            elif name == b"connection" and b"close" in value.lower():
                close = True
        if chunked:
            while True:
                size = int((await self.reader.readline()).split(b";")[0], 16)
                await self.reader.readexactly(size + 2)
                if size == 0:
                    break
        elif length:
            await self.reader.readexactly(length)
        if close:
            await self.close()
        return status

    async def close(self) -> None:
        if self.writer is not None:
            self.writer.close()
            with contextlib.suppress(Exception):
                await self.writer.wait_closed()
        self.reader = self.writer = None


class Replies:
    """Counts the replies announced by the fake Graph API per (user, turn) of this run's tag."""

    def __init__(self, tag: str, phones: set[str]) -> None:
        self.prefix = f"wamid.bench.{tag}."
        self.phones = phones
        self.counts: Counter[tuple[int, int]] = Counter()
        self.untagged = 0
        self.waiting: dict[tuple[int, int], asyncio.Future[float]] = {}

    def expect(self, key: tuple[int, int]) -> asyncio.Future[float]:
        future = asyncio.get_running_loop().create_future()
        self.waiting[key] = future
        return future

    async def listen(self, host: str, port: int, ready: asyncio.Event) -> None:
        reader, writer = await asyncio.open_connection(host, port)
        ready.set()
        try:
            while line := await reader.readline():
                context, _, to = line.decode().rstrip("\n").partition("\t")
                if context.startswith(self.prefix):
                    user, turn = (int(x) for x in context[len(self.prefix):].split("."))
                    self.counts[user, turn] += 1
                    future = self.waiting.pop((user, turn), None)
                    if future is not None and not future.done():
                        future.set_result(time.perf_counter())
                elif to in self.phones:
                    self.untagged += 1  # a further message of a turn (only a turn's first quotes the inbound)
        finally:
            writer.close()


def percentile(values: list[float], q: float) -> float | None:
    if not values:
        return None
    ordered = sorted(values)
    return round(ordered[min(len(ordered) - 1, int(round(q / 100 * (len(ordered) - 1))))] * 1000, 2)


async def run(args: argparse.Namespace) -> dict[str, object]:
    url = urlsplit(args.url)
    host, port, path = url.hostname or "127.0.0.1", url.port or 80, url.path or "/"
    events_host, _, events_port = args.events.rpartition(":")
    phones = [str(args.phone_base + i) for i in range(args.users)]
    replies = Replies(args.tag, set(phones))
    ready = asyncio.Event()
    listener = asyncio.create_task(replies.listen(events_host, int(events_port), ready))
    await asyncio.wait_for(ready.wait(), 10)
    secret = args.secret.encode()
    ack: list[float] = []
    e2e: list[float] = []
    errors: Counter[str] = Counter()
    acked: set[tuple[int, int]] = set()

    async def user(i: int) -> None:
        connection = Connection(host, port)
        try:
            for turn in range(args.turns):
                wamid = f"wamid.bench.{args.tag}.{i}.{turn}"
                body = webhook_body(phones[i], args.phone_id, wamid, f"{args.text} {turn}")
                signature = "sha256=" + hmac.new(secret, body, hashlib.sha256).hexdigest()
                reply = replies.expect((i, turn))
                began = time.perf_counter()
                try:
                    status = await connection.post(path, body, {"Content-Type": "application/json",
                                                                "X-Hub-Signature-256": signature})
                except (ConnectionError, OSError) as exc:
                    errors[type(exc).__name__] += 1
                    await connection.close()
                    continue
                ack.append(time.perf_counter() - began)
                if status >= 300:
                    errors[f"http {status}"] += 1
                    continue
                acked.add((i, turn))
                try:
                    arrived = await asyncio.wait_for(asyncio.shield(reply), args.reply_timeout)
                except TimeoutError:
                    continue  # counted as lost below unless it shows up before the end
                e2e.append(arrived - began)
        finally:
            await connection.close()

    cpu_before = resource.getrusage(resource.RUSAGE_SELF)
    began = time.perf_counter()
    await asyncio.gather(*(user(i) for i in range(args.users)))
    wall = time.perf_counter() - began
    cpu_after = resource.getrusage(resource.RUSAGE_SELF)
    await asyncio.sleep(args.settle)  # late duplicates still count
    listener.cancel()
    with contextlib.suppress(asyncio.CancelledError):
        await listener
    lost = sum(1 for key in acked if replies.counts[key] == 0)
    duplicated = sum(count - 1 for count in replies.counts.values() if count > 1)
    return {
        "tag": args.tag, "messages": len(acked), "sent": args.users * args.turns, "wall": round(wall, 4),
        "msg_per_s": round(len(acked) / wall, 2) if wall else None,
        "ack_p50": percentile(ack, 50), "ack_p99": percentile(ack, 99),
        "e2e_p50": percentile(e2e, 50), "e2e_p99": percentile(e2e, 99),
        "lost": lost, "duplicated": duplicated, "further_messages": replies.untagged, "errors": dict(errors),
        "generator_cpu_s": round(cpu_after.ru_utime + cpu_after.ru_stime
                                 - cpu_before.ru_utime - cpu_before.ru_stime, 3),
    }


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--url", required=True, help="the webhook URL")
    parser.add_argument("--events", required=True, help="host:port where the fake Graph API announces replies")
    parser.add_argument("--secret", required=True, help="the app secret the webhooks are signed with")
    parser.add_argument("--phone-id", required=True, help="the business phone number id in the payloads")
    parser.add_argument("--tag", required=True, help="a name unique to this run (it is in every wamid)")
    parser.add_argument("--phone-base", type=int, required=True, help="user i has phone number base + i")
    parser.add_argument("--users", type=int, default=50)
    parser.add_argument("--turns", type=int, default=20)
    parser.add_argument("--text", default="hello", help="each message is '<text> <turn>'")
    parser.add_argument("--reply-timeout", type=float, default=15.0)
    parser.add_argument("--settle", type=float, default=1.0, help="seconds to wait for late duplicates")
    args = parser.parse_args()
    runner = asyncio.run
    with contextlib.suppress(ImportError):
        import uvloop

        runner = uvloop.run
    print(json.dumps(runner(run(args))))


if __name__ == "__main__":
    main()
