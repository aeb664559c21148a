"""Engine bugs found by the staff tooling, pinned so they stay fixed."""

from __future__ import annotations

from pathlib import Path

import yaml

from tests.shipped import SHIPPED_FLOWS, pieces, say_text, shipped_spec
from tooling.conversations import load_file, run_file


async def test_an_unrouted_action_failure_stops_the_state(tmp_path: Path) -> None:
    """A failed `call` without `on_error` put the user back at their prompt, then rendered the failed
    state's `say` anyway (empty values) and saved its choices as the ones on offer."""
    path = tmp_path / "halt.yaml"
    unavailable = pieces(shipped_spec().messages["error_unavailable"])[0]
    steps = [
        {"user": "menu"},
        {"fail_actions": True},
        {"user": {"list": "bookings"}},  # taps by id: the titles are staff's to change
        {"bot": {"says": unavailable, "not_says": pieces(say_text("seeker", "bookings"))[0], "state": "seeker.menu"}},
        {"user": {"list": "browse"}},
        {"bot": {"says": pieces(say_text("seeker", "browse"))[0], "state": "seeker.browse"}},
    ]
    test = {"name": "my inspections while Inspector is down", "as": "seeker", "steps": steps}
    path.write_text(yaml.safe_dump({"tests": [test]}, allow_unicode=True), encoding="utf-8")
    [outcome] = await run_file(load_file(path), SHIPPED_FLOWS)
    assert outcome.ok, outcome.failure and outcome.failure.format()
