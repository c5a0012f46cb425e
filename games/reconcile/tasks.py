"""The reconciliation's job (registered by ``workers`` through games/domain.py)."""

from __future__ import annotations

from typing import Any

from games.reconcile.service import reconcile


async def reconcile_stock(ctx: dict[str, Any]) -> dict[str, int]:
    """Compare every live campaign's Redis counters with PostgreSQL's wins; repair what is
    safe, record the rest (games/reconcile/service.py)."""
    report = await reconcile(ctx["services"])
    return {"campaigns": report.campaigns, "reprimed": report.reprimed,
            "repaired": report.repaired, "flagged": report.flagged}
