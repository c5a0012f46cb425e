"""What partitioning draws costs the writer: draws inserted as the group-commit writer
inserts them (games.draw.queries.insert_draws, batches of 500), into the draws table before
migration 0028 (one table, two unique indexes) and after it (monthly partitions, the claim
trigger writing draw_win_seqs and draw_idempotency_keys), on the same server, turn by turn.

    .venv/bin/python bench/draw_inserts.py [--rounds 6] [--batches 10]

Needs PostgreSQL (ENGAGEMENT_DATABASE_URL, default 127.0.0.1); it creates two scratch
databases and drops them. A tenth of the draws win, half carry an Idempotency-Key, as the
game page sends one per draw. Prints rows per second for each schema."""

from __future__ import annotations

import argparse
import asyncio
import os
import secrets
import time
from datetime import UTC, datetime
from urllib.parse import urlsplit, urlunsplit

import asyncpg
import psycopg
from yoyo import get_backend, read_migrations

from engagement.kit.ids import new_id
from engagement.kit.migrate import MIGRATIONS_DIR, yoyo_url
from games.draw import queries

PARTITIONED = "0028_draws_partitioned"
BATCH = 500


def _migrate(url: str, *, partitioned: bool) -> None:
    backend = get_backend(yoyo_url(url))
    try:
        with backend.lock():
            pending = backend.to_apply(read_migrations(str(MIGRATIONS_DIR)))
            if not partitioned:
                pending = pending.filter(lambda m: m.id != PARTITIONED)
            backend.apply_migrations(pending)
    finally:
        backend.connection.close()


async def _database(admin: str, *, partitioned: bool) -> tuple[str, asyncpg.Pool]:
    name = f"engagement_bench_inserts_{secrets.token_hex(4)}"
    with psycopg.connect(admin, autocommit=True) as conn:
        conn.execute(f'CREATE DATABASE "{name}"')
    url = urlunsplit(urlsplit(admin)._replace(path="/" + name))
    await asyncio.to_thread(_migrate, url, partitioned=partitioned)
    pool = await asyncpg.create_pool(url, min_size=1, max_size=1)
    assert pool is not None
    await pool.execute("""
        INSERT INTO merchants (id, slug, name) VALUES ('mch_1', 'bench', 'Bench');
        INSERT INTO members (id, merchant_id, external_id) VALUES ('mem_1', 'mch_1', 'a');
        INSERT INTO campaigns (id, merchant_id, name, game, status, published_at)
            VALUES ('cmp_1', 'mch_1', 'Wheel', 'wheel', 'active', now());
        INSERT INTO campaign_prizes (id, campaign_id, merchant_id, position, name, kind, points,
                                     weight)
            VALUES ('prz_1', 'cmp_1', 'mch_1', 1, '5 points', 'points', 5, 1)""")
    return name, pool


class _Rows:
    def __init__(self) -> None:
        self.n = self.wins = 0

    def batch(self) -> list[tuple[object, ...]]:
        now, rows = datetime.now(UTC), []
        for _ in range(BATCH):
            self.n += 1
            win = self.n % 10 == 0
            self.wins += win
            rows.append((new_id("drw"), "mch_1", "cmp_1", "mem_1", "prz_1" if win else None,
                         "win" if win else "lose", self.wins if win else None, now.date(), 0,
                         f"k-{self.n}" if self.n % 2 else None, None, '{"outcome": 1}', now))
        return rows


async def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("--rounds", type=int, default=6)
    parser.add_argument("--batches", type=int, default=10, help="batches per round")
    args = parser.parse_args()
    admin = os.environ.get("ENGAGEMENT_DATABASE_URL",
                           "postgresql://postgres@127.0.0.1:5432/postgres")
    schemas = {"one table (before 0028)": False, "partitioned, claims": True}
    made = {label: await _database(admin, partitioned=p) for label, p in schemas.items()}
    spent = dict.fromkeys(made, 0.0)
    rows = {label: _Rows() for label in made}
    try:
        for _ in range(args.rounds):  # turn by turn, so that neither gains from going first
            for label, (_, pool) in made.items():
                batches = [rows[label].batch() for _ in range(args.batches)]
                started = time.perf_counter()
                for batch in batches:
                    inserted = await queries.insert_draws(pool, batch)
                    assert len(inserted) == len(batch)
                spent[label] += time.perf_counter() - started
    finally:
        for name, pool in made.values():
            await pool.close()
            with psycopg.connect(admin, autocommit=True) as conn:
                conn.execute(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)')
    total = args.rounds * args.batches * BATCH
    print(f"{total} draws per schema, batches of {BATCH}, one connection:")
    for label, seconds in spent.items():
        print(f"  {label:26}: {total / seconds:8.0f} rows/s")


if __name__ == "__main__":
    asyncio.run(main())
