"""What a deployer installs must run: the wheel, installed without extras into a fresh
virtualenv, migrates a database, serves pages and runs the worker.

The rest of the suite runs from the source tree with the dev extras installed, so it cannot
see a runtime import that only a dev dependency satisfies (httpx once was one: the service
died at start), nor a template, catalog, migration or static file left out of the wheel.
The Dockerfile installs this same wheel the same way (``pip wheel --no-deps``, then
``pip install`` without extras), and compose.yaml runs its commands.

It takes about 35 s: ~20 s to build the wheel and install it with its dependencies (from
pip's cache; a first run downloads them), ~3 s each to migrate, serve and run the worker.
Worth it: it is the only test that runs what production runs, and what it catches shows up
otherwise as a service that does not start.
"""

from __future__ import annotations

import json
import os
import re
import secrets
import socket
import subprocess
import sys
import time
import venv
import zipfile
from collections.abc import Iterator, Sequence
from contextlib import contextmanager
from dataclasses import dataclass
from pathlib import Path
from typing import Protocol
from urllib.parse import urlsplit, urlunsplit

import httpx
import psycopg
import pytest
from redis import Redis

ROOT = next(p for p in Path(__file__).resolve().parents if (p / "pyproject.toml").exists())
# Shipped beside the packages; the app finds it next to them in site-packages.
DATA_DIRS = ("static",)
NOT_SHIPPED = ("tests",)


class Settings(Protocol):
    """What this test reads of the ``settings`` fixture (imported from nowhere, so the test
    outlives moves of the config module)."""

    database_url: str | None
    redis_url: str | None


@dataclass(frozen=True)
class Installed:
    wheel: Path
    bin: Path
    cwd: Path  # outside the source tree: nothing there can be imported by accident


def run(cmd: Sequence[str | Path], *, env: dict[str, str] | None = None,
        cwd: Path | None = None, timeout: float = 300) -> str:
    done = subprocess.run([str(c) for c in cmd], env=env, cwd=cwd, capture_output=True,
                          text=True, timeout=timeout, check=False)
    assert done.returncode == 0, f"{cmd} exited {done.returncode}:\n{done.stdout}{done.stderr}"
    return done.stdout


@pytest.fixture(scope="module")
def installed(tmp_path_factory: pytest.TempPathFactory) -> Installed:
    wheels = tmp_path_factory.mktemp("wheels")
    run([sys.executable, "-m", "pip", "wheel", "--no-deps", "--quiet", "--wheel-dir", wheels,
         ROOT])
    (wheel,) = wheels.glob("engagement-*.whl")
    target = tmp_path_factory.mktemp("venv")
    venv.EnvBuilder(with_pip=False).create(target)  # this pip installs into it (--python)
    run([sys.executable, "-m", "pip", "--python", target / "bin" / "python", "install",
         "--quiet", wheel])
    return Installed(wheel, target / "bin", tmp_path_factory.mktemp("cwd"))


def app_env(settings: Settings, data_dir: Path, **overrides: str) -> dict[str, str]:
    """The environment of a deployed process: only its own settings, nothing that points
    Python at the source tree or the dev virtualenv."""
    assert settings.database_url and settings.redis_url
    env = {k: v for k, v in os.environ.items()
           if not k.startswith(("ENGAGEMENT_", "PYTHON")) and k != "VIRTUAL_ENV"}
    return {**env, "ENGAGEMENT_DATABASE_URL": settings.database_url,
            "ENGAGEMENT_REDIS_URL": settings.redis_url, "ENGAGEMENT_DATA_DIR": str(data_dir),
            "ENGAGEMENT_SECRET_KEY": "test-secret-key", "ENGAGEMENT_LOG_LEVEL": "WARNING",
            **overrides}


@contextmanager
def running(cmd: Sequence[str | Path], env: dict[str, str], cwd: Path, log: Path
            ) -> Iterator[subprocess.Popen[bytes]]:
    with log.open("wb") as out:
        proc = subprocess.Popen([str(c) for c in cmd], env=env, cwd=cwd, stdout=out,
                                stderr=subprocess.STDOUT)
    try:
        yield proc
    finally:
        proc.terminate()
        try:
            proc.wait(timeout=20)
        except subprocess.TimeoutExpired:
            proc.kill()
            proc.wait()


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return int(s.getsockname()[1])


def shipped_folders() -> list[str]:
    packages = sorted(p.parent.name for p in ROOT.glob("*/__init__.py")
                      if p.parent.name not in NOT_SHIPPED)
    return [*packages, *DATA_DIRS]


