"""The benchmark's fake Graph API: answers sends as Meta does and tells the load generator of each reply.

It runs in its own process on aiohttp (cheap per request, so it is not what limits a run). Every message
sent to it is announced at once, as one line `<context.message_id>\\t<to>\\n`, to each client connected
to the events port: the load generator learns that a user's reply arrived without polling. Read
receipts are counted, not announced. `GET /stats` returns the counts.

    python -m bench.graph_fake --port 8801 --events-port 8802
"""

from __future__ import annotations

import argparse
import asyncio
import contextlib
import json
import resource
import signal

from aiohttp import web

READ_OK = b'{"success":true}'


class Announcer:
    """The load generators listening for replies; a slow or gone listener is dropped, never waited for."""

    def __init__(self) -> None:
        self.listeners: set[asyncio.StreamWriter] = set()

    async def accept(self, reader: asyncio.StreamReader, writer: asyncio.StreamWriter) -> None:
        self.listeners.add(writer)
        try:
            await reader.read()  # until the listener hangs up
        finally:
            self.listeners.discard(writer)
            writer.close()

    def announce(self, line: bytes) -> None:
        for writer in list(self.listeners):
            if writer.is_closing():
                self.listeners.discard(writer)
            else:
                writer.write(line)


def build_app(announcer: Announcer) -> web.Application:
    stats = {"messages": 0, "read_receipts": 0, "untagged": 0}

    async def messages(request: web.Request) -> web.Response:
        payload = json.loads(await request.read())
        if payload.get("status") == "read":
            stats["read_receipts"] += 1
            return web.Response(body=READ_OK, content_type="application/json")
        stats["messages"] += 1
        wamid = f"wamid.fake.{stats['messages']}"
        to = str(payload.get("to", ""))
        context = (payload.get("context") or {}).get("message_id", "")
        if not context:
            stats["untagged"] += 1
        announcer.announce(f"{context}\t{to}\n".encode())
        body = {"messaging_product": "whatsapp", "contacts": [{"input": to, "wa_id": to}],
                "messages": [{"id": wamid}]}
        return web.json_response(body)

    async def read_stats(request: web.Request) -> web.Response:
        usage = resource.getrusage(resource.RUSAGE_SELF)  # its own CPU: part of what the box spends per message
        return web.json_response({**stats, "cpu_s": usage.ru_utime + usage.ru_stime})

    app = web.Application()
    app.router.add_post("/{version}/{phone_id}/messages", messages)
    app.router.add_get("/stats", read_stats)
    return app


async def serve(port: int, events_port: int) -> None:
    announcer = Announcer()
    runner = web.AppRunner(build_app(announcer), access_log=None)
    await runner.setup()
    await web.TCPSite(runner, "127.0.0.1", port, backlog=1024).start()
    events = await asyncio.start_server(announcer.accept, "127.0.0.1", events_port)
    stop = asyncio.Event()
    loop = asyncio.get_running_loop()
    for sig in (signal.SIGTERM, signal.SIGINT):
        loop.add_signal_handler(sig, stop.set)
    await stop.wait()
    events.close()
    await runner.cleanup()


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--port", type=int, required=True)
    parser.add_argument("--events-port", type=int, required=True)
    args = parser.parse_args()
    run = asyncio.run
    with contextlib.suppress(ImportError):
        import uvloop

        run = uvloop.run
    run(serve(args.port, args.events_port))


if __name__ == "__main__":
    main()
