"""Share codes belong to the referral domain; the core reaches them through this port.

A member created with a share code is bound under the sharer (上下级). The core cannot
import the referral domain, so the referral domain provides a ``ShareCodes`` in its Domain
record and the composition roots install it here. Without one (a deployment without
referrals), every share code is unknown: the members API refuses it, the join page
drops it."""

from __future__ import annotations

from collections.abc import Awaitable, Callable
from dataclasses import dataclass
from datetime import datetime
from typing import Any

import asyncpg

from engagement.members.schemas import MemberCreate


@dataclass(frozen=True)
class ShareCodes:
    # Before a member is created: the sharer a code names (the row is inserted bound to it).
    referrer: Callable[[asyncpg.Connection, str, MemberCreate], Awaitable[str | None]]
    # After the members API created a member with a code, in the same transaction; raises
    # when the code cannot bind, so the creation rolls back.
    bind_created: Callable[[asyncpg.Connection, str, str, str, datetime], Awaitable[None]]
    # After the join page created a member: a code that cannot bind leaves it unbound.
    bind_joined: Callable[..., Awaitable[Any]]


_installed: list[ShareCodes] = []


def install(port: ShareCodes | None) -> None:
    _installed.clear()
    if port is not None:
        _installed.append(port)


def installed() -> ShareCodes | None:
    return _installed[0] if _installed else None
