from __future__ import annotations

from redis.asyncio.cluster import RedisCluster
from starlette.requests import Request
from starlette.responses import JSONResponse, Response

from engagement.kit.state import services


async def healthz(request: Request) -> Response:
    return JSONResponse({"status": "ok"})


async def readyz(request: Request) -> Response:
    svc = services(request)
    checks: dict[str, str] = {}
    try:
        await svc.pool.fetchval("SELECT 1")
        checks["database"] = "ok"
    except Exception as exc:
        checks["database"] = f"error: {type(exc).__name__}"
    try:
        await svc.redis.ping()
        checks["redis"] = "ok"
    except Exception as exc:
        checks["redis"] = f"error: {type(exc).__name__}"
    if svc.cluster is not None:  # campaigns' hot state (ENGAGEMENT_REDIS_CLUSTER_URL)
        try:
            # PING goes to every primary: a node that cannot be reached is not ready.
            await svc.cluster.ping(target_nodes=RedisCluster.PRIMARIES)
            checks["redis_cluster"] = "ok"
        except Exception as exc:
            checks["redis_cluster"] = f"error: {type(exc).__name__}"
    ok = all(v == "ok" for v in checks.values())
    return JSONResponse({"status": "ok" if ok else "unavailable", "checks": checks},
                        status_code=200 if ok else 503)
