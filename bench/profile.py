"""A short summary of a `py-spy record --format raw` profile: where the serve process spends its CPU.

Samples are grouped by the library of the innermost frame (own time), and the functions with the most
inclusive time are listed, so before/after runs can be compared in a few lines.
"""

from __future__ import annotations

import re
from collections import Counter
from pathlib import Path

# First match wins: the innermost frame's file decides where a sample's CPU went.
BUCKETS = [
    ("httpcore", "/httpcore/"), ("httpx", "/httpx/"), ("aiohttp", "/aiohttp/"), ("pywa", "/pywa"),
    ("redis-py", "/redis/"), ("sqlalchemy/sqlite", "/sqlalchemy/"), ("sqlalchemy/sqlite", "sqlite3"),
    ("sqlmodel", "/sqlmodel/"), ("transitions", "/transitions/"), ("jinja2", "/jinja2/"),
    ("pydantic", "/pydantic"), ("starlette", "/starlette/"), ("uvicorn", "/uvicorn/"), ("h11", "/h11/"),
    ("arq", "/arq/"), ("project: engine", "engine/"), ("project: flows", "flows/"),
    ("project: adapters", "adapters/"), ("project: app", "app/"), ("logging", "logging/"),
    ("json", "json/"), ("ssl/hmac/hashlib", "hmac.py"), ("asyncio", "asyncio/"), ("threading", "threading.py"),
    ("concurrent (thread pool)", "concurrent/"), ("importlib (imports)", "importlib"),
]
FRAME = re.compile(r"^(?P<func>.*?) \((?P<file>[^()]*?)(?::\d+)?\)$")


def _bucket(file: str) -> str:
    for name, needle in BUCKETS:
        if needle in file:
            return name
    return "other"


def summarize(raw_path: Path, top: int = 15) -> str:
    own: Counter[str] = Counter()
    inclusive: Counter[str] = Counter()
    total = 0
    for line in raw_path.read_text(errors="replace").splitlines():
        stack, _, count = line.rpartition(" ")
        if not stack or not count.isdigit():
            continue
        samples = int(count)
        frames = [f for f in stack.split(";") if f]
        if frames and frames[0].startswith("process "):  # --subprocesses prefixes a process frame
            frames = frames[1:]
        if frames and frames[0].startswith("thread "):
            frames = frames[1:]
        if not frames:
            continue
        total += samples
        parsed = [FRAME.match(f) for f in frames]
        leaf = parsed[-1]
        own[_bucket(leaf.group("file") if leaf else frames[-1])] += samples
        seen = set()
        for match, frame in zip(parsed, frames, strict=True):
            name = f"{match.group('func')} ({_short(match.group('file'))})" if match else frame
            if name not in seen:
                seen.add(name)
                inclusive[name] += samples
    if not total:
        return "(no samples)"
    lines = [f"{total} samples; own time by library of the innermost frame:"]
    lines += [f"  {100 * n / total:5.1f}%  {name}" for name, n in own.most_common()]
    lines.append(f"top {top} functions by inclusive time:")
    lines += [f"  {100 * n / total:5.1f}%  {name}" for name, n in inclusive.most_common(top + 5)
              if not name.startswith(("<module>", "run (", "_run_once", "run_forever", "run_until_complete"))][:top]
    return "\n".join(lines)


def _short(path: str) -> str:
    for marker in ("site-packages/", "lib/python3."):
        if marker in path:
            return path.split(marker, 1)[1].split("/", 1)[-1] if marker.startswith("lib") else path.split(marker, 1)[1]
    return path.rsplit("/", 3)[-1] if path.count("/") > 3 else path
