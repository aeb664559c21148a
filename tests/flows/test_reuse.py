"""The reuse constructs of the flow language: shared choices expanded with their positions, lists of calls,
shared flows with parameters and a return; every misuse is a problem at its file:line:col. Own fixture."""

from __future__ import annotations

import re

from engine.compiler import CompiledFlows
from flows import edges
from flows.loader import LoadedFlows, check_text
from flows.schema_reuse import MAX_DEPTH
from flows.targets import Target

BASE = """\
messages:
  not_understood: "?"
  stale_choice: "old"
  unsupported_message: "text only"
  action_failed: "failed"
  state_reset: "reset"
  rate_limited: "slow"
  internal_error: "oops"
commands:
  menu: {keywords: [menu], goto: "@menu"}
choices:
  home: {id: home, title: "Home", goto: "@menu"}
  pair:
    - {id: a, title: "A", goto: menu}
    - {id: b, title: "B", goto: menu}
flows:
  unlinked:
    role: unlinked
    start: menu
    menu: menu
    states:
      menu:
        say:
          text: "Hi"
          choices:
            - {id: first, title: "First", goto: ask}
            - use: pair
            - use: home
      ask:
        call:
          - {action: t.one, as: one, on_error: "@continue"}
          - {action: t.two, as: two, on_error: menu, on_empty: menu}
        subflow: {flow: confirm, with: {question: "Sure?"}, then: menu, as: answer}
  confirm:
    role: shared
    params:
      question: {description: "What to ask"}
      ok_title: {default: "Yes"}
    start: ask
    states:
      ask:
        say:
          text: "{{ question }}"
          choices:
            - {id: ok, title: "{{ ok_title }}", goto: done}
            - {id: nope, title: "No", goto: "@return"}
            - use: home
      done:
        return: "{{ answer }}"
"""


def problems(text: str) -> list[str]:
    return [p.format() for p in check_text(text)[1].problems if p.severity != "note"]


def line_of(text: str, needle: str, nth: int = 1) -> int:
    """1-based line of the nth line containing `needle` (so expectations follow the fixture)."""
    found = [i + 1 for i, line in enumerate(text.splitlines()) if needle in line]
    return found[nth - 1]


def at(text: str, needle: str, nth: int = 1) -> str:
    """`flows.yaml:LINE:COL` of where `needle` starts (its nth line)."""
    line = line_of(text, needle, nth)
    return f"flows.yaml:{line}:{text.splitlines()[line - 1].index(needle) + 1}"


VALID = BASE


def test_the_fixture_is_valid_and_shared_choices_are_expanded_in_place() -> None:
    spec, report = check_text(VALID)
    assert spec is not None and report.errors == [], [p.format() for p in report.errors]
    menu = spec.flows["unlinked"].states["menu"].say
    assert menu is not None and [c.id for c in menu.choices] == ["first", "a", "b", "home"]
    assert [c.goto for c in menu.choices] == ["ask", "menu", "menu", "@menu"]
    assert [(e.trigger, e.target) for e in edges.edges(spec.flows["unlinked"].states["ask"])] == [
        ("error", "@continue"), ("empty", None), ("error:1", "menu"), ("empty:1", "menu"),
        ("subflow", "confirm"), ("then", "menu")]
    assert [(e.trigger, e.target) for e in edges.edges(spec.flows["confirm"].states["done"])] == [
        ("return", "@return")]


def test_the_compiled_table_enters_shared_flows_and_leaves_their_dynamic_targets_to_the_engine() -> None:
    spec, report = check_text(VALID)
    assert spec is not None
    compiled = CompiledFlows(LoadedFlows(spec, report, "x", "0" * 64))
    assert compiled.transition("unlinked", "ask", "subflow") == Target("confirm", "ask")
    assert compiled.transition("unlinked", "ask", "then") == Target("unlinked", "menu")
    assert compiled.transition("confirm", "ask", "choice:nope") is None
    assert compiled.dynamic_target("confirm", "ask", "choice:nope") == "@return"
    assert compiled.dynamic_target("confirm", "ask", "choice:home") == "@menu"  # the user's own menu
    assert compiled.dynamic_target("confirm", "done", "return") == "@return"
    assert ("confirm", "ask") in edges.reachable(spec) and ("confirm", "done") in edges.reachable(spec)


