"""The command line: serve, worker, chat, sandbox, db, doctor, broadcast, metrics-reset, and the staff's
commands on flows.yaml (check, schema, actions, graph, test, explore, diff: tooling/staff_commands.py)."""

from __future__ import annotations

import argparse
import asyncio
import sys
from pathlib import Path
from typing import TYPE_CHECKING

from adapters.settings import Settings, SettingsError
from flows.problems import FlowsError
from tooling.staff_commands import add_staff_commands

if TYPE_CHECKING:
    from app.runtime import Runtime


def _version() -> str:
    from importlib import metadata

    try:
        return metadata.version("inspector-whatsapp")
    except metadata.PackageNotFoundError:
        return "0.0.0"


def _runtime_or_explain(settings: Settings, consequence: str, *, check_only: bool = False) -> Runtime | None:
    """The runtime, or None after printing every problem of a broken flows.yaml (nothing half-started).

    `check_only`: build it to check flows.yaml and the settings, then close it (the workers build their own)."""
    from app.runtime import build_runtime

    try:
        runtime = build_runtime(settings, migrate=False if check_only else None)
        if check_only:
            asyncio.run(runtime.aclose())
        return runtime
    except FlowsError as exc:
        print(exc, file=sys.stderr)
        print(f"flows.yaml has errors (see `python main.py check`); {consequence}.", file=sys.stderr)
        return None


def _refuses_live(command: str, settings: Settings) -> bool:
    """In live mode, print every missing or weak setting and refuse (before anything is started)."""
    from adapters.liveness import live_mode_problems, refuse_message

    problems = live_mode_problems(settings)
    if problems:
        print(refuse_message(command, problems), file=sys.stderr)
    return bool(problems)


def cmd_chat(args: argparse.Namespace, settings: Settings) -> int:
    from app.chat import run_chat

    async def main() -> int:
        runtime = _runtime_or_explain(settings, "fix them and start again")
        if runtime is None:
            return 1
        try:
            return await run_chat(runtime, args.phone, args.role)
        finally:
            await runtime.aclose()

    return asyncio.run(main())


def cmd_serve(args: argparse.Namespace, settings: Settings) -> int:
    """Serve the webhook app with uvicorn; flows.yaml is checked first so a broken file stops here."""
    import uvicorn

    from app.server import build_serve_app, prepare, uvicorn_options

    if _refuses_live("serve", settings):
        return 1
    if args.workers > 1 and not settings.redis_url:
        print("--workers above 1 needs REDIS_URL: the workers share the inbox, conversations and leases through "
              "Redis (without it each would have its own in-process store).", file=sys.stderr)
        return 2
    prepare(settings)
    options = {**uvicorn_options(settings), "host": args.host, "port": args.port}
    if args.workers > 1:
        if _runtime_or_explain(settings, "the server was not started", check_only=True) is None:
            return 1
        uvicorn.run("app.server:create_serve_app", factory=True, workers=args.workers, **options)
        return 0
    try:
        app = build_serve_app(settings)
    except FlowsError as exc:
        print(exc, file=sys.stderr)
        print("flows.yaml has errors (see `python main.py check`); the server was not started.", file=sys.stderr)
        return 1
    uvicorn.Server(uvicorn.Config(app, **options)).run()
    return 0


def cmd_sandbox(args: argparse.Namespace, settings: Settings) -> int:
    from adapters.inspector.sandbox import serve_sandbox

    serve_sandbox(host=args.host, port=args.port, data_path=Path(settings.sandbox_data) if settings.sandbox_data
                  else None, api_key=settings.inspector_api_key)
    return 0


def cmd_db(args: argparse.Namespace, settings: Settings) -> int:
    from adapters.accounts.database import downgrade_database, upgrade_database

    if args.action == "upgrade":
        upgrade_database(settings.database_url, args.revision or "head")
    else:
        downgrade_database(settings.database_url, args.revision or "base")
    print(f"database {args.action}d to {args.revision or ('head' if args.action == 'upgrade' else 'base')}")
    return 0


def cmd_worker(args: argparse.Namespace, settings: Settings) -> int:
    """Run the background jobs (reminders, digests, alerts, retried deliveries) from Redis."""
    if _refuses_live("worker", settings):
        return 1
    if not settings.redis_url:
        print("`python main.py worker` needs REDIS_URL (e.g. REDIS_URL=redis://localhost:6379/0): it takes its "
              "jobs from Redis, where the web process puts them. Without REDIS_URL, `python main.py serve` "
              "runs the jobs in its own process.", file=sys.stderr)
        return 2
    from adapters.jobs.store import DEFAULT_NAMESPACE
    from app.worker import run_worker

    asyncio.run(run_worker(settings, burst=args.burst, namespace=args.namespace or DEFAULT_NAMESPACE))
    return 0


def cmd_doctor(args: argparse.Namespace, settings: Settings) -> int:
    """Check settings, Redis, the database, Inspector, SMTP and the Graph token; one line each."""
    from tooling.doctor import diagnose, report

    print(f"inspector-whatsapp {_version()} doctor\n")
    return report(asyncio.run(diagnose(settings, timeout=args.timeout)), sys.stdout)


