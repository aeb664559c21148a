"""The staff's commands on flows.yaml: check, schema, actions, graph, test, explore, diff.

They read and test the flows; none starts the service. main.py adds them to its command line with
`add_staff_commands`.
"""

from __future__ import annotations

import argparse
import asyncio
import json
import logging
import sys
from pathlib import Path
from typing import Any

from adapters.settings import Settings


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
        signatures = asyncio.run(service_signatures(settings, connect_redis, build_actions, action_signatures))
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


async def service_signatures(settings, connect_redis, build_actions, action_signatures):
    """Action names, arguments and result types as the running service registers them (nothing is connected)."""
    return action_signatures(await service_registry(settings, connect_redis, build_actions))


async def service_registry(settings, connect_redis, build_actions):
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

    text = reference(asyncio.run(service_registry(settings, connect_redis, build_actions)))
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


def add_staff_commands(sub: Any) -> None:
    """Register the staff's subcommands on main.py's parser (`sub` is its subparsers object)."""
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

    p = sub.add_parser("diff", help="what changes between two flows files (and who is affected)")
    p.add_argument("old")
    p.add_argument("new")
    p.add_argument("--redis", help="Redis URL to count live conversations (default: REDIS_URL)")
    p.set_defaults(func=cmd_diff, quiet_logs=True)
