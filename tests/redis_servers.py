"""Real `redis-server` processes a test owns: to restart, kill or cluster without touching the shared Redis.

    with redis_server(aof=True, appendfsync="always") as server:   # also: `as (url, server)`
        client = Redis.from_url(server.url)
        server.kill()        # SIGKILL: what a crash loses depends on aof/appendfsync
        server.restart()     # same port, same data directory

    with redis_cluster(masters=3) as cluster:
        RedisCluster.from_url(cluster.urls[0])   # cluster.urls: every startup node

Each server runs on a free loopback port with its own temporary data directory, removed on exit.
"""

from __future__ import annotations

import contextlib
import shutil
import signal
import socket
import subprocess
import tempfile
import time
from collections.abc import Iterator
from dataclasses import dataclass, field
from pathlib import Path

import redis

REDIS_SERVER = shutil.which("redis-server") or "redis-server"
REDIS_CLI = shutil.which("redis-cli") or "redis-cli"


def _port_is_free(port: int) -> bool:
    with socket.socket(socket.AF_INET, socket.SOCK_STREAM) as s:
        s.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
        try:
            s.bind(("127.0.0.1", port))
        except OSError:
            return False
    return True


def free_port(*, cluster_bus: bool = False) -> int:
    """A free loopback port; with `cluster_bus`, port + 10000 (Redis Cluster's bus) is free too."""
    for _ in range(200):
        with socket.socket(socket.AF_INET, socket.SOCK_STREAM) as s:
            s.bind(("127.0.0.1", 0))
            port = s.getsockname()[1]
        if not cluster_bus or (port + 10000 <= 65535 and _port_is_free(port + 10000)):
            return port
    raise RuntimeError("no free port pair for a cluster node")


@dataclass
class RedisServer:
    """One `redis-server` process; `stop`/`kill`/`restart` keep its port and data directory."""

    port: int
    dir: Path
    args: list[str]
    process: subprocess.Popen | None = field(default=None, repr=False)

    @property
    def url(self) -> str:
        return f"redis://127.0.0.1:{self.port}/0"

    def __iter__(self) -> Iterator[object]:
        """`with redis_server(...) as (url, server)` works as well as `as server`."""
        return iter((self.url, self))

    @property
    def running(self) -> bool:
        return self.process is not None and self.process.poll() is None

    def start(self, timeout: float = 10.0) -> RedisServer:
        if self.running:
            return self
        log = open(self.dir / "redis.log", "ab")  # noqa: SIM115 - the child keeps it open
        try:
            self.process = subprocess.Popen([REDIS_SERVER, *self.args], cwd=self.dir, stdout=log,
                                            stderr=subprocess.STDOUT, stdin=subprocess.DEVNULL)
        finally:
            log.close()
        self._wait_ready(timeout)
        return self

    def _wait_ready(self, timeout: float) -> None:
        deadline = time.monotonic() + timeout
        client = redis.Redis(host="127.0.0.1", port=self.port, socket_timeout=1, socket_connect_timeout=1)
        try:
            while True:
                if self.process is not None and self.process.poll() is not None:
                    raise RuntimeError(f"redis-server on {self.port} exited: {self.log_tail()}")
                try:
                    # While an AOF is loaded the server answers PING with LOADING: not ready yet.
                    if client.ping():
                        return
                except (redis.ConnectionError, redis.TimeoutError, redis.BusyLoadingError):
                    pass
                if time.monotonic() > deadline:
                    raise RuntimeError(f"redis-server on {self.port} not ready in {timeout}s: {self.log_tail()}")
                time.sleep(0.02)
        finally:
            client.close()

    def stop(self, timeout: float = 10.0) -> None:
        """A clean shutdown (SIGTERM): Redis flushes its AOF before it exits."""
        self._signal(signal.SIGTERM, timeout)

    def kill(self) -> None:
        """A crash (SIGKILL): whatever was not yet fsynced is gone."""
        self._signal(signal.SIGKILL, 10.0)

    def restart(self, timeout: float = 10.0) -> RedisServer:
        """Stop if running, then start again on the same port over the same data directory."""
        self.stop()
        return self.start(timeout)

    def _signal(self, sig: int, timeout: float) -> None:
        if not self.running:
            return
        assert self.process is not None
        self.process.send_signal(sig)
        try:
            self.process.wait(timeout)
        except subprocess.TimeoutExpired:
            self.process.kill()
            self.process.wait()

    def log_tail(self, lines: int = 15) -> str:
        try:
            return "\n".join((self.dir / "redis.log").read_text(errors="replace").splitlines()[-lines:])
        except OSError:
            return "(no log)"


