"""Redis key names, TTLs and queue names in one place, each with the reason for its value."""

from __future__ import annotations

# arq's default queue; one queue keeps ordering simple and the worker fleet uniform.
QUEUE_NAME = "arq:queue"

# Idempotency keys must last "at least 24 hours" (API.md); 48 h covers a day boundary and
# a client that retries the next morning.
IDEMPOTENCY_TTL_SECONDS = 48 * 3600

# How long a member-token lookup may be answered from Redis instead of PostgreSQL. Short,
# so a revoked or purged token stops working within a minute everywhere.
MEMBER_TOKEN_CACHE_SECONDS = 60

# Member sessions in the browser: the cookie carries the member token.
MEMBER_COOKIE = "eng_member"

# Purging expired member tokens: often enough that the table stays small, rarely enough to
# be free.
PURGE_TOKENS_EVERY_MINUTES = 10

# Campaign hot state. Every key of one campaign carries the hash tag {c:<id>} so that the
# draw script touches a single slot and stays valid on Redis Cluster.
CAMPAIGN_TAG = "{{c:{campaign_id}}}"
# Per-member day counters outlive the merchant's day by a day on each side of UTC.
DRAW_DAY_COUNTER_TTL_SECONDS = 2 * 24 * 3600
# While one process re-primes a campaign from PostgreSQL, others wait for it this long.
PRIME_LOCK_MS = 10_000
# A draw replayed while its first request is still being written waits at most this long.
IDEMPOTENCY_WAIT_SECONDS = 5.0
# A win older than this and still unsettled is re-enqueued by the sweeper.
SETTLE_STALE_SECONDS = 5
SWEEP_EVERY_SECONDS = 5
# Unwon reservations are released this long after a campaign ends, when no draw can still
# be on its way to PostgreSQL.
RELEASE_AFTER_END_SECONDS = 30
