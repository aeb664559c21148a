"""Engine bugs found by the staff tooling, pinned so they stay fixed."""

from __future__ import annotations

from pathlib import Path

from tooling.conversations import load_file, run_file

FLOWS = Path(__file__).resolve().parents[2] / "flows.yaml"


async def test_an_unrouted_action_failure_stops_the_state(tmp_path: Path) -> None:
    """A failed `call` without `on_error` put the user back at their prompt, then rendered the failed
    state's `say` anyway (empty values) and saved its choices as the ones on offer."""
    path = tmp_path / "halt.yaml"
    path.write_text(
        "tests:\n"
        "  - name: my inspections while Inspector is down\n"
        "    as: seeker\n"
        "    steps:\n"
        "      - user: menu\n"
        "      - fail_actions: true\n"
        "      - user: {list: My inspections}\n"
        "      - bot: {says: 'not answering', not_says: 'Your inspections (', state: seeker.menu}\n"
        "      - user: {list: Browse properties}\n"
        "      - bot: {says: 'Available properties', state: seeker.browse}\n",
        encoding="utf-8",
    )
    [outcome] = await run_file(load_file(path), FLOWS)
    assert outcome.ok, outcome.failure and outcome.failure.format()
