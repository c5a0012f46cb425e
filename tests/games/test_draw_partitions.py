"""Migration 0028 on a live database: the draws of several months keep every row, land in
their months' partitions, and both uniqueness guarantees hold afterwards, across partitions
and under concurrent writers (the claim tables draw_win_seqs and draw_idempotency_keys)."""

from __future__ import annotations

import asyncio
import json
import secrets
from collections.abc import AsyncIterator
from datetime import UTC, datetime, timedelta
from typing import cast
from urllib.parse import urlsplit, urlunsplit

import asyncpg
import psycopg
import pytest
from yoyo import get_backend, read_migrations

from engagement.kit.clock import FrozenClock
from engagement.kit.migrate import MIGRATIONS_DIR, yoyo_url
from engagement.kit.state import Services
from games.draw import queries
from games.draw.protocol import DrawKeys
from games.partitions import service as partitions
from games.partitions.service import month_of, partition_name
from tests.factories import Factory

MIGRATION = "0028_draws_partitioned"
MONTHS = [datetime(2026, 7, 9, 3, tzinfo=UTC), datetime(2026, 8, 31, 23, 59, tzinfo=UTC),
          datetime(2026, 9, 1, 0, 0, tzinfo=UTC), datetime(2026, 10, 15, 12, tzinfo=UTC)]


def _migrate(url: str, *, up_to_before: bool) -> None:
    backend = get_backend(yoyo_url(url))
    migrations = read_migrations(str(MIGRATIONS_DIR))
    try:
        with backend.lock():
            pending = backend.to_apply(migrations)
            if up_to_before:
                pending = pending.filter(lambda m: m.id != MIGRATION)
            backend.apply_migrations(pending)
    finally:
        backend.connection.close()


@pytest.fixture
async def old_db(server_urls: tuple[str, str]) -> AsyncIterator[str]:
    """A database at the schema before 0028 (draws unpartitioned)."""
    parts = urlsplit(server_urls[0])
    name = f"engagement_part_{secrets.token_hex(4)}"
    url = urlunsplit(parts._replace(path="/" + name))
    with psycopg.connect(server_urls[0], autocommit=True) as conn:
        conn.execute(f'CREATE DATABASE "{name}"')
    try:
        await asyncio.to_thread(_migrate, url, up_to_before=True)
        yield url
    finally:
        with psycopg.connect(server_urls[0], autocommit=True) as conn:
            conn.execute(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)')


def _row(i: int, created_at: datetime, *, win_seq: int | None = None,
         key: str | None = None, member: str = "mem_1") -> tuple[object, ...]:
    outcome = "win" if win_seq is not None else "lose"
    return (f"drw_{i:06d}{secrets.token_hex(4)}", "mch_1", "cmp_1", member,
            "prz_1" if win_seq is not None else None, outcome, win_seq, created_at.date(), 0,
            key, None, json.dumps({"outcome": outcome}), created_at)


async def _seed(conn: asyncpg.Connection) -> None:
    await conn.execute("""
        INSERT INTO merchants (id, slug, name) VALUES ('mch_1', 'shop-1', 'Shop');
        INSERT INTO members (id, merchant_id, external_id) VALUES
            ('mem_1', 'mch_1', 'a'), ('mem_2', 'mch_1', 'b');
        INSERT INTO campaigns (id, merchant_id, name, game, status, published_at)
            VALUES ('cmp_1', 'mch_1', 'Wheel', 'wheel', 'active', '2026-07-01 00:00+00');
        INSERT INTO campaign_prizes (id, campaign_id, merchant_id, position, name, kind, points,
                                     quantity, weight)
            VALUES ('prz_1', 'cmp_1', 'mch_1', 1, '5 points', 'points', 5, 1000, 1)""")


_INSERT_OLD = """INSERT INTO draws (id, merchant_id, campaign_id, member_id, prize_id, outcome,
    win_seq, local_day, points_spent, idempotency_key, request_hash, response, created_at)
    VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9, $10, $11, $12::jsonb, $13)"""


