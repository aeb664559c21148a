"""Hot reload of flows.yaml: check the new file, swap it in atomically only when valid.

An invalid edit is logged with every problem (`file:line:col: ...`) and the old flows keep serving. The
swap is one assignment (`Engine.replace_flows`); each event runs entirely on the flows it started with.
Triggers: `watch()` (polls mtime + hash every second), SIGHUP (`install_sighup`), or `reload()` from an
authenticated admin endpoint.
"""

from __future__ import annotations

import asyncio
import hashlib
import logging
import signal
from collections.abc import Callable
from pathlib import Path
from typing import Any

from engine.compiler import CompiledFlows
from flows.checks import ActionSignatures
from flows.loader import load_flows
from flows.problems import FlowsError
from flows.translations import translation_files

logger = logging.getLogger(__name__)


class FlowsReloader:
    """Reloads `path` into `engine` when it changes and is valid.

    `compile` builds what the engine runs (default `CompiledFlows`), so a caller that wraps the compiled
    flows (tracing, metrics) keeps doing so across reloads.
    """

    def __init__(self, path: str | Path, actions: ActionSignatures | None, engine: Any, *,
                 compile: Callable[[Any], CompiledFlows] = CompiledFlows, interval: float = 1.0) -> None:
        self.path = Path(path)
        self.actions = actions
        self.engine = engine
        self.compile = compile
        self.interval = interval
        self.problems: list[str] = []
        self.reloads = 0
        self._lock = asyncio.Lock()
        self._seen = self._fingerprint()
        self._task: asyncio.Task[None] | None = None

    @property
    def current_hash(self) -> str:
        return self.engine.flows.hash

    def reload(self) -> tuple[bool, list[str]]:
        """Check the file and swap it in when valid: (ok, problems as `file:line:col: ...`).

        ok is True when the new flows now serve (also when the file did not change)."""
        self._seen = self._fingerprint()
        try:
            loaded = load_flows(self.path, self.actions)
        except FlowsError as exc:
            self.problems = [p.format() for p in exc.problems if p.severity == "error"]
            logger.error("flows reload rejected, still serving %s:\n%s", self.current_hash, "\n".join(self.problems))
            return False, self.problems
        if loaded.hash == self.current_hash:
            self.problems = []
            return True, []
        compiled = self.compile(loaded)
        old = self.current_hash
        self.engine.replace_flows(compiled)
        self.reloads += 1
        self.problems = []
        logger.warning("flows reloaded: %s -> %s (%s)", old, loaded.hash, loaded.report.summary(str(self.path)))
        return True, [p.format() for p in loaded.report.problems if p.severity == "warning"]

    def changed(self) -> bool:
        return self._fingerprint() != self._seen

    async def watch(self) -> None:
        """Poll the file every `interval` seconds; reload when its mtime or content changes."""
        while True:
            await asyncio.sleep(self.interval)
            if self.changed():
                async with self._lock:
                    self.reload()

    def start(self) -> asyncio.Task[None]:
        """Start watching in the running loop (and reload on SIGHUP where signals exist)."""
        self.install_sighup()
        self._task = asyncio.get_running_loop().create_task(self.watch(), name="flows-reloader")
        return self._task

    async def stop(self) -> None:
        if self._task is not None:
            self._task.cancel()
            try:
                await self._task
            except asyncio.CancelledError:
                pass
            self._task = None

    def install_sighup(self) -> bool:
        try:
            asyncio.get_running_loop().add_signal_handler(signal.SIGHUP, self.reload)
        except (NotImplementedError, RuntimeError, ValueError, AttributeError):  # no signals (Windows, thread)
            return False
        return True

    def _fingerprint(self) -> tuple[float, str]:
        """The newest mtime and a hash of flows.yaml and its translations (a translation edit reloads too)."""
        try:
            files = [self.path, *translation_files(self.path)]
            digest = hashlib.sha256()
            for file in files:
                digest.update(file.name.encode() + b"\0" + file.read_bytes())
            return max(file.stat().st_mtime for file in files), digest.hexdigest()
        except OSError:
            return 0.0, ""
