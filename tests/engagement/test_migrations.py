from __future__ import annotations

import secrets
from urllib.parse import urlsplit, urlunsplit

import psycopg

from engagement.kit.migrate import MIGRATIONS_DIR, apply_migrations


def test_migrations_apply_to_an_empty_database_and_rerun_as_no_op(
        server_urls: tuple[str, str]) -> None:
    db_url, _ = server_urls
    name = f"engagement_mig_{secrets.token_hex(4)}"
    with psycopg.connect(db_url, autocommit=True) as conn:
        conn.execute(f'CREATE DATABASE "{name}"')
    url = urlunsplit(urlsplit(db_url)._replace(path="/" + name))
    try:
        applied = apply_migrations(url)
        files = sorted(p.stem for p in MIGRATIONS_DIR.glob("*.sql"))
        assert applied == files
        with psycopg.connect(url) as conn:
            tables = {r[0] for r in conn.execute(
                "SELECT tablename FROM pg_tables WHERE schemaname = 'public'")}
        assert {"merchants", "api_keys", "members", "member_tokens"} <= tables
        assert apply_migrations(url) == []
    finally:
        with psycopg.connect(db_url, autocommit=True) as conn:
            conn.execute(f'DROP DATABASE "{name}" WITH (FORCE)')
