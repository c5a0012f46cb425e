"""The one way a domain plugs in: a small record of what it brings.

Each domain package exports one ``Domain`` (in its ``domain.py``; the business core's is
``engagement/core.py``); the composition roots (the app factory, the worker settings, the
CLI) iterate one list of them (``engagement/domains.py``). Nothing registers itself as a
side effect of being imported, and nothing is looked up at run time by a name that might
not have been wired: what a domain does not declare here does not happen, and what it
declares is visible in one place. (Polar's server and Django's AppConfig are the models.)"""

from __future__ import annotations

from collections.abc import Awaitable, Callable, Mapping
from dataclasses import dataclass, field
from typing import Any

from starlette.routing import BaseRoute

from engagement.kit.errors import AppError
from engagement.kit.hooks import Listener
from engagement.kit.metrics import ScrapeGauge


@dataclass(frozen=True)
class JobSpec:
    """A job the worker runs, named ``domain.verb``; ``enqueue`` callers use ``name``."""

    name: str
    function: Callable[..., Awaitable[Any]]
    keep_result: int | None = None  # seconds; None: the worker's default
    timeout: int | None = None  # seconds; None: the worker's default


@dataclass(frozen=True)
class CronSpec:
    """When the worker runs a job by itself (arq's cron fields; None: every value)."""

    job: JobSpec
    hour: frozenset[int] | None = None
    minute: frozenset[int] | None = None
    second: frozenset[int] = frozenset({0})
    run_at_startup: bool = False
    unique: bool = True


@dataclass(frozen=True)
class NavItem:
    """An entry of the console's navigation, shown only to the roles in ``allow`` (the
    console's role names, as plain strings: the kit cannot import the console). It names the
    same roles as the page it leads to, so nobody is shown a link that ends in a 403."""

    key: str
    path: str
    label: str  # a message id, translated when shown
    order: int
    allow: frozenset[str] = frozenset({"owner", "manager"})


@dataclass(frozen=True)
class Domain:
    name: str
    # Routes tried before everything else (Starlette tries routes in order): the hot path.
    hot_routes: tuple[BaseRoute, ...] = ()
    # The JSON API and the member pages.
    routes: tuple[BaseRoute, ...] = ()
    console_routes: tuple[BaseRoute, ...] = ()
    console_nav: tuple[NavItem, ...] = ()
    # Short confirmations shown after a console redirect (?notice=key): key -> message id.
    console_notices: Mapping[str, str] = field(default_factory=dict)
    # Sections of a member's page in the console: (name, provider) (console/shell.py).
    console_member_sections: tuple[tuple[str, Callable[..., Awaitable[Any]]], ...] = ()
    # Sections of the member home: (name, provider); the provider returns a HomeSection or
    # None (engagement/home.py).
    home_sections: tuple[tuple[str, Callable[..., Awaitable[Any]]], ...] = ()
    # Implementations of ports the core declares and cannot import (e.g. ShareCodes, in
    # engagement/members/share_codes.py): the composition roots install each by its type.
    ports: tuple[object, ...] = ()
    # What ``engagement demo`` seeds for this domain (engagement/demo.py: a DemoStep).
    demo: Callable[..., Awaitable[Any]] | None = None
    jobs: tuple[JobSpec, ...] = ()
    crons: tuple[CronSpec, ...] = ()
    # What the domain does when the core reports an event (engagement/kit/hooks.py).
    listeners: tuple[tuple[type, Listener], ...] = ()
    # Named constraints that guard this domain's scarce things, and the error each means.
    constraint_errors: Mapping[str, type[AppError]] = field(default_factory=dict)
    # Gauges GET /metrics reads from the domain's tables when scraped (kit/metrics.py).
    gauges: tuple[ScrapeGauge, ...] = ()
