"""The member home is assembled from sections that each domain contributes.

The core cannot import the games or referral domains, so each declares its providers in
its Domain record and the composition roots install them here; the home page asks every
provider for its section and shows them in order."""

from __future__ import annotations

from collections.abc import Awaitable, Callable
from dataclasses import dataclass, field
from typing import Any

from starlette.requests import Request

from engagement.members.schemas import MemberPrincipal


@dataclass(frozen=True)
class HomeSection:
    template: str
    context: dict[str, Any] = field(default_factory=dict)
    order: int = 100


SectionProvider = Callable[[Request, MemberPrincipal], Awaitable[HomeSection | None]]
_providers: dict[str, SectionProvider] = {}


def install(providers: list[tuple[str, SectionProvider]]) -> None:
    _providers.clear()
    _providers.update(providers)


async def sections(request: Request, principal: MemberPrincipal) -> list[HomeSection]:
    found = [await provider(request, principal) for provider in _providers.values()]
    return sorted((s for s in found if s is not None), key=lambda s: s.order)
