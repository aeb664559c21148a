"""CPU per inbound message of `serve`, alone: a figure that a noisy shared box does not move much.

bench/webhook.py compares throughput with the bare endpoints, which takes minutes and depends on what else
runs on the machine. This bench runs only the project (one worker, as `serve` runs it, with the same load
generator, fake Graph API and sandbox Inspector in their own processes) for a few rounds and reports, per
round, the serve process tree's CPU per message (from /proc), the Graph calls per message and the replies
lost or doubled. `--profile` adds a py-spy own-time summary of one more round.

    .venv/bin/python bench/hot_path.py                           # 3 rounds of 50 users x 20 messages
    .venv/bin/python bench/hot_path.py --profile /tmp/hot.txt    # and a py-spy summary
    .venv/bin/python bench/hot_path.py --project-dir /tmp/old --project-python /tmp/old/.venv/bin/python
"""

from __future__ import annotations

import argparse
import shutil
import statistics
import sys
import tempfile
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))

import redis  # noqa: E402

from bench.procs import TICKS, Service  # noqa: E402
from bench.webhook import ROOT, Checkout, measure, profile_project, run_load, start_project  # noqa: E402
from tests.redis_servers import free_port, redis_server  # noqa: E402


def user_sys_seconds(pid: int) -> tuple[float, float]:
    """User and system CPU seconds of one process (serve with one worker is one process)."""
    raw = Path(f"/proc/{pid}/stat").read_text()
    fields = raw[raw.rindex(")") + 2:].split()
    return int(fields[11]) / TICKS, int(fields[12]) / TICKS


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--users", type=int, default=50)
    parser.add_argument("--turns", type=int, default=20)
    parser.add_argument("--rounds", type=int, default=3)
    parser.add_argument("--project-dir", type=Path, default=ROOT)
    parser.add_argument("--project-python", default=sys.executable)
    parser.add_argument("--flows", type=Path, default=None)
    parser.add_argument("--text", default="hello")
    parser.add_argument("--log-level", default="warning")
    parser.add_argument("--settle", type=float, default=1.0)
    parser.add_argument("--profile", type=Path, help="also write a py-spy summary of one more round here")
    parser.add_argument("--profile-rate", type=int, default=1000, help="py-spy samples per second")
    args = parser.parse_args()
    args.checkouts = [Checkout("project", args.project_dir.resolve(), args.project_python)]

    work = Path(tempfile.mkdtemp(prefix="bench-hot-"))
    services: list[Service] = []
    try:
        with redis_server() as redis_srv:
            graph_port, events_port = free_port(), free_port()
            fake = Service("graph-fake", [sys.executable, "-m", "bench.graph_fake", "--port", str(graph_port),
                                          "--events-port", str(events_port)], graph_port, work, cwd=ROOT)
            services.append(fake.start())
            graph, events = fake.url, f"127.0.0.1:{events_port}"
            main_checkout = args.checkouts[0]
            sandbox_port = free_port()
            sandbox = Service("sandbox", [main_checkout.python, "main.py", "sandbox", "--port", str(sandbox_port)],
                              sandbox_port, work, cwd=main_checkout.dir)
            services.append(sandbox.start())
            redis_url = f"redis://127.0.0.1:{redis_srv.port}/0"
            server = start_project(args, main_checkout, 1, graph, redis_url, sandbox.url, work)
            services.append(server)
            rds = redis.Redis(host="127.0.0.1", port=redis_srv.port)
            run_load(args, server, events, "warm", 2349800000000, 10, 2)
            cpu = []
            for index in range(args.rounds):
                user, system = user_sys_seconds(server.pid)
                r = measure(args, server, events, graph, rds, f"h{index}", 2340000000000 + index * 100000)
                user2, system2 = user_sys_seconds(server.pid)
                cpu.append(r["cpu_ms_per_msg"])
                n = max(1, r["messages"])
                print(f"round {index + 1}: {r['messages']} msgs  CPU {r['cpu_ms_per_msg']:.3f} ms/msg (user "
                      f"{1000 * (user2 - user) / n:.2f}, system {1000 * (system2 - system) / n:.2f})  "
                      f"Graph {r['graph_calls_per_msg']} calls/msg  Redis CPU {r['redis_ms_per_msg']:.3f} ms/msg  "
                      f"box CPU {r['box_cpu_ms_per_msg']:.3f} ms/msg  "
                      f"{r['msg_per_s']:.0f} msg/s  ack p99 {r['ack_p99']} ms  lost {r['lost']} "
                      f"dup {r['duplicated']}", flush=True)
            print(f"median CPU {statistics.median(cpu):.3f} ms/msg (min {min(cpu):.3f})")
            rds.close()
            if args.profile:
                server.stop()
                args.profile.write_text(profile_project(args, graph, f"redis://127.0.0.1:{redis_srv.port}/9",
                                                        sandbox.url, work, events) + "\n")
                raw = work / "serve-profile.raw.txt"
                if raw.exists():
                    shutil.copy(raw, args.profile.with_suffix(".raw"))
                print(f"py-spy summary: {args.profile} (raw stacks: {args.profile.with_suffix('.raw')})")
    finally:
        for service in reversed(services):
            service.stop()
        shutil.rmtree(work, ignore_errors=True)


if __name__ == "__main__":
    main()
