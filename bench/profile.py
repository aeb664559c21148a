"""A short summary of a `py-spy record --format raw` profile: where the serve process spends its CPU.

Samples are grouped by the library of the innermost frame (own time), and the functions with the most
inclusive time are listed, so before/after runs can be compared in a few lines.
"""

from __future__ import annotations

import re
from collections import Counter
from pathlib import Path

# First match wins: the innermost frame's file decides where a sample's CPU went. py-spy names files
# relative to their import root (httpx/_client.py, adapters/whatsapp/dispatch.py, asyncio/events.py).
BUCKETS = [
    ("httpcore (+anyio)", "/httpcore/"), ("httpcore (+anyio)", "/anyio/"), ("httpx", "/httpx/"),
    ("aiohttp (+yarl, multidict)", "/aiohttp/"), ("aiohttp (+yarl, multidict)", "/yarl/"),
    ("aiohttp (+yarl, multidict)", "/multidict/"), ("pywa", "/pywa"), ("redis-py", "/redis/"),
    ("sqlalchemy/sqlite", "/sqlalchemy/"), ("sqlalchemy/sqlite", "/sqlite3/"), ("sqlmodel", "/sqlmodel/"),
    ("transitions", "/transitions/"), ("jinja2", "/jinja2/"), ("pydantic", "/pydantic"),
    ("starlette", "/starlette/"), ("uvicorn", "/uvicorn/"), ("h11/httptools", "/h11/"),
    ("h11/httptools", "/httptools/"), ("arq", "/arq/"), ("project: engine", "/engine/"),
    ("project: flows", "/flows/"), ("project: adapters", "/adapters/"), ("project: app", "/app/"),
    ("logging", "/logging/"), ("json", "/json/"), ("hmac/hashlib", "/hmac.py"),
    ("asyncio / uvloop", "/asyncio/"), ("asyncio / uvloop", "/uvloop/"),
    ("imports (importlib)", "importlib"), ("imports (importlib)", "_distutils_hack"),
]
# Leaves where a thread waits rather than runs (py-spy's idle detection misses these in containers).
IDLE = (("_worker", "/concurrent/futures/thread.py"), ("select", "/selectors.py"), ("wait", "/threading.py"),
        ("run_forever", "/uvloop/"))
# Frames every stack shares: left out of the inclusive list.
PLUMBING = ("/asyncio/", "/threading.py", "/concurrent/", "/main.py", "/runners.py", "/uvicorn/server.py",
            "/uvicorn/_compat.py")
FRAME = re.compile(r"^(?P<func>.*?) \((?P<file>[^()]*?)(?::\d+)?\)$")


def _bucket(file: str) -> str:
    for name, needle in BUCKETS:
        if needle in file:
            return name
    return "other"


def summarize(raw_path: Path, top: int = 15) -> str:
    own: Counter[str] = Counter()
    inclusive: Counter[str] = Counter()
    total = idle = 0
    for line in raw_path.read_text(errors="replace").splitlines():
        stack, _, count = line.rpartition(" ")
        if not stack or not count.isdigit():
            continue
        samples = int(count)
        frames = [f for f in stack.split(";") if f and not f.startswith(("process ", "thread "))]
        parsed = [(m.group("func"), "/" + m.group("file")) if (m := FRAME.match(f)) else (f, "/?")
                  for f in frames]
        if not parsed:
            continue
        func, file = parsed[-1]
        if any(func.endswith(name) and needle in file for name, needle in IDLE):
            idle += samples
            continue
        total += samples
        own[_bucket(file)] += samples
        for name in {f"{fn} ({fl[1:]})" for fn, fl in parsed if not any(p in fl for p in PLUMBING)
                     and fn != "<module>"}:
            inclusive[name] += samples
    if not total:
        return "(no samples)"
    lines = [f"{total} samples on CPU ({idle} more waiting, left out); own time by library of the innermost frame:"]
    lines += [f"  {100 * n / total:5.1f}%  {name}" for name, n in own.most_common()]
    lines.append(f"top {top} functions by inclusive time (event-loop and thread plumbing left out):")
    lines += [f"  {100 * n / total:5.1f}%  {name}" for name, n in inclusive.most_common(top)]
    return "\n".join(lines)
