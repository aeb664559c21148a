"""Every conversation test file under tests/conversations runs here too, one pytest case per file."""

from __future__ import annotations

from pathlib import Path

import pytest

from tests.shipped import ROOT, SHIPPED_FLOWS, edited, pieces, say_text, states_of, title
from tooling.conversations import discover, load_file, run_file, run_paths

FILES = discover(ROOT / "tests" / "conversations")
FLOWS = SHIPPED_FLOWS


@pytest.mark.parametrize("path", FILES, ids=[p.stem for p in FILES])
async def test_conversation_file(path: Path) -> None:
    outcomes = await run_file(load_file(path), FLOWS)
    failures = [o.failure.format() for o in outcomes if o.failure]
    assert not failures, "\n\n".join(failures)


async def test_a_failing_step_names_its_line_and_shows_both_sides(tmp_path: Path) -> None:
    path = tmp_path / "broken.yaml"
    path.write_text(
        "tests:\n"
        "  - name: wrong expectation\n"
        "    steps:\n"
        "      - user: hi\n"
        "      - bot: {says: 'Goodbye', state: unlinked.ask_code}\n",
        encoding="utf-8",
    )
    [outcome] = await run_file(load_file(path), FLOWS)
    assert outcome.failure is not None
    text = outcome.failure.format()
    assert f"{path}:5: after you> hi: no message says 'Goodbye'" in text
    assert "EXPECTED" in text and "ACTUAL" in text and pieces(say_text("unlinked", "welcome"))[0] in text


async def test_a_reworded_text_is_shown_old_beside_new_with_its_flows_line(tmp_path: Path) -> None:
    """A staff copy edit breaks a conversation test; the failure says which flows.yaml line changed and how."""
    old = pieces(say_text("seeker", "menu"))[-1]
    old_title = title("seeker", "menu", "browse")

    def reword(data):
        menu = states_of(data, "seeker")["menu"]["say"]
        menu["text"] = "Hello {{ user.name }}, how can I help you today?"
        next(c for c in menu["choices"] if c["id"] == "browse")["title"] = "See all homes"

    flows = tmp_path / "flows.yaml"
    flows.write_text(edited(reword), encoding="utf-8")
    line = next(n for n, text in enumerate(flows.read_text().splitlines(), 1) if "how can I help you today" in text)
    path = tmp_path / "menu.yaml"
    path.write_text(
        "tests:\n"
        "  - name: the menu\n"
        "    as: seeker\n"
        "    steps:\n"
        "      - user: menu\n"
        f"      - bot: {{says: {old!r}}}\n"
        "  - name: browse\n"
        "    as: seeker\n"
        "    steps:\n"
        "      - user: menu\n"
        f"      - user: {{list: {old_title!r}}}\n"
        "      - bot: {state: seeker.browse}\n",
        encoding="utf-8",
    )
    said, tapped = await run_file(load_file(path), flows)
    text = said.failure.format()
    assert "IN THE TEST (OLD)" in text and f"IN {flows}:{line} (seeker.menu.say.text) (NEW)" in text, text
    assert any(r.strip().startswith(old) and "{{ user.name }}, how can I help" in r for r in text.splitlines()), text
    text = tapped.failure.format()
    assert "TAPPED IN THE TEST" in text and "(seeker.menu.say.choices)" in text, text
    assert any(old_title in r and "See all homes" in r for r in text.splitlines()), text


async def test_coverage_lists_what_no_test_visits(tmp_path: Path) -> None:
    path = tmp_path / "tiny.yaml"
    path.write_text("tests:\n  - name: hello\n    steps:\n      - user: hi\n", encoding="utf-8")
    outcomes, report = await run_paths([path], FLOWS, with_coverage=True)
    assert all(o.ok for o in outcomes)
    states, edges = report
    assert "seeker.booked" in states and "unlinked.welcome" not in states
    assert "unlinked.ask_code --error--> link_failed" in edges


def test_every_notification_button_is_tapped_by_a_conversation_test() -> None:
    """Each button of each notification in flows.yaml is tapped (by its id) right after a `notify:` step."""
    from tests.shipped import shipped_spec

    spec = shipped_spec()
    wanted = {(name, c.id) for name, n in spec.notifications.items() for c in n.choices}
    tapped = set()
    for path in FILES:
        for test in load_file(path).tests:
            notified = None
            for step in test.get("steps") or []:
                (kind, value), = step.items()
                if kind == "notify":
                    notified = value if isinstance(value, str) else value["name"]
                elif kind == "user" and notified and isinstance(value, dict) and "button" in value:
                    choices = spec.notifications[notified].choices
                    tapped |= {(notified, c.id) for c in choices if _same_id(c.id, str(value["button"]))}
                    notified = None
    assert wanted - tapped == set() and len(wanted) >= 5


def _same_id(template: str, tapped: str) -> bool:
    """`call_agent:{{ inspection.id }}` is tapped as `call_agent:ins_001`."""
    fixed = template.split("{{", 1)[0]
    return tapped == template or ("{{" in template and tapped.startswith(fixed) and len(tapped) > len(fixed))


def test_every_conversation_test_runs_at_a_fixed_instant() -> None:
    """The sandbox seeds its bookings and slots around the test clock: on the wall clock a file would see other
    data on a Sunday, after 17:00 or across midnight. A `clock:` for the file, or for each of its tests."""
    unpinned = [f"{path.name}: {test.get('name')}" for path in FILES for conv in [load_file(path)]
                for test in conv.tests if not (test.get("clock") or conv.source.data.get("clock"))]
    assert unpinned == []
