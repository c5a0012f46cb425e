"""Typed configuration, read once from the environment (prefix ``ENGAGEMENT_``)."""

from __future__ import annotations

from functools import lru_cache
from ipaddress import IPv4Network, IPv6Network
from pathlib import Path
from typing import Annotated, Any, Literal

from pydantic import Field, SecretStr, field_validator
from pydantic_settings import BaseSettings, NoDecode, SettingsConfigDict


class Settings(BaseSettings):
    model_config = SettingsConfigDict(env_prefix="ENGAGEMENT_", env_file=".env", extra="ignore")

    # No URL means: start an embedded server under data_dir (see engagement.kit.embedded).
    database_url: str | None = None
    redis_url: str | None = None
    # A Redis Cluster (redis://host:port of any node) for campaigns' hot state: the draw
    # scripts' stock, limits, idempotency records, pity and burst counters. Unset: they live
    # on redis_url with everything else. The job queue, sessions and throttles always stay
    # on redis_url (arq has no cluster support); see engagement/kit/hot_redis.py.
    redis_cluster_url: str | None = None
    data_dir: Path = Path(".engagement")
    # Signs member-facing links and cookies. With none configured a random key is generated
    # once and kept in data_dir, so development needs no setup and nothing lives in code.
    secret_key: SecretStr | None = None
    # Where members' browsers reach this service; used to build entry_url / play_url.
    public_url: str = "http://127.0.0.1:8000"
    host: str = "127.0.0.1"
    port: int = 8000
    # Reverse proxies (addresses or CIDR networks, comma-separated) whose X-Forwarded-For is
    # believed (engagement.kit.proxies). Empty: nobody's, so a client cannot pick the address
    # that per-address limits count it under.
    trusted_proxies: Annotated[tuple[IPv4Network | IPv6Network, ...], NoDecode] = ()
    # Web processes: the app is stateless, so one per core is the usual choice.
    web_concurrency: int = Field(default=1, ge=1, le=64)
    db_pool_min: int = 2
    db_pool_max: int = 20
    member_token_ttl_hours: int = Field(default=24 * 30, ge=1)
    log_level: str = "INFO"
    # Draw hot path: per-member burst guard (draws per window) before 429 rate_limited.
    draw_rate_limit: int = Field(default=20, ge=1)
    draw_rate_window_seconds: int = Field(default=10, ge=1)
    # Settlement job coalescing: draws of one campaign inside one bucket share a job.
    settle_bucket_ms: int = Field(default=100, ge=10)
    # Wins settled per transaction: big enough to amortise round trips, small enough to
    # keep row locks short.
    settle_batch: int = Field(default=500, ge=1, le=10_000)
    worker_poll_delay: float = Field(default=0.02, gt=0)
    # The worker's CPU priority (nice increment): on a machine it shares with web processes,
    # member requests come first; settlement has a budget of a second, not milliseconds.
    worker_nice: int = Field(default=10, ge=0, le=19)
    worker_max_jobs: int = Field(default=20, ge=1)
    # Stock reconciliation (games/reconcile): how long it waits between reading a campaign's
    # Redis counters and PostgreSQL's wins, so that draws then between the two (counted in
    # Redis, their rows not yet committed) are in PostgreSQL's count. A draw's row commits
    # milliseconds after its script; only a write stuck longer than this is seen as drift.
    reconcile_grace_seconds: float = Field(default=2.0, ge=0, le=30)
    # Who delivers join verification codes: "log" (development: the code goes to the log) or
    # "package.module:Name", a class with ``async send(phone, code, merchant)`` (an SMS API).
    verification_sender: str = "log"
    # Webhook URLs resolving to private, loopback or link-local addresses are refused (SSRF);
    # only a local test receiver needs this on.
    webhooks_allow_private_targets: bool = False
    # Who may read GET /metrics (engagement/kit/metrics.py): scrapers presenting this Bearer
    # token and/or scrapers at these addresses or CIDR networks (comma-separated; the client
    # address as ENGAGEMENT_TRUSTED_PROXIES makes it). Neither set: /metrics answers 404.
    metrics_token: SecretStr | None = None
    metrics_allow: Annotated[tuple[IPv4Network | IPv6Network, ...], NoDecode] = ()
    # Draws live in monthly partitions (games/partitions/service.py). With a retention set, the
    # daily cron retires each month older than this many whole months (unset: kept forever),
    # except one still holding unsettled wins or draws of a campaign that has not ended.
    draws_retention_months: int | None = Field(default=None, ge=1)
    # How a month is retired: "csv" writes it to <data_dir>/archive/draws/draws_pYYYYMM.csv
    # before detaching and dropping it; "drop" drops it.
    draws_archive: Literal["csv", "drop"] = "csv"

    @field_validator("trusted_proxies", "metrics_allow", mode="before")
    @classmethod
    def _comma_separated(cls, value: Any) -> Any:
        if isinstance(value, str):
            return tuple(part.strip() for part in value.split(",") if part.strip())
        return value

    @field_validator("metrics_token", "draws_retention_months", mode="before")
    @classmethod
    def _blank_is_none(cls, value: Any) -> Any:
        # An empty token would let an empty Bearer credential in; an empty retention is
        # none.
        return None if isinstance(value, str) and not value.strip() else value


@lru_cache(maxsize=1)
def get_settings() -> Settings:
    return Settings()


def resolve_secret_key(settings: Settings) -> str:
    if settings.secret_key is not None:
        return settings.secret_key.get_secret_value()
    import secrets

    path = settings.data_dir / "secret_key"
    if path.exists():
        return path.read_text().strip()
    settings.data_dir.mkdir(parents=True, exist_ok=True)
    key = secrets.token_urlsafe(48)
    path.write_text(key)
    path.chmod(0o600)
    return key
