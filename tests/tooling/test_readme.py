"""The README's staff section shows real output: the commands it runs on fixture files (never on flows.yaml,
whose lines and wording staff change) are run again here, and every line the README pastes must still be
printed, in order. A `...` line stands for lines left out."""

from __future__ import annotations

import os
import re
import subprocess
import sys
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[2]
README = ROOT / "README.md"
#: Commands whose pasted output is checked: they read only fixtures, so staff's edits cannot change it.
CHECKED = re.compile(r"^\$ (FLOWS_PATH=tests/\S+ )?python main\.py (check tests/\S+|actions|test tests/tooling/\S+)$")


def staff_section() -> str:
    text = README.read_text(encoding="utf-8")
    start = text.index("## For product staff: editing the conversation")
    return text[start:text.index("\n## ", start + 1)]


def console_runs() -> list[tuple[str, list[str]]]:
    """(command, the output lines pasted under it) of every `console` block of the staff section."""
    runs: list[tuple[str, list[str]]] = []
    for block in re.findall(r"```console\n(.*?)```", staff_section(), re.DOTALL):
        for line in block.splitlines():
            if line.startswith("$ "):
                runs.append((line.split("  #")[0].rstrip(), []))
            elif runs:
                runs[-1][1].append(line)
    return runs


def checked_runs() -> list[tuple[str, list[str]]]:
    return [(command, lines) for command, lines in console_runs() if CHECKED.match(command)]


def test_the_staff_section_runs_every_kind_of_fixture_command() -> None:
    commands = [command for command, _ in checked_runs()]
    assert any("check tests/flows/fixtures/broken.yaml" in c for c in commands)
    assert any("check tests/tooling/fixtures/typed_templates.yaml" in c for c in commands)
    assert any("check tests/tooling/fixtures/asking_broken.yaml" in c for c in commands)
    assert any(c.endswith("python main.py actions") for c in commands)
    assert any("test tests/tooling/fixtures/asking_conversations.yaml" in c for c in commands)


def test_the_staff_section_has_no_heading_of_pasted_output() -> None:
    """Only the section's own numbered subsections are headings; pasted Markdown (the actions reference)
    must not bring a `## ...` line that outline tools take for a section."""
    headings = [line for line in staff_section().splitlines()[1:] if line.startswith("#")]
    assert all(re.match(r"### \d\. ", line) for line in headings), headings


@pytest.mark.parametrize("command,pasted", checked_runs(), ids=lambda v: v if isinstance(v, str) else "")
def test_pasted_output_is_what_the_command_prints(command: str, pasted: list[str]) -> None:
    env = {**os.environ}
    words = command[2:].split()
    if words[0].startswith("FLOWS_PATH="):
        env["FLOWS_PATH"] = words.pop(0).split("=", 1)[1]
    env.pop("TEST_FLOWS_PATH", None)
    done = subprocess.run([sys.executable, *words[1:]], cwd=ROOT, env=env, capture_output=True, text=True,
                          timeout=300)
    printed = (done.stdout + done.stderr).splitlines()
    at = 0
    for line in (line for line in pasted if line.strip() and line.strip() != "..."):
        while at < len(printed) and printed[at].rstrip() != line.rstrip():
            at += 1
        assert at < len(printed), f"`{command}` no longer prints (in this order):\n{line}\n\nIt prints:\n" + \
            "\n".join(printed)
        at += 1
