from __future__ import annotations

from engagement.kit.clock import Clock
from engagement.kit.config import Settings
from workers.settings import make_worker


async def drain(settings: Settings, clock: Clock) -> int:
    """Run a real arq worker in burst mode until the queue is empty."""
    worker = make_worker(settings, clock=clock, burst=True)
    try:
        await worker.main()
    finally:
        await worker.close()
    assert worker.jobs_failed == 0
    return worker.jobs_complete
