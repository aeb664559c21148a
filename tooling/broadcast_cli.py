"""`python main.py broadcast`: a broadcast from the terminal, sent by this process, with a progress bar.

The same service and runner as the admin API; Ctrl-C stops after the sends in flight, and
`--resume ID` carries on where it stopped (nobody is sent the same broadcast twice).
"""

from __future__ import annotations

import sys
from collections.abc import Callable
from typing import IO, Any

from adapters.broadcast.runner import BroadcastRunner
from adapters.broadcast.service import Audience, BroadcastRequest, BroadcastService, Template
from adapters.broadcast.store import BroadcastStore


def progress_bar(out: IO[str], width: int = 30) -> Callable[[dict[str, Any]], None]:
    def show(progress: dict[str, Any]) -> None:
        total = max(progress["total"], 1)
        done = progress["sent"] + progress["failed"]
        filled = int(width * done / total)
        out.write(f"\r[{'#' * filled}{'.' * (width - filled)}] {done}/{progress['total']} "
                  f"sent {progress['sent']} failed {progress['failed']} ({progress['status']})")
        out.flush()

    return show


def request_from(args: Any) -> BroadcastRequest:
    template = Template(name=args.template, language=args.language, params=args.param or []) if args.template else None
    return BroadcastRequest(audience=Audience(role=args.role, active_within_days=args.active_within_days),
                            text=args.text, template=template, dry_run=args.dry_run)


async def run_broadcast_command(args: Any, runtime: Any, sender: Any, out: IO[str] = sys.stdout) -> int:
    store = BroadcastStore(runtime.redis)
    service = BroadcastService(store, runtime.linking, clock=runtime.engine.clock)
    if args.resume:
        if not await store.exists(args.resume):
            print(f"no broadcast {args.resume}", file=sys.stderr)
            return 1
        broadcast_id = args.resume
    else:
        request = request_from(args)
        counts = await service.count(request)
        out.write(f"audience {counts['audience']}: {counts['inside_window']} inside the 24-hour window, "
                  f"{counts['outside_window']} outside ({counts['unreachable']} unreachable without a template)\n")
        if request.dry_run:
            return 0
        broadcast_id = (await service.start(request))["id"]
        out.write(f"broadcast {broadcast_id} (resume with --resume {broadcast_id})\n")
    rate = args.rate or runtime.settings.broadcast_rate
    runner = BroadcastRunner(store, sender, runtime.linking.last_inbound, rate=rate, clock=runtime.engine.clock)
    outcome = await runner.run(broadcast_id, on_progress=progress_bar(out))
    progress = await store.progress(broadcast_id)
    out.write("\n")
    if progress["failures_by_code"]:
        out.write("failures: " + ", ".join(f"{code} x{n}" for code, n in sorted(progress["failures_by_code"].items()))
                  + "\n")
    if not outcome.finished:
        out.write(f"not finished: resume with --resume {broadcast_id}\n")
        return 1
    return 0
