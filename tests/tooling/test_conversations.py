"""Every conversation test file under tests/conversations runs here too, one pytest case per file."""

from __future__ import annotations

from pathlib import Path

import pytest

from tooling.conversations import discover, load_file, run_file, run_paths

ROOT = Path(__file__).resolve().parents[2]
FILES = discover(ROOT / "tests" / "conversations")
FLOWS = ROOT / "flows.yaml"


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
    assert "EXPECTED" in text and "ACTUAL" in text and "Welcome to *Inspector*" in text


async def test_coverage_lists_what_no_test_visits(tmp_path: Path) -> None:
    path = tmp_path / "tiny.yaml"
    path.write_text("tests:\n  - name: hello\n    steps:\n      - user: hi\n", encoding="utf-8")
    outcomes, report = await run_paths([path], FLOWS, with_coverage=True)
    assert all(o.ok for o in outcomes)
    states, edges = report
    assert "seeker.book" in states and "unlinked.welcome" not in states
    assert "unlinked.send_code --error--> link_failed" in edges
