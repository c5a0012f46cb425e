"""The directory where prometheus-client's multiprocess mode keeps each process's values
(``PROMETHEUS_MULTIPROC_DIR``), so that N web processes and the workers report as one.

Imports nothing of prometheus-client: the variable decides the client's mode when it is
first imported, so the CLI settles it here before anything imports the metrics."""

from __future__ import annotations

import os
import re
import shutil
import tempfile
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path

import psutil

MULTIPROC_ENV = "PROMETHEUS_MULTIPROC_DIR"

# Counters and histograms: counter_<pid>.db, histogram_<pid>.db (gauges: gauge_<mode>_<pid>).
_FILE = re.compile(r"_(\d+)\.db$")


def prepare(path: Path) -> None:
    """Make the directory, and remove the files of processes no longer running (an earlier
    run's): their counts would be added to this run's. Files of live processes stay, so a
    worker sharing the directory keeps its counts when the web processes restart."""
    path.mkdir(parents=True, exist_ok=True)
    for file in path.glob("*.db"):
        match = _FILE.search(file.name)
        if match and not psutil.pid_exists(int(match.group(1))):
            file.unlink(missing_ok=True)


@contextmanager
def multiproc_dir(*, temporary: bool) -> Iterator[Path | None]:
    """The configured directory, prepared; else, when ``temporary``, one made for this run
    (exported to the processes it starts, removed when it ends); else None: one process
    keeps its values in memory."""
    configured = os.environ.get(MULTIPROC_ENV)
    if configured:
        prepare(Path(configured))
        yield Path(configured)
        return
    if not temporary:
        yield None
        return
    path = Path(tempfile.mkdtemp(prefix="engagement-metrics-"))
    os.environ[MULTIPROC_ENV] = str(path)
    try:
        yield path
    finally:
        os.environ.pop(MULTIPROC_ENV, None)
        shutil.rmtree(path, ignore_errors=True)