def test_a_problem_in_a_shared_choice_points_at_its_definition_and_names_the_use() -> None:
    text = VALID.replace('title: "Home"', 'title: "A very long title for a button"')
    found = [p for p in problems(text) if "chars" in p]
    where = at(text, 'title: "A very long')
    assert found == [
        f"{where}: unlinked.menu.say.choices[3].title: title "
        "`A very long title for a button` is 30 chars; WhatsApp allows 24 here (it would be cut to "
        f"`A very long title for a…`) (from `use: home` at line {line_of(text, '- use: home')})",
        f"{where}: confirm.ask.say.choices[2].title: title "
        "`A very long title for a button` is 30 chars; WhatsApp allows 20 here (it would be cut to "
        f"`A very long title f…`) (from `use: home` at line {line_of(text, '- use: home', 2)})",
    ]


def test_whatsapp_limits_count_the_expanded_choices() -> None:
    text = VALID.replace("            - use: home\n      done:", "            - use: pair\n      done:")
    text = text.replace("style: auto", "")
    spec, report = check_text(text)
    assert spec is not None and len(spec.flows["confirm"].states["ask"].say.choices) == 4  # type: ignore[union-attr]
    assert any("4 choices: sent as a list message" in p.message for p in report.problems)


def test_every_misuse_is_a_problem_at_its_line_and_column() -> None:
    cases = {
        # an unknown shared choice, with a did-you-mean
        ("- use: home\n      ask:", "- use: hme\n      ask:"): (
            "use: hme", "no shared choice `hme` under the top-level `choices:` (did you mean `home`?)"),
        # `use:` stands alone
        ("- use: pair", "- {use: pair, goto: menu}"): ("use: pair, goto", "`use:` stands alone"),
        # an unknown shared flow
        ("subflow: {flow: confirm,", "subflow: {flow: confirn,"): (
            "flow: confirn", "flow `confirn` does not exist; `subflow:` enters a shared flow (did you mean `confirm`?)"),
        # a parameter the shared flow does not take
        ('with: {question: "Sure?"}', 'with: {question: "Sure?", colour: red}'): (
            "colour: red}", "shared flow `confirm` takes no parameter `colour` (it takes: ok_title, question)"),
        # a required parameter missing
        ('with: {question: "Sure?"}', 'with: {ok_title: "Ok"}'): ('with: {ok_title: "Ok"}', "shared flow `confirm` needs "
                                                                                     "`question`"),
        # `return` outside a shared flow
        ("      menu:\n        say:", "      menu:\n        return: 1\n        say:"): (
            "return: 1", "`return` goes back to the caller of a shared flow, but `unlinked` is not shared"),
        # `@return` outside a shared flow
        ('{id: first, title: "First", goto: ask}', '{id: first, title: "First", goto: "@return"}'): (
            'goto: "@return"}', "`@return` goes back to the caller of a shared flow, but `unlinked` is not shared"),
        # a jump into a shared flow without `subflow:`
        ('{id: first, title: "First", goto: ask}', '{id: first, title: "First", goto: confirm.ask}'): (
            "goto: confirm.ask}", "`confirm.ask` jumps into shared flow `confirm`, which only `subflow:` may enter"),
        # `@continue` outside a call
        ('{id: first, title: "First", goto: ask}', '{id: first, title: "First", goto: "@continue"}'): (
            'goto: "@continue"}', "`@continue` only works in a call's `on_error` or `on_empty`"),
        # a shared flow has no menu, and only a shared flow takes parameters
        ("    role: shared\n", "    role: shared\n    menu: ask\n"): ("menu: ask", "a shared flow has no `menu:`"),
        ("    role: unlinked\n", "    role: unlinked\n    params: {x: {}}\n"): (
            "params: {x", "only a shared flow (`role: shared`) takes `params:`"),
        # with/as in a list of calls belong to each call
        ("        call:\n", "        as: x\n        call:\n"): (
            "ask:", "`with`, `as`, `on_error` and `on_empty` go with a single `call: action`"),
    }
    for (old, new), (needle, message) in cases.items():
        text = VALID.replace(old, new, 1)
        assert text != VALID, old
        found = problems(text)
        assert any(p.startswith(at(text, needle) + ": ") and message in p for p in found), (new, at(text, needle),
                                                                                              found)