async def test_the_migration_keeps_every_draw_of_every_month_and_both_guarantees(
        old_db: str) -> None:
    conn = await asyncpg.connect(old_db)
    try:
        await _seed(conn)
        rows, seq = [], 0
        for n, at in enumerate(MONTHS):
            for j in range(6):
                win = j % 2 == 0
                seq += win
                rows.append(_row(len(rows), at + timedelta(minutes=j),
                                 win_seq=seq if win else None,
                                 key=f"k-{n}-{j}" if j < 4 else None))
        await conn.executemany(_INSERT_OLD, rows)
        await conn.execute("UPDATE draws SET settled_at = created_at WHERE win_seq <= 3")
        before = await conn.fetch("SELECT row_to_json(d)::jsonb AS r FROM draws d ORDER BY id")
    finally:
        await conn.close()

    await asyncio.to_thread(_migrate, old_db, up_to_before=False)

    pool = await asyncpg.create_pool(old_db, min_size=2, max_size=12)
    assert pool is not None
    try:
        after = await pool.fetch("SELECT row_to_json(d)::jsonb AS r FROM draws d ORDER BY id")
        assert [json.loads(r["r"]) for r in after] == [json.loads(r["r"]) for r in before]
        assert await pool.fetchval(
            "SELECT relkind::text FROM pg_class WHERE relname = 'draws'") == "p"
        # Every row sits in its UTC month's partition; the current and next months exist.
        placed = await pool.fetch("SELECT tableoid::regclass::text AS part, created_at "
                                  "FROM draws")
        assert all(r["part"] == partition_name(month_of(r["created_at"])) for r in placed)
        names = {r["relname"] for r in await pool.fetch(
            "SELECT c.relname FROM pg_inherits i JOIN pg_class c ON c.oid = i.inhrelid "
            "WHERE i.inhparent = 'draws'::regclass")}
        now = month_of(datetime.now(UTC))
        expected = {partition_name(month_of(m)) for m in MONTHS} | {
            partition_name(now), partition_name(month_of(now + timedelta(days=32))),
            "draws_default"}
        assert names == expected
        assert await pool.fetchval("SELECT count(*) FROM draw_win_seqs") == seq
        assert await pool.fetchval("SELECT count(*) FROM draw_idempotency_keys") == 16

        # A key and a win sequence number of July are refused in October's partition too.
        october = MONTHS[3] + timedelta(hours=1)
        assert await queries.insert_draws(pool, [_row(900, october, key="k-0-1")]) == set()
        assert await queries.insert_draws(pool, [_row(901, october, win_seq=1)]) == set()
        # A win refused for its number leaves its key free for the lose that replaces it.
        assert await queries.insert_draws(pool, [_row(902, october, win_seq=2,
                                                      key="fresh")]) == set()
        lose = _row(903, october, key="fresh")
        assert await queries.insert_draws(pool, [lose]) == {lose[0]}
        found = await queries.draw_by_idempotency_key(pool, "cmp_1", "mem_1", "fresh")
        assert found is not None
        assert await pool.fetchval("SELECT count(*) FROM draws") == len(rows) + 1

        await _race(pool, seq)
        # Updating what a claim stands on is refused; settling is not.
        with pytest.raises(asyncpg.CheckViolationError):
            await pool.execute("UPDATE draws SET idempotency_key = 'x' WHERE id = $1", lose[0])
        await pool.execute("UPDATE draws SET settled_at = now() WHERE win_seq IS NOT NULL")
    finally:
        await pool.close()


async def _race(pool: asyncpg.Pool, seq: int) -> None:
    """Forty writers at once with one Idempotency-Key, and forty with one win sequence
    number, each on its own connection and spread over four months' partitions: one row
    each."""
    keyed = [_row(1000 + i, MONTHS[i % 4] + timedelta(seconds=i), key="race",
                  member="mem_2") for i in range(40)]
    wins = [_row(2000 + i, MONTHS[i % 4] + timedelta(seconds=i), win_seq=seq + 1,
                 key=f"w-{i}") for i in range(40)]
    # Batches of several rows, as the group-committing writer sends them.
    batches = [[keyed[i], wins[i]] for i in range(40)]
    results = await asyncio.gather(*[queries.insert_draws(pool, b) for b in batches])
    inserted = set().union(*results)
    assert len(inserted & {r[0] for r in keyed}) == 1
    assert len(inserted & {r[0] for r in wins}) == 1
    assert await pool.fetchval("SELECT count(*) FROM draws WHERE idempotency_key = 'race'") == 1
    assert await pool.fetchval("SELECT count(*) FROM draws WHERE win_seq = $1", seq + 1) == 1
    # Losing winners hold no key claims: only the winner's key (and the race key) is held.
    held = await pool.fetchval(
        "SELECT count(*) FROM draw_idempotency_keys WHERE idempotency_key LIKE 'w-%'")
    assert held == 1


async def test_a_key_replayed_next_month_with_its_record_lost_is_the_same_draw(
        factory: Factory, services: Services, clock: FrozenClock) -> None:
    """Through the hot path: the key's first draw sits in November's partition; in December
    (another partition) the key's Redis record is gone, twenty replays race, and the claim
    refuses every second row: one draw, the first, answers them all."""
    async with services.pool.acquire() as conn:
        for month in (datetime(2026, 11, 1, tzinfo=UTC), datetime(2026, 12, 1, tzinfo=UTC)):
            await partitions.ensure_month(cast(asyncpg.Connection, conn), month)
    shop = await factory.merchant()
    campaign = await factory.campaign(shop, [
        {"name": "5积分", "kind": "points", "points": 5, "quantity": 100, "weight": 1}])
    member = await factory.member(shop)
    first = await factory.draw(member, campaign["id"], key="tap-1")
    assert first.status_code == 201, first.text
    november = clock.now()
    clock.advance(days=8)
    for day in (november.date(), clock.now().date()):
        await services.redis.delete(
            DrawKeys.of(campaign["id"], member.id, day, "tap-1").idempotency)
    replays = await asyncio.gather(*[factory.draw(member, campaign["id"], key="tap-1")
                                     for _ in range(20)])
    assert {r.status_code for r in replays} == {201}
    assert all(r.json() == first.json() for r in replays)
    rows = await services.pool.fetch("SELECT tableoid::regclass::text AS part FROM draws")
    assert [r["part"] for r in rows] == ["draws_p202611"]
    assert await services.pool.fetchval("SELECT count(*) FROM draw_win_seqs") == 1
