"""Where webhooks may be sent: public addresses only (SSRF).

A merchant chooses the URL, and the worker that POSTs to it sits inside the deployment's
network, next to PostgreSQL, Redis and cloud metadata endpoints. So every address a target
host resolves to must be public, and not only when the URL is registered: the name can
resolve elsewhere by the time of delivery (DNS rebinding). Delivery therefore resolves the
name itself, checks every address, and connects to a checked one (``PublicOnlyBackend``),
leaving no second lookup that could answer differently.

IPv6 addresses that carry an IPv4 address are judged by the IPv4 address, since the
network delivers them there: IPv4-mapped (``::ffff:a.b.c.d``), 6to4 (``2002:ab:cd::``) and
NAT64 (``64:ff9b::a.b.c.d``). The Python this runs on counts NAT64 and IPv4-compatible
(``::a.b.c.d``) addresses as global, hence the prefixes by hand.
"""

from __future__ import annotations

import asyncio
import ipaddress
import socket
from collections.abc import Iterable
from urllib.parse import urlsplit

import httpcore
import httpx

from engagement.kit.errors import InvalidInput

# RFC 6052's well-known NAT64 prefix: the IPv4 address is the last 32 bits.
NAT64 = ipaddress.IPv6Network("64:ff9b::/96")
# RFC 8215's local-use NAT64 prefix: translated by the operator's own network, never public.
LOCAL_NAT64 = ipaddress.IPv6Network("64:ff9b:1::/48")
# IPv4-compatible addresses (deprecated by RFC 4291): some stacks still send them over IPv4.
IPV4_COMPATIBLE = ipaddress.IPv6Network("::/96")


class UrlNotAllowed(InvalidInput):
    code = "webhook_url_not_allowed"
    message = "Webhook URLs must be public http(s) addresses."


def is_public(address: str) -> bool:
    try:
        ip = ipaddress.ip_address(address)
    except ValueError:
        return False
    if isinstance(ip, ipaddress.IPv6Address):
        if ip in LOCAL_NAT64 or ip in IPV4_COMPATIBLE:
            return False
        embedded = ip.ipv4_mapped or ip.sixtofour
        if embedded is None and ip in NAT64:
            embedded = ipaddress.IPv4Address(int(ip) & 0xFFFF_FFFF)
        if embedded is not None:
            return is_public(str(embedded))
    return ip.is_global and not ip.is_multicast


async def public_addresses(host: str, port: int) -> list[str]:
    """What ``host`` resolves to, when every address is public; UrlNotAllowed otherwise.
    Every one, not the first: the one connected to must be one that was checked."""
    try:
        infos = await asyncio.get_running_loop().getaddrinfo(host, port,
                                                             type=socket.SOCK_STREAM)
    except (OSError, UnicodeError) as exc:  # UnicodeError: a label IDNA cannot encode
        raise UrlNotAllowed("The webhook URL's host does not resolve.", host=host) from exc
    addresses = list(dict.fromkeys(str(info[4][0]) for info in infos))
    if not addresses or not all(is_public(a) for a in addresses):
        raise UrlNotAllowed(host=host)
    return addresses


async def check_target(url: str, *, allow_private: bool) -> None:
    """A URL a merchant may register: http(s), no credentials, and (unless private targets
    are allowed, for a local test receiver) a host whose every address is public."""
    parts = urlsplit(url)
    if parts.scheme not in ("http", "https") or not parts.hostname or parts.username:
        raise UrlNotAllowed(url=url)
    if allow_private:
        return
    try:
        port = parts.port or (443 if parts.scheme == "https" else 80)
    except ValueError as exc:
        raise UrlNotAllowed(url=url) from exc
    try:
        await public_addresses(parts.hostname, port)
    except UrlNotAllowed as exc:
        raise UrlNotAllowed(exc.detail_message, url=url) from None


class PublicOnlyBackend(httpcore.AsyncNetworkBackend):
    """httpcore's network layer, resolving each host itself and connecting only to checked
    addresses. TLS still verifies the certificate against the host name (httpcore passes
    the name, not the address, to the handshake)."""

    def __init__(self) -> None:
        self._inner = httpcore.AnyIOBackend()

    # httpcore's interface, timeout parameters included.
    async def connect_tcp(self, host: str, port: int,
                          timeout: float | None = None,  # noqa: ASYNC109
                          local_address: str | None = None,
                          socket_options: Iterable[httpcore.SOCKET_OPTION] | None = None,
                          ) -> httpcore.AsyncNetworkStream:
        try:
            async with asyncio.timeout(timeout):  # the lookup is part of connecting
                addresses = await public_addresses(host, port)
        except TimeoutError as exc:
            raise httpcore.ConnectTimeout(f"resolving {host} timed out") from exc
        failure: httpcore.ConnectError | None = None
        for address in addresses:
            try:
                return await self._inner.connect_tcp(address, port, timeout=timeout,
                                                     local_address=local_address,
                                                     socket_options=socket_options)
            except httpcore.ConnectError as exc:  # the next address may answer
                failure = exc
        assert failure is not None
        raise failure

    async def connect_unix_socket(self, path: str,
                                  timeout: float | None = None,  # noqa: ASYNC109
                                  socket_options: Iterable[httpcore.SOCKET_OPTION] | None
                                  = None) -> httpcore.AsyncNetworkStream:
        raise UrlNotAllowed(url=path)

    async def sleep(self, seconds: float) -> None:
        await self._inner.sleep(seconds)


def delivery_client(timeout: float, *, allow_private: bool) -> httpx.AsyncClient:
    """The client deliveries go out through. Proxies from the environment are ignored: a
    proxy would make the connection, out of the check's reach. Redirects are not followed:
    their targets were never registered."""
    transport = httpx.AsyncHTTPTransport()
    if not allow_private:
        # httpx takes no network backend; its connection pool is where one plugs in.
        transport._pool = httpcore.AsyncConnectionPool(
            ssl_context=httpx.create_ssl_context(), max_connections=100,
            max_keepalive_connections=20, keepalive_expiry=5.0,
            network_backend=PublicOnlyBackend())
    return httpx.AsyncClient(transport=transport, timeout=timeout, follow_redirects=False,
                             trust_env=False)
