"""Processes the benchmark starts: launched with their logs kept, awaited until they answer, stopped by id,
and their CPU time (the whole process tree, workers included) read from /proc."""

from __future__ import annotations

import os
import signal
import socket
import subprocess
import time
from collections import defaultdict
from pathlib import Path

import httpx

TICKS = os.sysconf("SC_CLK_TCK")


def _proc_table() -> tuple[dict[int, list[int]], dict[int, float]]:
    children: dict[int, list[int]] = defaultdict(list)
    cpu: dict[int, float] = {}
    for entry in os.listdir("/proc"):
        if not entry.isdigit():
            continue
        try:
            raw = Path(f"/proc/{entry}/stat").read_text()
        except OSError:
            continue
        fields = raw[raw.rindex(")") + 2:].split()  # the command name may hold spaces
        pid, ppid = int(entry), int(fields[1])
        utime, stime, cutime, cstime = (int(x) for x in fields[11:15])
        children[ppid].append(pid)
        cpu[pid] = (utime + stime + cutime + cstime) / TICKS  # reaped children count too
    return children, cpu


def tree_cpu_seconds(root: int) -> float:
    """User + system CPU seconds of `root` and every live descendant (uvicorn workers, ...)."""
    children, cpu = _proc_table()
    total, stack = 0.0, [root]
    while stack:
        pid = stack.pop()
        total += cpu.get(pid, 0.0)
        stack.extend(children.get(pid, ()))
    return total


def wait_for_port(port: int, process: subprocess.Popen, timeout: float = 60.0) -> None:
    deadline = time.monotonic() + timeout
    while True:
        if process.poll() is not None:
            raise RuntimeError(f"process {process.args!r} exited with {process.returncode}")
        try:
            with socket.create_connection(("127.0.0.1", port), timeout=0.5):
                return
        except OSError:
            if time.monotonic() > deadline:
                raise RuntimeError(f"nothing listens on {port} after {timeout}s") from None
            time.sleep(0.1)


class Service:
    """One started process (`argv`), listening on `port`, with stdout+stderr in `log`."""

    def __init__(self, name: str, argv: list[str], port: int, log_dir: Path, *, env: dict[str, str] | None = None,
                 cwd: Path | None = None, health: str | None = None) -> None:
        self.name, self.argv, self.port, self.env, self.cwd, self.health = name, argv, port, env, cwd, health
        self.log = log_dir / f"{name}.log"
        self.process: subprocess.Popen | None = None

    @property
    def url(self) -> str:
        return f"http://127.0.0.1:{self.port}"

    @property
    def pid(self) -> int:
        assert self.process is not None
        return self.process.pid

    def start(self, timeout: float = 60.0) -> Service:
        with open(self.log, "ab") as log:
            # Its own session, so that stopping it reaches the workers it spawned and nothing else.
            self.process = subprocess.Popen(self.argv, env=self.env, cwd=self.cwd, stdout=log,
                                            stderr=subprocess.STDOUT, stdin=subprocess.DEVNULL,
                                            start_new_session=True)
        try:
            wait_for_port(self.port, self.process, timeout)
            if self.health:
                self._wait_healthy(timeout)
        except RuntimeError as exc:
            self.stop()
            raise RuntimeError(f"{self.name} did not start: {exc}\n{self.log_tail()}") from None
        return self

    def _wait_healthy(self, timeout: float) -> None:
        deadline = time.monotonic() + timeout
        while True:
            try:
                if httpx.get(self.url + self.health, timeout=2).status_code < 500:
                    return
            except httpx.TransportError:
                pass
            if time.monotonic() > deadline:
                raise RuntimeError(f"{self.health} not healthy after {timeout}s")
            time.sleep(0.2)

    def cpu_seconds(self) -> float:
        return tree_cpu_seconds(self.pid)

    def stop(self, timeout: float = 15.0) -> None:
        if self.process is None or self.process.poll() is not None:
            return
        self.process.send_signal(signal.SIGTERM)
        try:
            self.process.wait(timeout)
        except subprocess.TimeoutExpired:
            os.killpg(self.process.pid, signal.SIGKILL)  # the group this process leads
            self.process.wait()

    def log_tail(self, lines: int = 20) -> str:
        try:
            return "\n".join(self.log.read_text(errors="replace").splitlines()[-lines:])
        except OSError:
            return ""
