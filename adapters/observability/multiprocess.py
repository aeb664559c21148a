"""Metrics that add up over several processes: prometheus_client's multiprocess mode.

With `PROMETHEUS_MULTIPROC_DIR` set, every process writes its samples to memory-mapped files in that
directory and whichever process serves `/metrics` sums them (counters, histograms) or combines them as each
gauge says. Docker Compose shares the directory between `web` and `worker` through a volume, so the
files are named by host name *and* pid (containers all run as pid 1, which would collide).

The directory must be empty when the first process starts (`python main.py metrics-reset`, run by the
`migrate` service) or old counts are added to new ones.
"""

from __future__ import annotations

import os
import socket
from pathlib import Path

from prometheus_client import CollectorRegistry, values
from prometheus_client.multiprocess import MultiProcessCollector, mark_process_dead

ENV = "PROMETHEUS_MULTIPROC_DIR"


def process_identifier() -> str:
    """`<host>-<pid>`: unique across containers sharing the directory (no `_`: the file-name separator)."""
    return f"{socket.gethostname()}-{os.getpid()}".replace("_", "-")


def enable_multiprocess(directory: str | Path) -> None:
    """Switch this process to file-backed values; call before the first `Metrics()` is built."""
    path = Path(directory)
    path.mkdir(parents=True, exist_ok=True)
    os.environ[ENV] = str(path)
    values.ValueClass = values.MultiProcessValue(process_identifier)


def disable_multiprocess() -> None:
    """Back to in-memory values (tests that enabled it in-process)."""
    os.environ.pop(ENV, None)
    values.ValueClass = values.MutexValue


def process_exited(directory: str | Path, identifier: str | None = None) -> None:
    """Drop a stopped process's `live*` gauges so its breaker state no longer counts."""
    os.environ.setdefault(ENV, str(directory))
    mark_process_dead(identifier or process_identifier(), str(directory))


def reset(directory: str | Path) -> int:
    """Delete the sample files of an earlier run; returns how many. Only while no process of the service runs."""
    removed = 0
    for path in Path(directory).glob("*.db"):
        path.unlink(missing_ok=True)
        removed += 1
    return removed


def exposition_registry(own: CollectorRegistry, directory: str | Path | None) -> CollectorRegistry:
    """What `/metrics` shows: every process's samples (multiprocess), or this process's registry."""
    if not directory:
        return own
    registry = CollectorRegistry()
    MultiProcessCollector(registry, path=str(directory))
    return registry
