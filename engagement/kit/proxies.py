"""Who the client is, when reverse proxies stand in front of the service.

Per-address limits (join-code sends, console sign-in) and the referral farm rule key on the
client's address. Only a proxy the operator named (``ENGAGEMENT_TRUSTED_PROXIES``) may say
who that is, in ``X-Forwarded-For``; anyone else could write any address there and get a
fresh allowance per request, or pin their joins on someone else. The app decides this
itself rather than leaving it to uvicorn's ``--proxy-headers`` (which trusts 127.0.0.1 by
default, and which ``engagement serve`` turns off), so there is one rule, and it is tested.
"""

from __future__ import annotations

import ipaddress
from collections.abc import Sequence

from starlette.requests import Request

IPAddress = ipaddress.IPv4Address | ipaddress.IPv6Address
IPNetwork = ipaddress.IPv4Network | ipaddress.IPv6Network

UNKNOWN = "unknown"


def client_address(request: Request) -> str:
    """The address per-client rules count under, for every caller alike."""
    if request.client is None:
        return UNKNOWN
    trusted: Sequence[IPNetwork] = request.app.state.services.settings.trusted_proxies
    return forwarded_client(request.client.host,
                            request.headers.getlist("x-forwarded-for"), trusted)


def forwarded_client(peer: str, forwarded_for: Sequence[str],
                     trusted: Sequence[IPNetwork]) -> str:
    """Walk the hops from the right: each proxy appends the address it was reached from, so
    every entry up to the first one not written by a trusted proxy is believed, and that
    entry is the client. Entries further left were written by the client and prove
    nothing. An entry that is not an address stops the walk at the last hop vouched for."""
    address = _parse(peer)
    if address is None:
        return peer
    client = address
    if not trusted or not _is_trusted(client, trusted):
        return str(client)
    hops = [hop.strip() for value in forwarded_for for hop in value.split(",")]
    for hop in reversed(hops):
        parsed = _parse(hop)
        if parsed is None:
            break
        client = parsed
        if not _is_trusted(client, trusted):
            break
    return str(client)


def _is_trusted(address: IPAddress, trusted: Sequence[IPNetwork]) -> bool:
    return any(address in network for network in trusted)


def _parse(value: str) -> IPAddress | None:
    """An address as a proxy may write it: bare, ``[v6]:port`` or ``v4:port``; an
    IPv4-mapped IPv6 address (a dual-stack socket's view of an IPv4 peer) as IPv4."""
    text = value.strip()
    if text.startswith("["):
        text = text[1:].partition("]")[0]
    elif text.count(":") == 1:
        text = text.partition(":")[0]
    try:
        address = ipaddress.ip_address(text)
    except ValueError:
        return None
    if isinstance(address, ipaddress.IPv6Address) and address.ipv4_mapped is not None:
        return address.ipv4_mapped
    return address