def _server_args(port: int, *extra: str) -> list[str]:
    return ["--port", str(port), "--bind", "127.0.0.1", "--protected-mode", "no", "--save", "",
            "--daemonize", "no", "--logfile", "redis.log", *extra]


@contextlib.contextmanager
def redis_server(aof: bool = False, appendfsync: str = "everysec") -> Iterator[RedisServer]:
    """A fresh redis-server on a free port: AOF on or off (`appendfsync` always|everysec|no), no RDB."""
    if appendfsync not in {"always", "everysec", "no"}:
        raise ValueError(f"appendfsync must be always, everysec or no, not {appendfsync!r}")
    port = free_port()
    directory = Path(tempfile.mkdtemp(prefix=f"redis-{port}-"))
    server = RedisServer(port, directory, _server_args(
        port, "--appendonly", "yes" if aof else "no", "--appendfsync", appendfsync))
    try:
        yield server.start()
    finally:
        server.kill()
        shutil.rmtree(directory, ignore_errors=True)


@dataclass
class RedisClusterHandle:
    """The nodes of a running cluster; `urls` are the startup nodes a client is given."""

    nodes: list[RedisServer]

    @property
    def urls(self) -> list[str]:
        return [node.url for node in self.nodes]

    @property
    def addresses(self) -> list[tuple[str, int]]:
        return [("127.0.0.1", node.port) for node in self.nodes]


def _cluster_ok(node: RedisServer, masters: int) -> bool:
    client = redis.Redis(host="127.0.0.1", port=node.port, socket_timeout=1, decode_responses=True)
    try:
        info = client.execute_command("CLUSTER INFO")
    except redis.RedisError:
        return False
    finally:
        client.close()
    if isinstance(info, dict):  # redis-py may already parse it
        fields = {str(k): str(v) for k, v in info.items()}
    else:
        fields = dict(line.split(":", 1) for line in str(info).splitlines() if ":" in line)
    return (fields.get("cluster_state") == "ok" and fields.get("cluster_slots_assigned") == "16384"
            and int(fields.get("cluster_known_nodes", 0)) >= masters)


@contextlib.contextmanager
def redis_cluster(masters: int = 3, timeout: float = 30.0) -> Iterator[RedisClusterHandle]:
    """`masters` cluster-enabled redis-servers on loopback, joined by `redis-cli --cluster create`."""
    if masters < 3:
        raise ValueError("redis-cli --cluster create needs at least 3 masters")
    nodes: list[RedisServer] = []
    try:
        for _ in range(masters):
            port = free_port(cluster_bus=True)
            directory = Path(tempfile.mkdtemp(prefix=f"redis-cluster-{port}-"))
            node = RedisServer(port, directory, _server_args(
                port, "--cluster-enabled", "yes", "--cluster-config-file", "nodes.conf",
                "--cluster-node-timeout", "2000", "--appendonly", "no"))
            nodes.append(node)
            node.start()
        create = subprocess.run(
            [REDIS_CLI, "--cluster", "create", *(f"127.0.0.1:{n.port}" for n in nodes),
             "--cluster-replicas", "0", "--cluster-yes"],
            capture_output=True, text=True, timeout=timeout,
        )
        if create.returncode != 0:
            raise RuntimeError(f"redis-cli --cluster create failed: {create.stdout[-800:]} {create.stderr[-800:]}")
        deadline = time.monotonic() + timeout
        while not all(_cluster_ok(n, masters) for n in nodes):
            if time.monotonic() > deadline:
                raise RuntimeError(f"cluster not ok after {timeout}s: {nodes[0].log_tail()}")
            time.sleep(0.05)
        yield RedisClusterHandle(nodes)
    finally:
        for node in nodes:
            node.kill()
            shutil.rmtree(node.dir, ignore_errors=True)
