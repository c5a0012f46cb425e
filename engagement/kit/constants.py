"""Redis key names, TTLs and queue names in one place, each with the reason for its value."""

from __future__ import annotations

# arq's default queue; one queue keeps ordering simple and the worker fleet uniform.
QUEUE_NAME = "arq:queue"

# Idempotency keys must last "at least 24 hours" (API.md); 48 h covers a day boundary and
# a client that retries the next morning.
IDEMPOTENCY_TTL_SECONDS = 48 * 3600

# How long a member-token lookup may be answered from the process's memory instead of
# PostgreSQL. Short, so a revoked or purged token stops working within a minute everywhere.
MEMBER_TOKEN_CACHE_SECONDS = 60

# Member sessions in the browser: the cookie carries the member token.
MEMBER_COOKIE = "eng_member"

# Purging expired member tokens: often enough that the table stays small, rarely enough to
# be free.
PURGE_TOKENS_EVERY_MINUTES = 10

# Daily sends are scheduled this often: every time zone's offset is a multiple of 15 minutes,
# so each merchant's send hour falls on a tick, and a run missed then follows within the day.
SCHEDULE_DAILY_SENDS_EVERY_MINUTES = 15

# Campaign hot state. Every key of one campaign carries the hash tag {c:<id>} so that the
# draw script touches a single slot and stays valid on Redis Cluster.
CAMPAIGN_TAG = "{{c:{campaign_id}}}"
# Per-member day counters outlive the merchant's day by a day on each side of UTC.
DRAW_DAY_COUNTER_TTL_SECONDS = 2 * 24 * 3600
# While one process re-primes a campaign from PostgreSQL, others wait for it this long.
PRIME_LOCK_MS = 10_000
# A member's coupon holdings (per-member limits of prize coupons) are seeded into Redis from
# PostgreSQL before their first draw in a campaign and kept this long: the draw script counts
# wins on them atomically, and after this a changed limit or a coupon from another source
# (mall, send, share link) is seen again, for one query per member every ten minutes.
COUPON_HOLDINGS_TTL_SECONDS = 10 * 60
# A draw replayed while its first request is still being written waits at most this long.
IDEMPOTENCY_WAIT_SECONDS = 5.0
# A win older than this and still unsettled is re-enqueued by the sweeper.
SETTLE_STALE_SECONDS = 5
SWEEP_EVERY_SECONDS = 5
# Unwon reservations are released this long after a campaign ends, when no draw can still
# be on its way to PostgreSQL.
RELEASE_AFTER_END_SECONDS = 30

# Joining with a phone number (领券先领卡). A code lives five minutes: long enough to read an
# SMS and type it, short enough that a leaked code is soon worthless.
JOIN_CODE_TTL_SECONDS = 5 * 60
# Wrong guesses per code before it is burnt: five tries at a six-digit code leave a guesser
# a 1 in 200,000 chance.
JOIN_CODE_MAX_ATTEMPTS = 5
# One code per phone per minute: absorbs double taps and stops SMS bombing of a stranger.
JOIN_RESEND_SECONDS = 60
# Codes sent per client address per hour: bounds what one script can cost in SMS fees.
JOIN_SENDS_PER_IP_PER_HOUR = 20
JOIN_CODE_KEY = "join:code:{merchant_id}:{phone}"
JOIN_RESEND_KEY = "join:resend:{merchant_id}:{phone}"
JOIN_IP_KEY = "join:ip:{ip}"

# Browser cookies of the member pages: the chosen language (kept a year, it is a preference,
# not a credential) and the random secret that anti-CSRF tokens are bound to.
LANG_COOKIE = "eng_lang"
LANG_COOKIE_MAX_AGE = 365 * 24 * 3600
CSRF_COOKIE = "eng_csrf"

# Merchant console sessions: a random id in an HttpOnly cookie; the session lives in Redis
# under the id's SHA-256, so a copy of Redis holds nothing a browser could present, and
# logging out really ends it. Eight idle hours cover a shop's working day; a week is the
# most any one session lasts, however busy.
CONSOLE_COOKIE = "eng_console"
CONSOLE_SESSION_KEY = "console:session:{digest}"
CONSOLE_SESSION_IDLE_SECONDS = 8 * 3600
CONSOLE_SESSION_MAX_SECONDS = 7 * 24 * 3600
# Each console user's open sessions (a set of the session keys above), so that removing a
# member of staff ends all of them at once. It lives as long as the newest session can.
CONSOLE_USER_SESSIONS_KEY = "console:user-sessions:{user_id}"
# Console sign-in throttling, in fixed 15-minute windows. Five attempts per email without a
# success (each counted before its password is checked) allow for typos but not for
# guessing; thirty attempts per address let a shop's staff share one connection while a
# script trying many emails soon stops.
CONSOLE_LOGIN_WINDOW_SECONDS = 15 * 60
CONSOLE_LOGIN_FAILURES_PER_EMAIL = 5
CONSOLE_LOGIN_ATTEMPTS_PER_IP = 30
CONSOLE_LOGIN_EMAIL_KEY = "console:login:email:{digest}"
CONSOLE_LOGIN_IP_KEY = "console:login:ip:{ip}"
# The live dashboard refreshes this often: quick enough to watch a launch, cheap because it
# reads Redis counters and one index range of recent draws.
CONSOLE_REFRESH_SECONDS = 5
# CSV exports read this many rows per query and stream them out, so memory stays flat for
# any export size and no connection is held while a slow client downloads.
EXPORT_BATCH_ROWS = 2000

# Request bodies, enforced while they stream in (engagement/kit/request_limits.py). The largest
# body any route takes today is a campaign with its prize pool, a few KiB of JSON; 1 MiB
# leaves room for that to grow a hundredfold while a flood of huge posts costs each worker
# at most 1 MiB per request in flight.
MAX_BODY_BYTES = 1024 * 1024
# Routes that need more declare it here, by path prefix (the prefix itself and below).
BODY_LIMITS_BY_PREFIX: dict[str, int] = {
    # CSV member imports (老会员导入) and their preview: 100,000 rows of id, phone, name,
    # birthday, points and tier are about 6 MiB; 20 MiB leaves room for long names.
    "/api/v1/member-imports": 20 * 1024 * 1024,
    # The console's upload and preview of the same files.
    "/console/imports": 20 * 1024 * 1024,
}
# JSON bodies nest at most this deep. The API's own bodies nest three levels (a campaign,
# its prize pool, a prize); 32 is generous for any client, yet far below Python's recursion
# limit, so a body of nothing but brackets is refused before the parser recurses.
MAX_JSON_DEPTH = 32

# Member codes (会员码) shown as a QR code on the member home for the till: a code lives
# three minutes (the contract allows at most five) and the page fetches a new one every
# minute, so the code on screen always has two minutes left and a screenshot is soon
# worthless. 18 digits (60 bits) cannot be guessed in that time and type on a number pad.
MEMBER_CODE_TTL_SECONDS = 3 * 60
MEMBER_CODE_REFRESH_SECONDS = 60
MEMBER_CODE_DIGITS = 18
MEMBER_CODE_KEY = "member:code:{merchant_id}:{code}"
