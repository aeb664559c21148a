"""Staff may reword anything in flows.yaml: proof that only conversation tests pin wording.

Every text of a copy of the shipped flows (messages, says, titles, descriptions, notifications) is rewritten;
the flow-dependent Python tests then run against the copy in a subprocess and must pass, while the
conversation tests fail, each failure showing the old text beside the new one with its flows.yaml line.
"""

from __future__ import annotations

import os
import re
import subprocess
import sys
from pathlib import Path
from urllib.parse import urlsplit, urlunsplit

import yaml

from flows.loader import check_text
from flows.source import parse
from flows.texts import Wording, wordings
from flows.translations import load_translations, translation_files
from tests.services import TEST_REDIS_URL
from tests.shipped import ROOT, SHIPPED_FLOWS
from tooling.conversations import run_paths

_TAG = re.compile(r"(\{\{.*?\}\}|\{%.*?%\}|\{#.*?#\})", re.DOTALL)
MARK = "✎"


def reword(wording: Wording) -> str:
    """A different wording of the same text: marked, and every fixed word in capitals (tags untouched)."""
    text = MARK + "".join(part if _TAG.fullmatch(part) else part.upper() for part in _TAG.split(wording.text))
    if "{{" not in text and "{%" not in text and len(text) > wording.limit:
        text = text[: wording.limit]
    return text


def rewrite(text: str) -> tuple[str, int]:
    """The flows text with every wording rewritten, and how many texts that was."""
    source, problems = parse(text)
    assert source is not None and not problems
    found = list(wordings(source.data))
    for wording in found:
        *parents, key = wording.path
        node = source.data
        for part in parents:
            node = node[part]
        node[key] = reword(wording)
    return yaml.safe_dump(source.data, allow_unicode=True, sort_keys=False, width=1000), len(found)


def rewrite_translation(flows_text: str, translation_text: str, code: str) -> tuple[str, int]:
    """A translation of the rewritten flows: each English key rewritten as `rewrite` rewrites it (so it still
    matches), and each translation rewritten the same way; how many entries that was."""
    source, _ = parse(flows_text)
    limits = {w.text.strip(): w.limit for w in wordings(source.data)}
    data = yaml.safe_load(translation_text)
    for entry in data["texts"]:
        limit = limits.get(entry["en"].strip(), 4096)
        entry["en"] = reword(Wording((), entry["en"], limit))
        entry[code] = reword(Wording((), entry[code], limit))
    return yaml.safe_dump(data, allow_unicode=True, sort_keys=False, width=1000), len(data["texts"])


def write_reworded(folder: Path) -> Path:
    """The shipped flows and their translations, every text rewritten, in `folder`."""
    original = SHIPPED_FLOWS.read_text(encoding="utf-8")
    copy = folder / "flows.yaml"
    copy.write_text(rewrite(original)[0], encoding="utf-8")
    for path in translation_files(SHIPPED_FLOWS):
        (folder / "translations").mkdir(exist_ok=True)
        text = rewrite_translation(original, path.read_text(encoding="utf-8"), path.stem)[0]
        (folder / "translations" / path.name).write_text(text, encoding="utf-8")
    return copy


def flow_dependent_tests() -> list[str]:
    """Every test module that runs on the shipped flows (through tests/shipped.py or the jobs world)."""
    chosen = []
    for path in sorted((ROOT / "tests").rglob("test_*.py")):
        text = path.read_text(encoding="utf-8")
        if path.name == Path(__file__).name:
            continue
        if "tests.shipped" in text or "tests.adapters.jobs.support" in text:
            chosen.append(str(path.relative_to(ROOT)))
    return chosen


