"""Time passing in `explore`: in a state with `timeouts:`, the clock moves on until a drawn timeout is due and
the due ones fire, in order, as the `conversation_timeout` job runs them (inside the 24-hour window), each
once per stay in the state. The transcript says it as `advance:` and `jobs: run`, so it replays."""

from __future__ import annotations

from datetime import timedelta
from typing import Any

from engine.timeouts import fire, timers_for
from engine.turn import Turn
from tooling.explore_coverage import Coverage
from tooling.explore_walk import Violation, Walk, message_problems, transcript
from tooling.harness import UserSession, World


async def pass_time(world: World, user: UserSession, n: int, walk: Walk, coverage: Coverage) -> int:
    """Fire the due timeouts of the user's state up to the `n`-th pending one; how many fired (0: none
    pending here, nothing happened). A broken invariant raises Violation."""
    engine = world.runtime.engine
    conversation = await engine.store.load(user.phone)
    pending = sorted((t for t in timers_for(engine, conversation) if (t.stamp, t.index) not in walk.fired),
                     key=lambda t: (t.delay, t.index))
    if conversation is None or not pending:
        return 0
    chosen = pending[n % len(pending)]
    ahead = max(chosen.delay - walk.waited.get(chosen.stamp, 0.0), 0.0)
    walk.waited[chosen.stamp] = max(chosen.delay, walk.waited.get(chosen.stamp, 0.0))
    world.clock.advance(timedelta(seconds=ahead))
    walk.script += [{"advance": f"{ahead:.0f}s" if float(ahead).is_integer() else f"{ahead:.3f}s"}, {"jobs": "run"}]
    problems: list[str] = []
    spec, flow, state, count = engine.flows.spec, conversation.flow, conversation.state, 0
    for timer in (t for t in pending if t.delay <= chosen.delay):
        walk.fired.add((timer.stamp, timer.index))
        timeout = spec.flows[timer.flow].states[timer.state].timeouts[timer.index]
        name = f"timeout {timer.index} of {timer.flow}.{timer.state} (after {timeout.after})"
        try:
            turn = await fire(engine, timer, in_window=True)
        except Exception as exc:  # noqa: BLE001 - any escape from the engine is the finding
            raise Violation(f"{name} raised {type(exc).__name__}: {exc}", transcript(walk.role, walk.script)) from exc
        count += 1
        if turn is None:
            problems.append(f"{name} was due but did not fire")
            break
        coverage.fired[(timer.flow, timer.state, timer.index)] += 1
        after = await engine.store.load(user.phone)
        flow, state = turn.flow, turn.state
        problems += [f"{name}: {p}" for p in timer_problems(turn, timeout, after, spec)]
        if timeout.goto:
            break  # the user moved: the other timers of the state are void
    walk.bot(flow, state, problems)
    return count


def timer_problems(turn: Turn, timeout: Any, after: Any, spec: Any) -> list[str]:
    """What a fired timeout must hold: its nudge said and within WhatsApp's limits, no empty template value,
    and the user left in a known state of their own role's flow."""
    problems = [p for m in turn.messages for p in message_problems(m)]
    problems += [n for n in turn.notices if n.startswith(("template rendered empty values", "role guard"))]
    if turn.error is not None:
        problems.append(f"internal error, rolled back: {turn.error}")
    if timeout.say and not any(m.text for m in turn.messages):
        problems.append("the nudge said nothing")
    flow = spec.flows.get(turn.flow)
    if flow is None or turn.state not in flow.states:
        problems.append(f"ended in unknown state {turn.flow}.{turn.state}")
    elif after is not None and flow.role != after.role:
        problems.append(f"a {after.role} user ended in the {flow.role} flow {turn.flow}")
    return problems
