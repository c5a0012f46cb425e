"""compose.cluster.yaml holds together (docker compose itself is not on the test machines):
the app's processes reach every part by a service that exists, the init joins every
cluster node, the proxy forwards to both web processes and is the one trusted proxy."""

from __future__ import annotations

import re
from pathlib import Path
from typing import Any

import yaml

ROOT = Path(__file__).resolve().parents[2]


def _compose() -> dict[str, Any]:
    found: dict[str, Any] = yaml.safe_load((ROOT / "compose.cluster.yaml").read_text())
    return found


def test_every_process_reaches_services_that_exist() -> None:
    services = _compose()["services"]
    nodes = sorted(name for name in services if name.startswith("redis-node-"))
    assert nodes == ["redis-node-1", "redis-node-2", "redis-node-3"]
    apps = ["migrate", "web-1", "web-2", "worker-1", "worker-2"]
    for name in apps:
        env = services[name]["environment"]
        for variable, scheme in (("ENGAGEMENT_DATABASE_URL", "postgresql"),
                                 ("ENGAGEMENT_REDIS_URL", "redis"),
                                 ("ENGAGEMENT_REDIS_CLUSTER_URL", "redis")):
            host = re.match(rf"{scheme}://(?:[^@]+@)?([\w-]+):", env[variable])
            assert host and host[1] in services, (name, variable)
        assert env["ENGAGEMENT_REDIS_CLUSTER_URL"] != env["ENGAGEMENT_REDIS_URL"]
    assert [services[n]["command"][1] for n in apps] == [
        "migrate", "serve", "serve", "worker", "worker"]
    for name in nodes:
        command = services[name]["command"]
        assert command[command.index("--cluster-enabled") + 1] == "yes"
        assert command[command.index("--cluster-announce-hostname") + 1] == name
    init = services["redis-cluster-init"]
    assert set(init["depends_on"]) == set(nodes)
    script = init["command"][0]
    assert "--cluster create" in script and "--cluster-replicas 0" in script
    assert all(node in script for node in nodes)
    assert services["migrate"]["depends_on"]["redis-cluster-init"] == {
        "condition": "service_completed_successfully"}


def test_the_proxy_forwards_to_both_web_processes_and_is_trusted() -> None:
    compose = _compose()
    proxy = compose["services"]["proxy"]
    mount = next(v for v in proxy["volumes"] if "nginx.conf" in v)
    conf = (ROOT / mount.split(":")[0]).read_text()
    assert re.findall(r"^\s*server (web-\d):8000", conf, re.M) == ["web-1", "web-2"]
    address = proxy["networks"]["engagement"]["ipv4_address"]
    env = compose["services"]["web-1"]["environment"]
    assert env["ENGAGEMENT_TRUSTED_PROXIES"] == address
    assert "X-Forwarded-For $proxy_add_x_forwarded_for" in conf
