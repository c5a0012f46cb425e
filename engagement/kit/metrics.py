"""Prometheus metrics: the counters and histograms the service keeps, and ``GET /metrics``.

Counters and histograms live in prometheus-client. With ``PROMETHEUS_MULTIPROC_DIR`` set
(``engagement serve --workers N``, ``run`` and ``worker`` set it up: engagement/cli.py) every
process writes its values to files in that directory and a scrape of any web process adds
up the files of all of them, workers included; the variable must be set before this module
is imported, which the CLI does. Without it (one process, the tests) the values live in
this process.

Gauges of the current state (unsettled wins, the queue's length, the stock drift the
reconciliation last measured) are read when scraped, one cheap query each, rather than kept:
a process cannot know what the others settled, and a value kept by the worker would be seen
only by web processes sharing its directory (not in compose.yaml, where they do not).

The endpoint is not public: with neither ``ENGAGEMENT_METRICS_TOKEN`` nor
``ENGAGEMENT_METRICS_ALLOW`` configured it answers 404 as if it did not exist. With an
allowlist, a scraper whose address (as engagement/kit/proxies.py decides it) is not on it
gets 403; with a token, a request without that Bearer token gets 401. With both, both must
hold."""

from __future__ import annotations

import hmac
import os
from collections.abc import Awaitable, Callable, Iterator, Sequence
from dataclasses import dataclass
from ipaddress import ip_address

from prometheus_client import (
    CONTENT_TYPE_LATEST,
    REGISTRY,
    CollectorRegistry,
    Counter,
    Histogram,
    generate_latest,
    multiprocess,
)
from prometheus_client.core import GaugeMetricFamily, Metric
from starlette.requests import Request
from starlette.responses import Response

from engagement.kit.constants import QUEUE_NAME
from engagement.kit.errors import Forbidden, NotFound, Unauthorized
from engagement.kit.multiproc import MULTIPROC_ENV
from engagement.kit.proxies import client_address
from engagement.kit.state import Services, services

DRAWS = Counter("engagement_draws", "Draws made, by outcome (a replayed Idempotency-Key "
                "is not a new draw).", ["outcome"])
# Bound once: a labelled child costs a dict lookup per use, the hot path pays none.
DRAWS_WON = DRAWS.labels("win")
DRAWS_LOST = DRAWS.labels("lose")
DRAW_DURATION = Histogram(
    "engagement_draw_duration_seconds",
    "Time the service took to answer a draw (fresh or replayed), in seconds.",
    buckets=(0.001, 0.0025, 0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1.0, 2.5))
SETTLEMENT_LAG = Histogram(
    "engagement_settlement_lag_seconds",
    "From a winning draw to its coupon or points being issued, in seconds.",
    buckets=(0.1, 0.25, 0.5, 1.0, 2.5, 5.0, 10.0, 30.0, 60.0, 300.0, 1800.0, 3600.0))
STOCK_REPAIRS = Counter(
    "engagement_stock_repairs", "Changes the stock reconciliation made to campaigns' hot "
    "state in Redis, by kind: reprimed (rebuilt from PostgreSQL), wins (raised to "
    "PostgreSQL's count), quantity (set to PostgreSQL's).", ["kind"])
WEBHOOK_DELIVERIES = Counter(
    "engagement_webhook_deliveries", "Webhook delivery attempts by result: delivered, "
    "retrying (failed, tried again later) or failed (given up).", ["result"])


# A labelled gauge's reading: each series' label values (in the order of ``labels``) and value.
Series = Sequence[tuple[Sequence[str], float]]


@dataclass(frozen=True)
class ScrapeGauge:
    """A gauge read when scraped: ``read`` returns its current value or, for a gauge with
    ``labels``, the value of each series."""

    name: str
    help: str
    read: Callable[[Services], Awaitable[float | Series]]
    labels: tuple[str, ...] = ()


class _Snapshot:
    """A collector of values read just before a scrape (collectors are synchronous)."""

    def __init__(self, values: Sequence[tuple[ScrapeGauge, float | Series]]) -> None:
        self.values = values

    def collect(self) -> Iterator[Metric]:
        for gauge, value in self.values:
            if isinstance(value, (int, float)):
                yield GaugeMetricFamily(gauge.name, gauge.help, value=value)
                continue
            family = GaugeMetricFamily(gauge.name, gauge.help, labels=gauge.labels)
            for label_values, series_value in value:
                family.add_metric(list(label_values), series_value)
            yield family


async def _queue_depth(svc: Services) -> float:
    return float(await svc.redis.zcard(QUEUE_NAME))


QUEUE_DEPTH = ScrapeGauge("engagement_queue_depth",
                          "Jobs waiting in the worker queue (arq), read when scraped.",
                          _queue_depth)


def endpoint(gauges: Sequence[ScrapeGauge]) -> Callable[[Request], Awaitable[Response]]:
    async def metrics(request: Request) -> Response:
        svc = services(request)
        _authorize(request, svc)
        registry = CollectorRegistry()
        if os.environ.get(MULTIPROC_ENV):
            multiprocess.MultiProcessCollector(registry)
            body = generate_latest(registry)
        else:
            body = generate_latest(REGISTRY)
        snapshot = CollectorRegistry()
        snapshot.register(_Snapshot([(g, await g.read(svc)) for g in (*gauges, QUEUE_DEPTH)]))
        return Response(body + generate_latest(snapshot), media_type=CONTENT_TYPE_LATEST)

    return metrics


class _TokenRequired(Unauthorized):
    def headers(self) -> dict[str, str]:
        return {"WWW-Authenticate": 'Bearer realm="metrics"'}


def _authorize(request: Request, svc: Services) -> None:
    token, allow = svc.settings.metrics_token, svc.settings.metrics_allow
    if token is None and not allow:
        raise NotFound()
    if allow:
        address = client_address(request)
        try:
            allowed = any(ip_address(address) in network for network in allow)
        except ValueError:  # no address known
            allowed = False
        if not allowed:
            raise Forbidden("This address may not read the metrics.")
    if token is not None:
        scheme, _, given = request.headers.get("authorization", "").partition(" ")
        if scheme.lower() != "bearer" or not hmac.compare_digest(
                given.strip().encode(), token.get_secret_value().encode()):
            raise _TokenRequired("A Bearer token is needed to read the metrics.")
