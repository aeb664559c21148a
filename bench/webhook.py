"""Webhook benchmark: the project as `serve` runs it, against a bare endpoint and the seed's pywa bot.

Every piece is its own process, so none shares a GIL with another: the load generator
(bench/loadgen.py: a closed loop, USERS x TURNS signed webhooks, each user waiting for its reply), a fake
Graph API on loopback (bench/graph_fake.py: it announces each reply to the generator), a redis-server of
the run's own, the sandbox Inspector, and the servers under test:

  bare-httpx    HMAC check, ack, one reply through httpx                     (bench/bots.py)
  bare-aiohttp  the same, replying through aiohttp: the floor of this stack  (bench/bots.py)
  pywa-seed     the seed's style: pywa_async's webhook handling, state in a dict, reply via pywa
  project-wN    `python main.py serve [--workers N]` with a live-mode environment and the shipped flows.yaml
                (new, unlinked users: every message gets the linking prompt)

Each round runs every case once on the same load, the order rotating between rounds; the table shows
medians over rounds. CPU per message is the server's process tree (workers included), from /proc. "Box CPU"
adds what Redis, the fake Graph API and the load generator spent on the same messages: every core busy,
cores / box CPU bounds the msg/s a case can reach on this machine, whatever the server does.

    .venv/bin/python bench/webhook.py                      # 3 rounds, 50 users x 20 messages
    .venv/bin/python bench/webhook.py --workers 1,2,4 --profile serve-profile.txt
    .venv/bin/python bench/webhook.py --project-dir /tmp/main-copy --project-python /tmp/main-copy/.venv/bin/python
    .venv/bin/python bench/webhook.py --baseline /tmp/main-copy    # baseline-w1 alternates with the rest

`--warm-each` runs one turn of as many other users right before each measured load, so every client pool is
warm, as under steady traffic; without it a case meets the load after the others ran (httpx's pool cold).

`--baseline` serves a second checkout (say `git archive` of main before a change, with its own venv) as
case `baseline-wN` in the same rounds, so before and after meet the same machine load.
"""

from __future__ import annotations

import argparse
import json
import os
import platform
import shutil
import signal
import statistics
import subprocess
import sys
import tempfile
import time
from dataclasses import dataclass
from datetime import UTC, datetime
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))

import httpx  # noqa: E402
import redis  # noqa: E402

from bench.procs import Service  # noqa: E402
from bench.profile import summarize  # noqa: E402
from tests.redis_servers import free_port, redis_server  # noqa: E402

ROOT = Path(__file__).resolve().parent.parent
SECRET = "bench-app-secret-0123456789"
PHONE_ID = "100200300400"
TOKEN = "bench-token"
VERIFY = "bench-verify"
BOTS = ("bare-httpx", "bare-aiohttp", "pywa-seed")
MEDIAN_KEYS = ("msg_per_s", "ack_p50", "ack_p99", "e2e_p50", "e2e_p99", "cpu_ms_per_msg", "redis_ms_per_msg",
               "graph_calls_per_msg", "generator_cpu_ms_per_msg", "graph_fake_cpu_ms_per_msg", "box_cpu_ms_per_msg")


@dataclass(frozen=True)
class Checkout:
    """A tree whose `main.py serve` is measured, and the interpreter (venv) that runs it."""

    label: str
    dir: Path
    python: str


