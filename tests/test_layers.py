"""The engine stands alone: importing it (every module of it) loads no adapter, composition root or tool."""

from __future__ import annotations

import subprocess
import sys
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]


def loaded_after(code: str) -> list[str]:
    script = code + "\nimport sys\nprint('\\n'.join(sorted(sys.modules)))"
    done = subprocess.run([sys.executable, "-c", script], cwd=ROOT, capture_output=True, text=True, timeout=60)
    assert done.returncode == 0, done.stderr
    return done.stdout.split()


def test_importing_engine_loads_no_adapter() -> None:
    done = subprocess.run(
        [sys.executable, "-c", "import engine, sys; assert not [m for m in sys.modules if m.startswith('adapters')]"],
        cwd=ROOT, capture_output=True, text=True, timeout=60)
    assert done.returncode == 0, done.stderr


def test_every_engine_and_flows_module_loads_nothing_above_it() -> None:
    names = sorted(f"{p.parent.name}.{p.stem}" for folder in ("engine", "flows")
                   for p in (ROOT / folder).glob("*.py") if p.stem != "__init__")
    assert "engine.step" in names and "flows.edges" in names
    modules = loaded_after("\n".join(f"import {name}" for name in names))
    above = [m for m in modules if m.split(".")[0] in ("adapters", "app", "tooling", "main")]
    assert above == []
    flows_only = loaded_after("\n".join(f"import {name}" for name in names if name.startswith("flows.")))
    assert [m for m in flows_only if m.split(".")[0] == "engine"] == []
