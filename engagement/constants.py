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
