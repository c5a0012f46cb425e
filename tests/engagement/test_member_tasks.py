"""The token purge job, called directly and through a real burst worker."""

from __future__ import annotations

from engagement.kit.clock import FrozenClock
from engagement.kit.config import Settings
from engagement.kit.state import Services
from tests.factories import Factory
from workers.settings import make_worker


async def _tokens(services: Services) -> int:
    return int(await services.pool.fetchval("SELECT count(*) FROM member_tokens"))


async def test_purge_job_through_burst_worker(factory: Factory, services: Services,
                                              settings: Settings, clock: FrozenClock) -> None:
    shop = await factory.merchant()
    await factory.member(shop)
    await factory.member(shop)
    assert await _tokens(services) == 2
    clock.advance(days=31)
    later = await factory.member(shop)  # issued "now": still valid after the purge
    await services.redis.enqueue_job("members.purge_expired_tokens",
                                     _job_id="members.purge_expired_tokens:test")
    worker = make_worker(settings, clock=clock, burst=True)
    try:
        await worker.main()
    finally:
        await worker.close()
    assert worker.jobs_complete == 1 and worker.jobs_failed == 0
    assert await _tokens(services) == 1
    r = await factory.client.get("/api/v1/me", headers=later.headers)
    assert r.status_code == 200
