"""Who is calling: a merchant (API key) or a member (member token, header or cookie).

Both arrive as ``Authorization: Bearer ...``; the prefix says which kind it claims to be.
Member pages send the member token as a cookie instead; a state change made with the cookie
must also carry the page's anti-CSRF token (``engagement.kit.csrf``).
A member token on a merchant endpoint is 403, a merchant key on a member endpoint too;
anything missing or unknown is 401.
"""

from __future__ import annotations

from starlette.requests import Request

from engagement.kit import csrf
from engagement.kit.constants import MEMBER_COOKIE
from engagement.kit.errors import Forbidden, Unauthorized
from engagement.kit.security import API_KEY_PREFIX, MEMBER_TOKEN_PREFIX, digest
from engagement.kit.state import services
from engagement.members import queries as member_queries
from engagement.members.schemas import MemberPrincipal
from engagement.merchants import queries as merchant_queries
from engagement.merchants.schemas import Merchant

SAFE_METHODS = ("GET", "HEAD", "OPTIONS")


def bearer(request: Request) -> str | None:
    header = request.headers.get("authorization")
    if not header:
        return None
    scheme, _, value = header.partition(" ")
    if scheme.lower() != "bearer" or not value.strip():
        raise Unauthorized("Use 'Authorization: Bearer <key or token>'.")
    return value.strip()


async def require_merchant(request: Request) -> Merchant:
    secret = bearer(request)
    if secret is None:
        raise Unauthorized()
    if secret.startswith(MEMBER_TOKEN_PREFIX):
        if await member_from_secret(request, secret) is not None:
            raise Forbidden("A member token cannot use merchant endpoints.")
        raise Unauthorized()
    merchant = await merchant_from_secret(request, secret)
    if merchant is None:
        raise Unauthorized()
    return merchant


async def merchant_from_secret(request: Request, secret: str) -> Merchant | None:
    if not secret.startswith(API_KEY_PREFIX):
        return None
    return await merchant_queries.merchant_by_key_hash(services(request).pool, digest(secret))


async def member_from_secret(request: Request, secret: str) -> MemberPrincipal | None:
    if not secret.startswith(MEMBER_TOKEN_PREFIX):
        return None
    svc = services(request)
    key, now = digest(secret), svc.clock.now()
    cached = svc.principals.get(key)
    if cached is not None:
        principal, expires_at = cached
        return principal if expires_at > now else None
    row = await member_queries.principal_by_token_hash(svc.pool, key, now)
    if row is None:
        return None
    merchant = Merchant(
        id=row["id"], slug=row["slug"], name=row["name"], currency=row["currency"],
        time_zone=row["time_zone"], settings=row["settings"], created_at=row["created_at"],
    )
    principal = MemberPrincipal(member_id=row["member_id"], merchant=merchant)
    svc.principals[key] = (principal, row["expires_at"])
    return principal


async def require_member(request: Request) -> MemberPrincipal:
    secret = bearer(request)
    if secret is None:
        secret = request.cookies.get(MEMBER_COOKIE)
        if secret is not None and request.method not in SAFE_METHODS:
            # A cookie rides along on requests the member did not mean to make.
            csrf.verify(request, request.headers.get(csrf.HEADER))
    if secret is None:
        raise Unauthorized()
    if secret.startswith(API_KEY_PREFIX):
        if await merchant_from_secret(request, secret) is not None:
            raise Forbidden("A merchant API key cannot use member endpoints.")
        raise Unauthorized()
    principal = await member_from_secret(request, secret)
    if principal is None:
        raise Unauthorized()
    return principal


async def optional_member(request: Request) -> MemberPrincipal | None:
    """For pages: the signed-in member from the cookie, or None."""
    secret = request.cookies.get(MEMBER_COOKIE)
    if not secret or not secret.startswith(MEMBER_TOKEN_PREFIX):
        return None
    return await member_from_secret(request, secret)
