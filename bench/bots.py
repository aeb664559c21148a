"""The reference servers the project is measured against, each served by uvicorn in its own process.

- `bare-httpx`: a Starlette endpoint that checks the HMAC, acknowledges, and sends one reply through httpx.
- `bare-aiohttp`: the same endpoint replying through aiohttp: the floor of this stack.
- `pywa-seed`: the seed's style of bot: pywa_async's own webhook handling, state in a dict, replies via
  pywa over its default httpx (httpcore) session.

Every reply quotes the inbound wamid (`context.message_id`), as the project's first reply of a turn does,
so the load generator can count replies per (user, turn).

    python -m bench.bots bare-httpx --port 8000 --graph http://127.0.0.1:8801 --secret S --phone-id 1 --token T
"""

from __future__ import annotations

import argparse
import asyncio
import contextlib
import json
import sys
from collections.abc import AsyncIterator, Awaitable, Callable
from pathlib import Path

from starlette.applications import Starlette
from starlette.requests import Request
from starlette.responses import Response
from starlette.routing import Route

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))

from adapters.whatsapp.signature import signature_valid  # noqa: E402

GRAPH_VERSION = "v22.0"
SendReply = Callable[[str, str, str], Awaitable[None]]


def reply_payload(to: str, quoted: str, text: str) -> dict[str, object]:
    return {"messaging_product": "whatsapp", "recipient_type": "individual", "to": to, "type": "text",
            "text": {"body": text, "preview_url": False}, "context": {"message_id": quoted}}


def bare_app(secret: str, open_sender: Callable[[], contextlib.AbstractAsyncContextManager[SendReply]]) -> Starlette:
    """HMAC check, ack, then one reply per message in a background task (Meta wants the ack fast)."""
    background: set[asyncio.Task[None]] = set()
    sender: list[SendReply] = []

    async def webhook(request: Request) -> Response:
        body = await request.body()
        if not signature_valid(body, request.headers.get("x-hub-signature-256", ""), secret):
            return Response(status_code=401)
        payload = json.loads(body)
        for entry in payload.get("entry", ()):
            for change in entry.get("changes", ()):
                for message in change.get("value", {}).get("messages", ()) or ():
                    text = (message.get("text") or {}).get("body", "")
                    task = asyncio.create_task(sender[0](message["from"], message["id"], f"echo: {text}"))
                    background.add(task)
                    task.add_done_callback(background.discard)
        return Response(b"OK", media_type="text/plain")

    @contextlib.asynccontextmanager
    async def lifespan(app: Starlette) -> AsyncIterator[None]:
        async with open_sender() as send:
            sender.append(send)
            yield

    return Starlette(routes=[Route("/api/v1/webhook", webhook, methods=["POST"])], lifespan=lifespan)


def httpx_sender(graph: str, phone_id: str, token: str):  # type: ignore[no-untyped-def]
    import httpx

    @contextlib.asynccontextmanager
    async def open_sender() -> AsyncIterator[SendReply]:
        limits = httpx.Limits(max_connections=100, max_keepalive_connections=50)
        async with httpx.AsyncClient(base_url=graph, limits=limits, timeout=10.0,
                                     headers={"Authorization": f"Bearer {token}"}) as client:
            async def send(to: str, quoted: str, text: str) -> None:
                response = await client.post(f"/{GRAPH_VERSION}/{phone_id}/messages",
                                             json=reply_payload(to, quoted, text))
                response.raise_for_status()

            yield send

    return open_sender


def aiohttp_sender(graph: str, phone_id: str, token: str):  # type: ignore[no-untyped-def]
    import aiohttp

    @contextlib.asynccontextmanager
    async def open_sender() -> AsyncIterator[SendReply]:
        connector = aiohttp.TCPConnector(limit=100)
        async with aiohttp.ClientSession(graph, connector=connector,
                                         headers={"Authorization": f"Bearer {token}"}) as session:
            async def send(to: str, quoted: str, text: str) -> None:
                async with session.post(f"/{GRAPH_VERSION}/{phone_id}/messages",
                                        json=reply_payload(to, quoted, text)) as response:
                    response.raise_for_status()
                    await response.read()

            yield send

    return open_sender


def pywa_seed_app(graph: str, secret: str, phone_id: str, token: str, verify: str) -> Starlette:
    """The seed's bot: pywa_async serves the webhook (it validates and runs the handler before the ack)."""
    import httpx
    from pywa_async import WhatsApp, types

    from adapters.whatsapp.graph import GraphURLTransport

    app = Starlette()
    session = httpx.AsyncClient(transport=GraphURLTransport(graph, httpx.AsyncHTTPTransport(retries=0)),
                                timeout=10.0)
    wa = WhatsApp(phone_id=phone_id, token=token, session=session, server=app, webhook_endpoint="/api/v1/webhook",
                  verify_token=verify, app_secret=secret, validate_updates=True)
    turns: dict[str, int] = {}

    @wa.on_message
    async def on_message(client: WhatsApp, message: types.Message) -> None:
        phone = message.from_user.wa_id
        turns[phone] = turns.get(phone, 0) + 1
        await message.reply_text(f"echo: {message.text} (turn {turns[phone]})", quote=True)

    return app


def build(case: str, args: argparse.Namespace) -> Starlette:
    if case == "bare-httpx":
        return bare_app(args.secret, httpx_sender(args.graph, args.phone_id, args.token))
    if case == "bare-aiohttp":
        return bare_app(args.secret, aiohttp_sender(args.graph, args.phone_id, args.token))
    if case == "pywa-seed":
        return pywa_seed_app(args.graph, args.secret, args.phone_id, args.token, args.verify)
    raise SystemExit(f"unknown case {case!r}")


def main() -> None:
    import uvicorn

    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("case", choices=["bare-httpx", "bare-aiohttp", "pywa-seed"])
    parser.add_argument("--port", type=int, required=True)
    parser.add_argument("--graph", required=True, help="base URL of the fake Graph API")
    parser.add_argument("--secret", required=True)
    parser.add_argument("--phone-id", required=True)
    parser.add_argument("--token", default="bench-token")
    parser.add_argument("--verify", default="bench-verify")
    parser.add_argument("--log-level", default="warning")
    args = parser.parse_args()
    uvicorn.run(build(args.case, args), host="127.0.0.1", port=args.port, log_level=args.log_level,
                server_header=False)


if __name__ == "__main__":
    main()
