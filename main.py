"""The command line: serve, worker, chat, check, schema, sandbox, db, graph, test, explore, diff, doctor."""

from __future__ import annotations

import argparse
import asyncio
import json
import logging
import sys
from pathlib import Path
from typing import TYPE_CHECKING

from adapters.settings import Settings, SettingsError
from flows.problems import FlowsError

if TYPE_CHECKING:
    from app.runtime import Runtime


def _version() -> str:
    from importlib import metadata

    try:
        return metadata.version("inspector-whatsapp")
    except metadata.PackageNotFoundError:
        return "0.0.0"


def cmd_check(args: argparse.Namespace, settings: Settings) -> int:
    """Validate a flows file; every problem as file:line:col, exit 1 when there are errors."""
    from adapters.redis import connect_redis
    from app.runtime import action_signatures, build_actions
    from flows.loader import check_text
    from flows.translations import load_translations

    path = Path(args.file or settings.flows_path)
    try:
        text = path.read_text(encoding="utf-8")
    except OSError as exc:
        print(f"{path}: cannot read: {exc.strerror}", file=sys.stderr)
        return 1
    signatures = None
    if not args.no_actions:
        signatures = asyncio.run(_signatures(settings, connect_redis, build_actions, action_signatures))
    spec, report = check_text(text, str(path), signatures, load_translations(path))
    for problem in report.problems:
        if problem.severity == "error" or args.verbose or problem.severity == "warning":
            print(problem.format())
        elif problem.severity == "note" and not args.quiet:
            print(problem.format())
    if spec is None or report.errors:
        print(f"{path}: {len(report.errors)} error(s)", file=sys.stderr)
        return 1
    print(report.summary(str(path)))
    return 0


async def _signatures(settings, connect_redis, build_actions, action_signatures):
    """Action names, arguments and result types as the running service registers them (nothing is connected)."""
    return action_signatures(await _registry(settings, connect_redis, build_actions))


async def _registry(settings, connect_redis, build_actions):
    """The action registry the running service builds, with nothing connected."""
    from datetime import UTC, datetime

    from adapters.accounts.database import AccountsDatabase
    from adapters.email.console import ConsoleEmailSender
    from adapters.inspector.wiring import build_inspector_client
    from adapters.jobs.connections import build_scheduler

    quiet = settings.model_copy(update={"redis_url": ""})
    logging.getLogger("adapters.redis").setLevel(logging.ERROR)
    redis, _ = connect_redis(quiet)
    inspector = build_inspector_client(quiet)
    database = AccountsDatabase.from_url("sqlite://")
    registry, _ = build_actions(quiet, redis=redis, inspector=inspector, database=database,
                                email=ConsoleEmailSender(), clock=lambda: datetime.now(UTC),
                                scheduler=build_scheduler(quiet, redis))
    await inspector.aclose()
    return registry


def cmd_actions(args: argparse.Namespace, settings: Settings) -> int:
    """Print the reference of every action flows can call (arguments, result fields, error kinds)."""
    from adapters.redis import connect_redis
    from app.runtime import build_actions
    from tooling.actions_reference import reference

    text = reference(asyncio.run(_registry(settings, connect_redis, build_actions)))
    if args.output:
        Path(args.output).write_text(text, encoding="utf-8")
    else:
        print(text, end="")
    return 0


def cmd_schema(args: argparse.Namespace, settings: Settings) -> int:
    from flows.schema import FlowFile

    schema = FlowFile.model_json_schema()
    text = json.dumps(schema, indent=2, ensure_ascii=False)
    if args.output:
        Path(args.output).write_text(text + "\n", encoding="utf-8")
    else:
        print(text)
    return 0


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


def cmd_graph(args: argparse.Namespace, settings: Settings) -> int:
    """Draw the flows: Mermaid or DOT text, or SVG/PNG through Graphviz."""
    from flows.graph import render
    from flows.loader import load_flows
    from flows.problems import FlowsError

    try:
        data = render(load_flows(args.file or settings.flows_path).spec, args.flow, args.format)
    except (FlowsError, KeyError, RuntimeError) as exc:
        print(exc.args[0] if isinstance(exc, KeyError) else exc, file=sys.stderr)
        return 1
    if args.output:
        Path(args.output).write_bytes(data)
    elif args.format in ("svg", "png") and sys.stdout.isatty():
        print("refusing to print an image to the terminal; use -o FILE", file=sys.stderr)
        return 1
    else:
        sys.stdout.buffer.write(data)
    return 0


def cmd_test(args: argparse.Namespace, settings: Settings) -> int:
    """Run conversation tests (tests/conversations/*.yaml) against the flows, on embedded everything."""
    from tooling.conversations import discover, run_paths

    outcomes, report = asyncio.run(run_paths(discover(args.path), settings.flows_path,
                                             with_coverage=args.coverage, out=sys.stdout))
    for outcome in outcomes:
        if outcome.failure:
            print("\n" + outcome.failure.format())
    failed = sum(not o.ok for o in outcomes)
    print(f"\n{len(outcomes) - failed} passed, {failed} failed")
    if report is not None:
        states, edges = report
        print(f"\ncoverage: {len(states)} state(s) and {len(edges)} transition(s) no test visits")
        print("".join(f"  state {s}\n" for s in states) + "".join(f"  edge  {e}\n" for e in edges), end="")
    return 1 if failed else 0


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