def test_the_wheel_ships_every_file_of_every_package(installed: Installed) -> None:
    """Whole folders ship, whatever new subfolder or file type they grow; a new top-level
    package must be added to [tool.hatch.build.targets.wheel] in pyproject.toml."""
    with zipfile.ZipFile(installed.wheel) as zf:
        shipped = set(zf.namelist())
    missing = sorted(
        path for top in shipped_folders() for f in (ROOT / top).rglob("*")
        if f.is_file() and "__pycache__" not in f.parts
        and (path := f.relative_to(ROOT).as_posix()) not in shipped)
    assert not missing, f"not in the wheel: {missing}"


def test_the_dockerfile_builds_from_every_shipped_folder() -> None:
    copied = re.findall(r"^COPY (\S+) ", (ROOT / "Dockerfile").read_text(), re.MULTILINE)
    assert set(shipped_folders()) <= set(copied)


def test_the_wheel_is_what_runs(installed: Installed) -> None:
    out = run([installed.bin / "python", "-c", "import engagement; print(engagement.__file__)"],
              cwd=installed.cwd)
    assert Path(out.strip()).is_relative_to(installed.bin.parent)


def test_migrate_from_the_wheel(installed: Installed, settings: Settings,
                                tmp_path: Path) -> None:
    assert settings.database_url
    name = f"engagement_wheel_{secrets.token_hex(4)}"
    scratch = urlunsplit(urlsplit(settings.database_url)._replace(path="/" + name))
    with psycopg.connect(settings.database_url, autocommit=True) as admin:
        admin.execute(f'CREATE DATABASE "{name}"')
        try:
            run([installed.bin / "engagement", "migrate"], cwd=installed.cwd,
                env=app_env(settings, tmp_path, ENGAGEMENT_DATABASE_URL=scratch))
            with psycopg.connect(scratch) as conn:
                applied = conn.execute("SELECT migration_id FROM _yoyo_migration").fetchall()
            expected = admin.execute("SELECT migration_id FROM _yoyo_migration").fetchall()
            assert expected and sorted(applied) == sorted(expected)
        finally:
            admin.execute(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)')


def test_serve_from_the_wheel(installed: Installed, settings: Settings, tmp_path: Path) -> None:
    env = app_env(settings, tmp_path)
    out = run([installed.bin / "engagement", "merchant", "create", "--name", "Wheel Shop",
               "--slug", f"wheel-{secrets.token_hex(3)}"], env=env, cwd=installed.cwd)
    slug = json.loads(out.strip().splitlines()[-1])["slug"]
    port = free_port()
    log = tmp_path / "serve.log"
    with running([installed.bin / "engagement", "serve", "--host", "127.0.0.1", "--port",
                  str(port)], env, installed.cwd, log) as proc:
        base = f"http://127.0.0.1:{port}"
        deadline = time.monotonic() + 30
        while True:
            assert proc.poll() is None, log.read_text()
            try:
                if httpx.get(f"{base}/readyz", timeout=1).status_code == 200:
                    break
            except httpx.HTTPError:
                pass
            assert time.monotonic() < deadline, "not ready:\n" + log.read_text()
            time.sleep(0.1)

        docs = httpx.get(f"{base}/docs")
        assert docs.status_code == 200 and "content-security-policy" in docs.headers
        assets = re.findall(r'(?:href|src)="(/static/[^"]+)"', docs.text)
        assert assets
        for asset in assets:
            got = httpx.get(base + asset)
            assert got.status_code == 200 and got.content, asset
        # A member page: templates, and (in English) the message catalog, from the wheel.
        for lang in ("zh-CN", "en"):
            page = httpx.get(f"{base}/j/{slug}", params={"lang": lang})
            assert page.status_code == 200, log.read_text()
            assert page.headers["content-type"].startswith("text/html")
            assert "content-security-policy" in page.headers
        assert proc.poll() is None, log.read_text()


def test_worker_from_the_wheel(installed: Installed, settings: Settings,
                               tmp_path: Path) -> None:
    """Up means: arq wrote the health-check key that compose.yaml's worker health check
    reads (its loop runs, Redis answered), and the process is still alive a few seconds
    later (its start-up crons ran against PostgreSQL)."""
    assert settings.redis_url
    found = re.search(r"'([\w:.-]+:health-check)'", (ROOT / "compose.yaml").read_text())
    assert found, "compose.yaml's worker health check names no health-check key"
    key = found[1]
    log = tmp_path / "worker.log"
    with Redis.from_url(settings.redis_url) as redis:
        redis.delete(key)
        with running([installed.bin / "engagement", "worker"], app_env(settings, tmp_path),
                     installed.cwd, log) as proc:
            deadline = time.monotonic() + 30
            while not redis.exists(key):
                assert proc.poll() is None, log.read_text()
                assert time.monotonic() < deadline, "no health check:\n" + log.read_text()
                time.sleep(0.1)
            time.sleep(3)
            assert proc.poll() is None, log.read_text()
