"""`python -m tooling.flow_stats`: lines, states and the pass-through states a file still has (own fixture)."""

from __future__ import annotations

from pathlib import Path

from tests.flows.test_reuse import VALID
from tooling.flow_stats import main


def test_pass_through_states_are_the_silent_ones_that_move_on_at_once(tmp_path: Path, capsys) -> None:  # type: ignore[no-untyped-def]
    path = tmp_path / "flows.yaml"
    path.write_text(VALID, encoding="utf-8")
    assert main([str(path)]) == 0
    out = capsys.readouterr().out.splitlines()
    # `ask` only calls and enters a shared flow; `done` only returns; `menu` and `confirm.ask` wait.
    assert out == [f"{path}: {len(VALID.splitlines())} lines, 4 states, 2 pass-through states",
                   "  unlinked.ask", "  confirm.done"]