def cmd_explore(args: argparse.Namespace, settings: Settings) -> int:
    """Random conversations checked against the invariants; a failure prints a saveable conversation test."""
    try:
        from tooling.explore import Violation, explore
    except ModuleNotFoundError as exc:
        if exc.name != "hypothesis":
            raise
        print("explore draws its random conversations with hypothesis, which is not installed here.\n"
              "Install it with: pip install 'inspector-whatsapp[staff]'  (or: pip install hypothesis)",
              file=sys.stderr)
        return 2

    try:
        figures = explore(settings.flows_path, flow=args.flow, examples=args.examples, seed=args.seed,
                          failure_rate=args.failure_rate)
    except Violation as exc:
        print(f"\nexplore FAILED: {exc}")
        return 1
    except KeyError as exc:
        print(exc.args[0], file=sys.stderr)
        return 1
    print(f"explore: {figures['examples']} examples, {figures['turns']} turns, every invariant held "
          f"({figures['seconds']} s)")
    for line in figures["coverage_lines"]:
        print(line)
    return 0


def cmd_diff(args: argparse.Namespace, settings: Settings) -> int:
    """Compare two flows files; with Redis, count live conversations in the states the new file removes."""
    from flows.diff import diff_specs, live_in_states
    from flows.loader import load_flows
    from flows.problems import FlowsError

    try:
        old, new = load_flows(args.old).spec, load_flows(args.new).spec
    except FlowsError as exc:
        print(exc, file=sys.stderr)
        return 1
    diff = diff_specs(old, new)
    print(diff.format())
    url = args.redis or settings.redis_url
    if url and diff.states_removed:
        from redis.asyncio import Redis

        async def count() -> tuple[int, dict[str, int]]:
            redis = Redis.from_url(url)
            try:
                return await live_in_states(redis, diff.states_removed)
            finally:
                await redis.aclose()

        total, counts = asyncio.run(count())
        stranded = sum(counts.values())
        print(f"\nlive conversations: {stranded} of {total} sit in removed states (they restart their flow "
              "with `messages.state_reset`)")
        for where, n in sorted(counts.items()):
            print(f"  {where}: {n}")
    elif diff.states_removed:
        print("\n(set REDIS_URL or --redis to count live conversations in the removed states)")
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

    p = sub.add_parser("check", help="validate flows.yaml")
    p.add_argument("file", nargs="?", help="flows file (default: FLOWS_PATH or flows.yaml)")
    p.add_argument("--no-actions", action="store_true", help="do not check action names against the registry")
    p.add_argument("-q", "--quiet", action="store_true", help="hide notes")
    p.add_argument("-v", "--verbose", action="store_true")
    p.set_defaults(func=cmd_check, quiet_logs=True)

    p = sub.add_parser("schema", help="print the JSON Schema of flows.yaml")
    p.add_argument("-o", "--output", help="write to this file instead of stdout")
    p.set_defaults(func=cmd_schema, quiet_logs=True)

    p = sub.add_parser("actions", help="reference of every action flows.yaml can call")
    p.add_argument("-o", "--output", help="write to this file instead of stdout (docs/actions.md)")
    p.set_defaults(func=cmd_actions, quiet_logs=True)

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
    p.add_argument("--burst", action="store_true", help="stop once the queue is empty (tests, one-off runs)")
    p.add_argument("--namespace", default=None, help="queue and key prefix (default: inspector:jobs)")
    p.set_defaults(func=cmd_worker)

    p = sub.add_parser("db", help="database migrations")
    p.add_argument("action", choices=["upgrade", "downgrade"])
    p.add_argument("revision", nargs="?")
    p.set_defaults(func=cmd_db)

    p = sub.add_parser("graph", help="draw the flows as Mermaid, DOT, SVG or PNG")
    p.add_argument("file", nargs="?", help="flows file (default: FLOWS_PATH or flows.yaml)")
    p.add_argument("--flow", help="only this flow (others' states appear as stubs)")
    p.add_argument("--format", default="mermaid", choices=["mermaid", "dot", "svg", "png"])
    p.add_argument("-o", "--output", help="write to this file instead of stdout")
    p.set_defaults(func=cmd_graph, quiet_logs=True)

    p = sub.add_parser("test", help="run conversation tests (YAML transcripts)")
    p.add_argument("path", nargs="?", default="tests/conversations", help="a file or a folder of *.yaml")
    p.add_argument("--coverage", action="store_true", help="list states and transitions no test visits")
    p.set_defaults(func=cmd_test, quiet_logs=True)

    p = sub.add_parser("explore", help="random conversations checked against invariants (hypothesis), answering "
                       "typed questions and firing timeouts")
    p.add_argument("--flow", help="only users of this flow's role (default: every role)")
    p.add_argument("--examples", type=int, default=200, help="how many random conversations (default 200)")
    p.add_argument("--seed", type=int, help="random seed (default: derandomized, the same every run)")
    p.add_argument("--failure-rate", type=float, default=0.1, help="share of turns whose actions fail (0-1)")
    p.set_defaults(func=cmd_explore, quiet_logs=True)

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

    p = sub.add_parser("diff", help="what changes between two flows files (and who is affected)")
    p.add_argument("old")
    p.add_argument("new")
    p.add_argument("--redis", help="Redis URL to count live conversations (default: REDIS_URL)")
    p.set_defaults(func=cmd_diff, quiet_logs=True)
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