def project_env(args: argparse.Namespace, checkout: Checkout, graph: str, redis_url: str, inspector: str,
                work: Path, name: str) -> dict[str, str]:
    """A live-mode environment: every setting serve's start-up checks may ask for is set."""
    base = {k: v for k, v in os.environ.items()
            if not k.startswith(("WHATSAPP_", "REDIS_URL", "SMTP_", "DATABASE_", "INSPECTOR_", "SECRET_KEY"))}
    return {**base, "PYTHONUNBUFFERED": "1",
            "WHATSAPP_TOKEN": TOKEN, "WHATSAPP_PHONE_ID": PHONE_ID, "WHATSAPP_APP_SECRET": SECRET,
            "WHATSAPP_VERIFY_TOKEN": VERIFY, "WHATSAPP_GRAPH_URL": graph, "REDIS_URL": redis_url,
            "INSPECTOR_API_BASE_URL": inspector, "SMTP_HOST": "127.0.0.1", "SMTP_PORT": "2525",
            "SECRET_KEY": "bench-secret-key-" + "k" * 40, "DATABASE_URL": f"sqlite:///{work / name}.db",
            "FLOWS_PATH": str(args.flows or checkout.dir / "flows.yaml"), "LOG_LEVEL": args.log_level.upper(),
            "RATE_LIMIT_PER_MINUTE": "1000000"}


def serve_supports_workers(checkout: Checkout) -> bool:
    done = subprocess.run([checkout.python, "main.py", "serve", "--help"], cwd=checkout.dir,
                          capture_output=True, text=True, timeout=60)
    return "--workers" in done.stdout


def start_project(args: argparse.Namespace, checkout: Checkout, workers: int, graph: str, redis_url: str,
                  inspector: str, work: Path, *, name: str = "") -> Service:
    name = name or f"{checkout.label}-w{workers}"
    env = project_env(args, checkout, graph, redis_url, inspector, work, name)
    # Migrate once, before any worker starts (concurrent auto-migration of SQLite is a known crash).
    subprocess.run([checkout.python, "main.py", "db", "upgrade"], cwd=checkout.dir, env=env, check=True,
                   capture_output=True, timeout=120)
    port = free_port()
    argv = [checkout.python, "main.py", "serve", "--host", "127.0.0.1", "--port", str(port)]
    if workers > 1:
        argv += ["--workers", str(workers)]
    return Service(name, argv, port, work, env=env, cwd=checkout.dir,
                   health="/health").start(120)


def run_load(args: argparse.Namespace, service: Service, events: str, tag: str, phone_base: int,
             users: int, turns: int) -> dict:
    argv = [sys.executable, "-m", "bench.loadgen", "--url", service.url + "/api/v1/webhook", "--events", events,
            "--secret", SECRET, "--phone-id", PHONE_ID, "--tag", tag, "--phone-base", str(phone_base),
            "--users", str(users), "--turns", str(turns), "--text", args.text, "--settle", str(args.settle)]
    done = subprocess.run(argv, cwd=ROOT, capture_output=True, text=True, timeout=1800)
    if done.returncode != 0:
        raise RuntimeError(f"load generator failed on {service.name}: {done.stderr[-2000:]}")
    return json.loads(done.stdout.strip().splitlines()[-1])


def graph_stats(graph: str) -> tuple[int, float]:
    """Calls the fake Graph API has answered, and the CPU seconds it has spent."""
    stats = httpx.get(graph + "/stats").json()
    return stats["messages"] + stats["read_receipts"], stats["cpu_s"]


def redis_cpu(client: redis.Redis) -> float:
    info = client.info("cpu")
    return float(info["used_cpu_sys"]) + float(info["used_cpu_user"])


def measure(args: argparse.Namespace, service: Service, events: str, graph: str, rds: redis.Redis, tag: str,
            phone_base: int) -> dict:
    (calls, gcpu), cpu, rcpu = graph_stats(graph), service.cpu_seconds(), redis_cpu(rds)
    result = run_load(args, service, events, tag, phone_base, args.users, args.turns)
    n = max(1, result["messages"])
    calls_after, gcpu_after = graph_stats(graph)
    result["cpu_ms_per_msg"] = round(1000 * (service.cpu_seconds() - cpu) / n, 3)
    result["redis_ms_per_msg"] = round(1000 * (redis_cpu(rds) - rcpu) / n, 3)
    result["graph_calls_per_msg"] = round((calls_after - calls) / n, 2)
    result["generator_cpu_ms_per_msg"] = round(1000 * result["generator_cpu_s"] / n, 3)
    result["graph_fake_cpu_ms_per_msg"] = round(1000 * (gcpu_after - gcpu) / n, 3)
    # Everything the box spent on one message: with every core busy, cores / this bounds the msg/s of the case.
    result["box_cpu_ms_per_msg"] = round(sum(result[k] for k in (
        "cpu_ms_per_msg", "redis_ms_per_msg", "generator_cpu_ms_per_msg", "graph_fake_cpu_ms_per_msg")), 3)
    return result


