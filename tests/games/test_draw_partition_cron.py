"""The cron games.maintain_draw_partitions (games/draw/partitions.py): months created ahead,
once, however many runs race; the default partition swept into its months; old key claims
purged; retention archiving to CSV or dropping, never a month that is still needed."""

from __future__ import annotations

import asyncio
import csv
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

import pytest
from pydantic import ValidationError

from engagement.kit.config import Settings
from engagement.kit.state import Services
from games.domain import DOMAIN
from games.draw import queries
from games.partitions import service as partitions
from tests.factories import Factory
from tests.games.partition_helpers import draws, game


async def _where(services: Services, ids: list[str]) -> set[str]:
    rows = await services.pool.fetch(
        "SELECT DISTINCT tableoid::regclass::text AS part FROM draws WHERE id = ANY($1)", ids)
    return {r["part"] for r in rows}


async def test_the_cron_is_declared_daily_and_at_start_up() -> None:
    spec = next(c for c in DOMAIN.crons if c.job.name == "games.maintain_draw_partitions")
    assert spec.run_at_startup and spec.hour == frozenset({19}) and spec.minute == {40}


async def test_the_cron_creates_the_coming_months_once_and_sweeps_the_default(
        factory: Factory, services: Services, settings: Settings) -> None:
    g = await game(factory, services)
    now = datetime(2031, 5, 10, 8, tzinfo=UTC)
    # No partition holds these moments yet: they wait in the default partition.
    early = await draws(services, g, datetime(2031, 7, 3, tzinfo=UTC), n=3, wins=1,
                        key="k-early")
    late = await draws(services, g, datetime(2032, 1, 15, tzinfo=UTC), n=2)
    assert await _where(services, early + late) == {"draws_default"}

    runs = await asyncio.gather(*[partitions.maintain(services.pool, settings, now)
                                  for _ in range(3)])
    created = [name for r in runs if not r["busy"] for name in r["created"]]  # type: ignore
    assert sorted(created) == ["draws_p203105", "draws_p203106", "draws_p203107",
                               "draws_p203201"]
    assert await _where(services, early) == {"draws_p203107"}
    assert await _where(services, late) == {"draws_p203201"}
    assert await services.pool.fetchval("SELECT count(*) FROM draws_default") == 0
    # The moved rows kept their claims: the key and the win's number are still taken.
    assert await queries.draw_by_idempotency_key(services.pool, g.campaign_id, g.member.id,
                                                 "k-early") is not None
    again = await partitions.maintain(services.pool, settings, now)
    assert again["created"] == [] and again["dropped"] == []

    # Many creators of one month at once, each on its own connection: one creates it.
    async def create() -> bool:
        async with services.pool.acquire() as conn:
            return await partitions.ensure_month(conn, datetime(2031, 9, 1, tzinfo=UTC))
    assert sorted(await asyncio.gather(*[create() for _ in range(5)])) == [False] * 4 + [True]
    names = await partitions.partitions(services.pool)
    assert {"draws_p203105", "draws_p203106", "draws_p203107", "draws_p203109"} <= set(names)


async def test_key_claims_are_purged_after_a_week(factory: Factory, services: Services,
                                                  settings: Settings) -> None:
    g = await game(factory, services)
    now = services.clock.now()
    await draws(services, g, now - timedelta(days=8), key="old")
    await draws(services, g, now - timedelta(days=6), key="recent")
    result = await partitions.maintain(services.pool, settings, now)
    assert result["key_claims_purged"] == 1
    keys = {r["idempotency_key"] for r in await services.pool.fetch(
        "SELECT idempotency_key FROM draw_idempotency_keys")}
    assert keys == {"recent"}
    assert await services.pool.fetchval("SELECT count(*) FROM draws") == 2


def _partials(root: Path) -> list[Path]:
    return list(root.rglob("*.partial"))


def _csv(path: Path) -> list[dict[str, str]]:
    with path.open(newline="") as f:
        return list(csv.DictReader(f))


