"""Jobs of the webhooks domain (registered by ``workers``)."""

from __future__ import annotations

import asyncio
from typing import Any

from engagement.kit import metrics
from engagement.kit.db import transaction
from engagement.kit.state import Services
from engagement.loyalty.webhooks import service, targets


async def deliver_due(ctx: dict[str, Any]) -> int:
    """Send every delivery that is due, a batch at a time; returns how many were delivered.
    The claim commits before any POST, so no row lock is held across the network."""
    svc: Services = ctx["services"]
    delivered = 0
    async with targets.delivery_client(
            service.TIMEOUT_SECONDS,
            allow_private=svc.settings.webhooks_allow_private_targets) as client:
        while True:
            now = svc.clock.now()
            async with transaction(svc.pool) as conn:
                due = await service.claim_due(conn, now)
            if not due:
                return delivered
            outcomes = await asyncio.gather(*(service.attempt(client, d, now) for d in due))
            async with transaction(svc.pool) as conn:
                results = [await service.record(conn, d, status_code, error, duration_ms, now)
                           for d, (status_code, error, duration_ms)
                           in zip(due, outcomes, strict=True)]
            # Committed: counted once the delivery log says so.
            for d, ok in zip(due, results, strict=True):
                result = "delivered" if ok else \
                    "retrying" if service.next_attempt(d["attempts"] + 1, now) else "failed"
                metrics.WEBHOOK_DELIVERIES.labels(result).inc()
            delivered += sum(results)