def summarize_rounds(results: dict[str, list[dict]]) -> dict[str, dict]:
    table = {}
    for case, runs in results.items():
        row = {}
        for key in MEDIAN_KEYS:
            values = [r[key] for r in runs if r.get(key) is not None]
            row[key] = round(statistics.median(values), 3) if values else None
        rates = [r["msg_per_s"] for r in runs if r.get("msg_per_s") is not None]
        row["msg_per_s_range"] = f"{min(rates):.0f}-{max(rates):.0f}" if rates else None  # bare-httpx has two speeds
        row["lost"] = sum(r["lost"] for r in runs)
        row["duplicated"] = sum(r["duplicated"] for r in runs)
        row["errors"] = sum(sum(r["errors"].values()) for r in runs)
        row["rounds"] = len(runs)
        table[case] = row
    return table


def render(table: dict[str, dict], args: argparse.Namespace) -> str:
    head = ("| case | msg/s | rounds' msg/s | ack p50 ms | ack p99 ms | e2e p50 ms | e2e p99 ms | CPU ms/msg "
            "| Redis CPU ms/msg "
            "| fake Graph CPU ms/msg | load generator CPU ms/msg | box CPU ms/msg | box bound msg/s "
            "| Graph calls/msg | lost | dup | errors | x bare-httpx | x aiohttp floor |")
    lines = [head, "|" + "---|" * (head.count("|") - 1)]
    floor_httpx = (table.get("bare-httpx") or {}).get("msg_per_s")
    floor_aio = (table.get("bare-aiohttp") or {}).get("msg_per_s")
    for case, row in table.items():
        rate = row["msg_per_s"]
        ratio_httpx = f"{rate / floor_httpx:.2f}" if rate and floor_httpx else "-"
        ratio_aio = f"{rate / floor_aio:.2f}" if rate and floor_aio else "-"
        box = row["box_cpu_ms_per_msg"]
        bound = round(1000 * (os.cpu_count() or 1) / box) if box else None
        cells = [case, row["msg_per_s"], row["msg_per_s_range"], row["ack_p50"], row["ack_p99"], row["e2e_p50"],
                 row["e2e_p99"],
                 row["cpu_ms_per_msg"], row["redis_ms_per_msg"], row["graph_fake_cpu_ms_per_msg"],
                 row["generator_cpu_ms_per_msg"], box, bound, row["graph_calls_per_msg"], row["lost"],
                 row["duplicated"], row["errors"], ratio_httpx, ratio_aio]
        lines.append("| " + " | ".join("-" if c is None else str(c) for c in cells) + " |")
    cpu = next((line.split(":", 1)[1].strip() for line in Path("/proc/cpuinfo").read_text().splitlines()
                if line.startswith("model name")), platform.processor())
    lines.append("")
    lines.append(f"{datetime.now(UTC):%Y-%m-%d %H:%M} UTC, {os.cpu_count()} cores ({cpu}), load average before: "
                 f"{args.load_before}; {args.users} users x {args.turns} messages, closed loop, medians of "
                 f"{args.rounds} rounds; {'; '.join(f'{c.label} at {c.dir} ({c.python})' for c in args.checkouts)}; "
                 f"LOG_LEVEL="
                 f"{args.log_level}")
    return "\n".join(lines)