def cmd_metrics_reset(args: argparse.Namespace, settings: Settings) -> int:
    """Empty PROMETHEUS_MULTIPROC_DIR before the service starts (old processes' samples would add up)."""
    from adapters.observability.multiprocess import reset

    directory = args.dir or settings.prometheus_multiproc_dir
    if not directory:
        print("PROMETHEUS_MULTIPROC_DIR is not set: metrics are per process, nothing to reset")
        return 0
    Path(directory).mkdir(parents=True, exist_ok=True)
    print(f"{directory}: removed {reset(directory)} sample file(s)")
    return 0


def cmd_broadcast(args: argparse.Namespace, settings: Settings) -> int:
    """Send (or count, with --dry-run) a broadcast from this process, with a progress bar."""
    from adapters.whatsapp.outbound import build_sender
    from tooling.broadcast_cli import run_broadcast_command

    if not args.resume and not (args.text or args.template):
        print("give --text, --template, or both (or --resume ID)", file=sys.stderr)
        return 2

    async def main() -> int:
        runtime = _runtime_or_explain(settings, "nothing was sent")
        if runtime is None:
            return 1
        sender = build_sender(settings)
        try:
            return await run_broadcast_command(args, runtime, sender)
        finally:
            await sender.aclose()
            await runtime.aclose()

    try:
        return asyncio.run(main())
    except KeyboardInterrupt:
        print("\nstopped after the sends in flight; run again with --resume ID to finish", file=sys.stderr)
        return 130


def build_parser() -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(prog="python main.py", description=__doc__)
    parser.add_argument("--log-level", default=None, help="DEBUG, INFO, WARNING (default: LOG_LEVEL or INFO)")
    parser.add_argument("--version", action="version", version=f"inspector-whatsapp {_version()}")
    sub = parser.add_subparsers(dest="command", required=True)

    p = sub.add_parser("chat", help="talk to the engine in the terminal (embedded defaults)")
    p.add_argument("--phone", default="+2348000000001", help="your pretend WhatsApp number (E.164)")
    p.add_argument("--as", dest="role", choices=["seeker", "agent", "inspector"],
                   help="start as that role's linked demo user")
    p.set_defaults(func=cmd_chat, quiet_logs=True)

    add_staff_commands(sub)

    p = sub.add_parser("serve", help="serve the WhatsApp webhook and REST API")
    p.add_argument("--host", default="0.0.0.0")
    p.add_argument("--port", type=int, default=8000)
    p.add_argument("--workers", type=int, default=1, help="worker processes sharing the work through Redis "
                   "(needs REDIS_URL; default 1)")
    p.set_defaults(func=cmd_serve)

    p = sub.add_parser("sandbox", help="serve the sandbox Inspector API")
    p.add_argument("--host", default="127.0.0.1")
    p.add_argument("--port", type=int, default=8100)
    p.set_defaults(func=cmd_sandbox)

    p = sub.add_parser("worker", help="run background jobs from Redis (needs REDIS_URL)")
    p.add_argument("--burst", action="store_true", help="run the jobs due now, then stop (later ones stay queued)")
    p.add_argument("--namespace", default=None, help="queue and key prefix (default: inspector:jobs)")
    p.set_defaults(func=cmd_worker)

    p = sub.add_parser("db", help="database migrations")
    p.add_argument("action", choices=["upgrade", "downgrade"])
    p.add_argument("revision", nargs="?")
    p.set_defaults(func=cmd_db)

    p = sub.add_parser("broadcast", help="send one message to linked users, throttled, with a progress bar")
    p.add_argument("--role", choices=["seeker", "agent", "inspector"], help="only this role (default: all)")
    p.add_argument("--active-within-days", type=int, help="only users who wrote in the last N days")
    p.add_argument("--text", help="the message inside the 24-hour window")
    p.add_argument("--template", help="approved template sent outside the window")
    p.add_argument("--param", action="append", help="a template parameter (repeat in order)")
    p.add_argument("--language", default="en", help="template language (default en)")
    p.add_argument("--rate", type=float, help="messages per second (default BROADCAST_RATE, 80)")
    p.add_argument("--dry-run", action="store_true", help="only count the audience")
    p.add_argument("--resume", metavar="ID", help="carry on an interrupted broadcast")
    p.set_defaults(func=cmd_broadcast, quiet_logs=True)

    p = sub.add_parser("doctor", help="check settings, Redis, database, Inspector, SMTP and the WhatsApp token")
    p.add_argument("--timeout", type=float, default=10.0, help="seconds per check (default 10)")
    p.set_defaults(func=cmd_doctor, quiet_logs=True)

    p = sub.add_parser("metrics-reset", help="empty PROMETHEUS_MULTIPROC_DIR before the processes start")
    p.add_argument("--dir", help="the directory (default: PROMETHEUS_MULTIPROC_DIR)")
    p.set_defaults(func=cmd_metrics_reset, quiet_logs=True)

    return parser


def main(argv: list[str] | None = None) -> int:
    args = build_parser().parse_args(argv)
    try:
        settings = Settings.from_env()
    except SettingsError as exc:
        print(f"the environment has settings that cannot be read: {exc}", file=sys.stderr)
        return 2
    quiet = getattr(args, "quiet_logs", False)
    level = args.log_level or ("WARNING" if quiet else settings.log_level)
    from app.observability import configure_process

    # Every logger masked; terminal commands (chat, check...) keep text logs and no error tracking.
    configure_process(settings, fmt="text" if quiet else None, level=level, error_tracking=not quiet)
    return int(args.func(args, settings) or 0)


if __name__ == "__main__":
    sys.exit(main())