def test_a_shared_state_that_can_never_return_and_a_flow_that_never_returns() -> None:
    stuck = VALID.replace('      done:\n        return: "{{ answer }}"\n',
                          '      done:\n        say: {text: "Stuck", choices: [{id: again, title: "Again", goto: done}]}\n')
    found = problems(stuck)
    line = line_of(stuck, "      done:")
    assert any(p.startswith(f"flows.yaml:{line}:7: confirm.done: `confirm.done` can never return to its caller")
               for p in found), found
    never = stuck.replace('goto: "@return"}', "goto: done}")
    never = never.replace("            - use: home\n      done:", "      done:")
    found = problems(never)
    assert any(re.match(rf"flows.yaml:{line_of(never, '  confirm:')}:3: confirm: shared flow `confirm` never returns",
                        p) for p in found), found


def test_recursion_and_nesting_deeper_than_the_engine_keeps_are_refused() -> None:
    chain = "".join(f"""
  s{i}:
    role: shared
    start: go
    states:
      go:
        subflow: {{flow: s{i + 1}, then: back}}
      back:
        return: 1
""" for i in range(MAX_DEPTH + 1)) + f"""
  s{MAX_DEPTH + 1}:
    role: shared
    start: go
    states:
      go:
        return: 1
"""
    deep = VALID.replace("subflow: {flow: confirm, with: {question: \"Sure?\"}, then: menu, as: answer}",
                         "subflow: {flow: s0, then: menu}") + chain
    found = [p for p in problems(deep) if "deep" in p]
    assert found == [f"{at(deep, 'flow: s5, then')}: s4.go.subflow.flow: shared flows nest "
                     f"{MAX_DEPTH + 1} deep here (unlinked → s0 → s1 → s2 → s3 → s4 → s5); the engine keeps at most "
                     f"{MAX_DEPTH} calls open"]
    circle = deep.replace(f"flow: s{MAX_DEPTH}, then", "flow: s1, then")
    found = [p for p in problems(circle) if "call each other in a circle" in p]
    assert len(found) == 1 and "(s1 → s2 → s3 → s4 → s1)" in found[0]


def test_an_unused_shared_choice_is_a_warning() -> None:
    text = VALID.replace("choices:\n  home:", "choices:\n  spare: {id: spare, title: \"Spare\"}\n  home:")
    assert f"flows.yaml:{line_of(text, 'spare:')}:3: warning: choices.spare: shared choice `spare` is never used " \
           "(put it in a state's choices with `- use: spare`, or remove it)" in problems(text)


def test_diff_names_each_call_of_a_list_and_the_texts_passed_to_a_shared_flow() -> None:
    from flows.diff import diff_specs

    before, _ = check_text(VALID)
    after, _ = check_text(VALID.replace("on_error: menu, on_empty: menu", "on_error: ask, on_empty: menu")
                          .replace('question: "Sure?"', 'question: "Really?"'))
    assert before is not None and after is not None
    diff = diff_specs(before, after)
    assert diff.transitions_retargeted == ["unlinked.ask --error:1--> menu (now ask)"]
    assert [where for where, _, _ in diff.texts_changed] == ["unlinked.ask.subflow.with.question"]