def test_every_text_is_rewritten_and_the_copy_is_still_valid(tmp_path: Path) -> None:
    original = SHIPPED_FLOWS.read_text(encoding="utf-8")
    copy, count = rewrite(original)
    spec, report = check_text(copy)
    assert spec is not None and not report.errors, [p.format() for p in report.errors]
    source, _ = parse(original)
    before = {w.label: w.text for w in wordings(source.data)}
    after = {w.label: w.text for w in wordings(parse(copy)[0].data)}
    assert count == len(before) > 150 and before.keys() == after.keys()
    assert all(after[label] != text for label, text in before.items())
    # Translations follow their rewritten English: none is orphaned, none breaks a limit.
    copy_path = write_reworded(tmp_path)
    translations = load_translations(copy_path)
    assert len(translations) == len(translation_files(SHIPPED_FLOWS))
    spec, report = check_text(copy_path.read_text(encoding="utf-8"), str(copy_path), None, translations)
    assert spec is not None and not report.errors, [p.format() for p in report.errors]
    assert not [p for p in report.problems if "no longer a text" in p.message]
    assert set(report.translations) == {t.code for t in translations}


def test_python_tests_pass_on_reworded_flows_and_conversation_tests_fail_readably(tmp_path: Path) -> None:
    copy = write_reworded(tmp_path)
    modules = flow_dependent_tests()
    assert "tests/app/test_reload.py" in modules and "tests/adapters/jobs/test_reminders.py" in modules
    # The conversation files pin wording on purpose; the tooling tests beside them must not. Left out too, to
    # keep the suite under five minutes: the process tests that read no text (two uvicorn workers, and live
    # mode, which refuses before it loads the flows).
    selection = ["-k", "not test_conversation_file and not two_workers and not live_mode and not refuses_live_traffic"]
    # Two halves side by side (this process only waits): each on a Redis database of its own, so neither
    # sees the other's keys, nor the keys of this run.
    halves = [modules[0::2], modules[1::2]]
    runs = [subprocess.Popen([sys.executable, "-m", "pytest", "-q", "-p", "no:cacheprovider", "-x", *half, *selection],
                             cwd=ROOT, env={**os.environ, "TEST_FLOWS_PATH": str(copy),
                                            "TEST_REDIS_URL": _other_database(TEST_REDIS_URL, 8 + i)},
                             stdout=subprocess.PIPE, stderr=subprocess.STDOUT, text=True)
            for i, half in enumerate(halves)]
    try:
        # Within the suite's per-test timeout (pyproject.toml); the halves take ~15 s here.
        outputs = [run.communicate(timeout=240)[0] for run in runs]
    finally:
        for run in runs:
            if run.poll() is None:
                run.kill()
                run.wait()
    for run, output in zip(runs, outputs, strict=True):
        assert run.returncode == 0, output[-8000:]
        assert " passed" in output and "failed" not in output


def _other_database(url: str, offset: int) -> str:
    """The same Redis server, database number `offset` places further (of Redis's default 16)."""
    parts = urlsplit(url)
    db = int(parts.path.strip("/") or 0)
    return urlunsplit(parts._replace(path=f"/{(db + offset) % 16}"))


async def test_conversation_tests_on_reworded_flows_show_old_beside_new(tmp_path: Path) -> None:
    copy = tmp_path / "flows.yaml"
    copy.write_text(rewrite(SHIPPED_FLOWS.read_text(encoding="utf-8"))[0], encoding="utf-8")
    # One file per role and linking: every file fails the same way, and all of them took half a minute.
    files = [ROOT / "tests" / "conversations" / f"{name}.yaml" for name in ("seeker", "agent", "inspector", "linking")]
    outcomes, _ = await run_paths(files, copy)
    failures = [o.failure.format() for o in outcomes if o.failure]
    assert len(failures) >= len(outcomes) * 3 // 4
    # Most failures point at the reworded text; the rest follow from an earlier one (a journey cut short).
    hinted = [f for f in failures if "IN THE TEST (OLD)" in f or "TAPPED IN THE TEST" in f]
    assert len(hinted) >= len(failures) * 2 // 3, "\n\n".join(f for f in failures if f not in hinted)[:6000]
    for failure in hinted:
        assert f"{copy}:" in failure, failure
        # The new wording stands beside the old: the rewritten (capitalised, marked) text is on the right.
        assert any(" | " in row and MARK in row.split(" | ", 1)[1] for row in failure.splitlines()), failure