async def test_retention_archives_to_csv_or_drops_and_keeps_what_is_still_needed(
        factory: Factory, services: Services, settings: Settings, tmp_path: Path) -> None:
    ended = await game(factory, services, status="ended")
    unsettled = await game(factory, services, status="ended")
    live = await game(factory, services, status="active")
    jan = await draws(services, ended, datetime(2020, 1, 20, tzinfo=UTC), n=3, wins=1,
                      key="k-jan")
    feb = await draws(services, unsettled, datetime(2020, 2, 10, tzinfo=UTC), n=2, wins=1,
                      settled=False)
    await draws(services, live, datetime(2020, 3, 5, tzinfo=UTC), n=2)
    apr = await draws(services, ended, datetime(2020, 4, 2, tzinfo=UTC), n=1)
    now = datetime(2020, 6, 15, tzinfo=UTC)
    keep = settings.model_copy(update={"data_dir": tmp_path, "draws_retention_months": 2,
                                       "draws_archive": "csv"})

    # Two whole months kept (April, May) besides June: January to March are past it.
    result = await partitions.maintain(services.pool, keep, now)
    assert result["archived"] == result["dropped"] == ["draws_p202001"]
    assert result["kept"] == ["draws_p202002", "draws_p202003"]
    names = set(await partitions.partitions(services.pool))
    assert "draws_p202001" not in names and {"draws_p202002", "draws_p202003",
                                             "draws_p202004"} <= names
    rows = _csv(partitions.archive_path(keep, "draws_p202001"))
    assert sorted(r["id"] for r in rows) == sorted(jan)
    assert {r["campaign_id"] for r in rows} == {ended.campaign_id}
    assert [r["idempotency_key"] for r in rows if r["idempotency_key"]] == ["k-jan"]
    assert sorted(r["outcome"] for r in rows) == ["lose", "lose", "win"]
    assert _partials(tmp_path) == []
    assert await services.pool.fetchval("SELECT count(*) FROM draws WHERE id = ANY($1)",
                                        jan) == 0
    # The dropped month's claims went with it; the others' stayed.
    assert await services.pool.fetchval(
        "SELECT count(*) FROM draw_win_seqs WHERE draw_id = ANY($1)", jan) == 0
    assert await services.pool.fetchval(
        "SELECT count(*) FROM draw_win_seqs WHERE draw_id = ANY($1)", feb) == 1

    # Settled now, February goes too; "drop" writes no file. March's campaign is live.
    await services.pool.execute("UPDATE draws SET settled_at = created_at WHERE id = ANY($1)",
                                feb)
    drop = keep.model_copy(update={"draws_archive": "drop"})
    result = await partitions.maintain(services.pool, drop, now)
    assert result["dropped"] == ["draws_p202002"] and result["archived"] == []
    assert result["kept"] == ["draws_p202003"]
    assert not partitions.archive_path(drop, "draws_p202002").exists()
    assert await services.pool.fetchval("SELECT count(*) FROM draws WHERE id = ANY($1)",
                                        feb) == 0
    assert await _where(services, apr) == {"draws_p202004"}
    # Unset, nothing is retired.
    result = await partitions.maintain(services.pool, settings, now + timedelta(days=400))
    assert result["dropped"] == [] and result["kept"] == []


def test_the_retention_settings_read_from_the_environment(monkeypatch: Any) -> None:
    monkeypatch.setenv("ENGAGEMENT_DRAWS_RETENTION_MONTHS", "")
    assert Settings().draws_retention_months is None
    assert Settings().draws_archive == "csv"
    monkeypatch.setenv("ENGAGEMENT_DRAWS_RETENTION_MONTHS", "13")
    monkeypatch.setenv("ENGAGEMENT_DRAWS_ARCHIVE", "drop")
    assert (Settings().draws_retention_months, Settings().draws_archive) == (13, "drop")
    for name, value in (("ENGAGEMENT_DRAWS_ARCHIVE", "zip"),
                        ("ENGAGEMENT_DRAWS_RETENTION_MONTHS", "0")):
        monkeypatch.setenv(name, value)
        with pytest.raises(ValidationError):
            Settings()
        monkeypatch.delenv(name)