def profile_project(args: argparse.Namespace, graph: str, redis_url: str, inspector: str, work: Path,
                    events: str) -> str:
    """One more load on a fresh, warmed-up serve (1 worker), sampled by py-spy attached to it; the summary.

    py-spy attaches after the warm-up so start-up imports stay out of the profile.
    """
    spy = shutil.which("py-spy") or str(Path(sys.executable).parent / "py-spy")
    if not Path(spy).exists():
        return "py-spy not installed (pip install py-spy): no profile"
    raw = work / "serve-profile.raw.txt"
    service = start_project(args, args.checkouts[0], 1, graph, redis_url, inspector, work,
                            name="project-w1-profiled")
    try:
        run_load(args, service, events, "warmprofile", 2349900000000, min(args.users, 10), 2)
        rate = str(getattr(args, "profile_rate", 200))
        with open(work / "py-spy.log", "wb") as log:
            recorder = subprocess.Popen([spy, "record", "--pid", str(service.pid), "--subprocesses", "--nonblocking",
                                         "--format", "raw", "--rate", rate, "--output", str(raw)],
                                        stdout=log, stderr=subprocess.STDOUT)
        time.sleep(1.0)  # attached before the first message
        try:
            run_load(args, service, events, "profile", 2349910000000, args.users, args.turns)
        finally:
            recorder.send_signal(signal.SIGINT)  # py-spy writes its file on SIGINT
            recorder.wait(60)
    finally:
        service.stop()
    if not raw.exists():
        return f"py-spy wrote no profile: {(work / 'py-spy.log').read_text(errors='replace')[-500:]}"
    return summarize(raw)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--users", type=int, default=50)
    parser.add_argument("--turns", type=int, default=20)
    parser.add_argument("--rounds", type=int, default=3)
    parser.add_argument("--cases", default="bare-httpx,bare-aiohttp,pywa-seed,project",
                        help="comma-separated: bare-httpx, bare-aiohttp, pywa-seed, project")
    parser.add_argument("--workers", default="1", help="serve --workers values for the project case, e.g. 1,2,4")
    parser.add_argument("--project-dir", type=Path, default=ROOT, help="the checkout whose main.py is served")
    parser.add_argument("--project-python", default=sys.executable, help="the interpreter (venv) serving it")
    parser.add_argument("--baseline", type=Path, help="another checkout served as case `baseline` in the same "
                        "rounds (e.g. main before a change), for a comparison under the same machine load")
    parser.add_argument("--baseline-python", help="its interpreter (default: DIR/.venv/bin/python)")
    parser.add_argument("--flows", type=Path, default=None, help="flows file (default: the project's flows.yaml)")
    parser.add_argument("--text", default="hello", help="each message is '<text> <turn>'")
    parser.add_argument("--log-level", default="warning", help="of every server (serve's LOG_LEVEL too)")
    parser.add_argument("--redis-aof", action="store_true", help="the run's redis-server with appendfsync everysec")
    parser.add_argument("--settle", type=float, default=1.0, help="seconds to wait for late duplicate replies")
    parser.add_argument("--profile", type=Path, help="also profile serve with py-spy; write the summary here")
    parser.add_argument("--json", type=Path, help="write every round's figures here")
    parser.add_argument("--warm-each", action="store_true",
                        help="one turn of every user right before each measured load: clients' pools warm, as under "
                             "steady traffic (bare-httpx is 4-5x faster with a warm pool than with a cold one)")
    parser.add_argument("--keep-logs", action="store_true")
    args = parser.parse_args()
    args.checkouts = [Checkout("project", args.project_dir.resolve(), args.project_python)]
    if args.baseline:
        args.checkouts.append(Checkout("baseline", args.baseline.resolve(),
                                       args.baseline_python or str(args.baseline.resolve() / ".venv/bin/python")))
    args.load_before = " ".join(Path("/proc/loadavg").read_text().split()[:3])
    cases = [c.strip() for c in args.cases.split(",") if c.strip()]
    workers = [int(w) for w in args.workers.split(",")]

    work = Path(tempfile.mkdtemp(prefix="bench-webhook-"))
    services: list[Service] = []
    try:
        with redis_server(aof=args.redis_aof) as redis_srv:
            graph_port, events_port = free_port(), free_port()
            fake = Service("graph-fake", [sys.executable, "-m", "bench.graph_fake", "--port", str(graph_port),
                                          "--events-port", str(events_port)], graph_port, work, cwd=ROOT)
            services.append(fake.start())
            graph, events = fake.url, f"127.0.0.1:{events_port}"
            servers: dict[str, Service] = {}
            for case in cases:
                if case in BOTS:
                    port = free_port()
                    servers[case] = Service(case, [sys.executable, "-m", "bench.bots", case, "--port", str(port),
                                                   "--graph", graph, "--secret", SECRET, "--phone-id", PHONE_ID,
                                                   "--token", TOKEN, "--verify", VERIFY, "--log-level",
                                                   args.log_level], port, work, cwd=ROOT).start()
                    services.append(servers[case])
            inspector = ""
            if "project" in cases:
                sandbox_port = free_port()
                main = args.checkouts[0]
                sandbox = Service("sandbox", [main.python, "main.py", "sandbox", "--port", str(sandbox_port)],
                                  sandbox_port, work, cwd=main.dir)
                services.append(sandbox.start())
                inspector = sandbox.url
                db = 0
                for checkout in args.checkouts:
                    can_scale = serve_supports_workers(checkout)
                    for n in workers:
                        name = f"{checkout.label}-w{n}"
                        if n > 1 and not can_scale:
                            print(f"serve has no --workers option in {checkout.dir}: {name} skipped", file=sys.stderr)
                            continue
                        # One Redis database per serve, so their inboxes and state never meet.
                        redis_url = f"redis://127.0.0.1:{redis_srv.port}/{db}"
                        db += 1
                        servers[name] = start_project(args, checkout, n, graph, redis_url, inspector, work)
                        services.append(servers[name])
            rds = redis.Redis(host="127.0.0.1", port=redis_srv.port)
            order = list(servers)
            for index, name in enumerate(order):  # warm-up: imports, pools, first connections
                run_load(args, servers[name], events, f"warm{index}", 2349800000000 + index * 1000, 10, 2)
            results: dict[str, list[dict]] = {name: [] for name in order}
            run_number = 0
            for round_index in range(args.rounds):
                shift = round_index % len(order)
                for name in order[shift:] + order[:shift]:
                    run_number += 1
                    tag = f"r{round_index}{name.replace('-', '')}"
                    if args.warm_each:  # other users than the measured ones, so the load itself is unchanged
                        run_load(args, servers[name], events, tag + "w", 2346000000000 + run_number * 100000,
                                 args.users, 1)
                    result = measure(args, servers[name], events, graph, rds, tag,
                                     2340000000000 + run_number * 100000)
                    result["round"] = round_index
                    results[name].append(result)
                    print(f"round {round_index + 1} {name:13s} {result['msg_per_s']:8.1f} msg/s  ack p99 "
                          f"{result['ack_p99']} ms  cpu {result['cpu_ms_per_msg']} ms/msg  lost {result['lost']} "
                          f"dup {result['duplicated']} errors {result['errors']}", file=sys.stderr, flush=True)
                    time.sleep(0.5)
            table = summarize_rounds(results)
            print(render(table, args))
            if args.json:
                args.json.write_text(json.dumps({"table": table, "runs": results}, indent=1))
            if args.profile and "project" in cases:
                for name in [n for n in order if n.startswith(("project", "baseline"))]:
                    servers[name].stop()  # the profiled serve runs alone
                args.profile.write_text(profile_project(args, graph, f"redis://127.0.0.1:{redis_srv.port}/9",
                                                        inspector, work, events) + "\n")
                print(f"\npy-spy summary of serve: {args.profile}")
            rds.close()
    finally:
        for service in reversed(services):
            service.stop()
        if args.keep_logs:
            print(f"logs: {work}", file=sys.stderr)
        else:
            shutil.rmtree(work, ignore_errors=True)


if __name__ == "__main__":
    main()
