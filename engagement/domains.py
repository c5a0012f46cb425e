"""The list of domains, and installing what they declare: one place the app factory, the
worker settings and the CLI share. A composition root: it sees every domain."""

from __future__ import annotations

from engagement import core, home
from engagement.console import shell
from engagement.kit import errors, hooks
from engagement.kit.domain import Domain
from engagement.loyalty import domain as loyalty
from engagement.members import share_codes
from engagement.orders import balance, member_discounts
from games import domain as games
from referrals import domain as referrals

DOMAINS: tuple[Domain, ...] = (core.DOMAIN, loyalty.DOMAIN, games.DOMAIN, referrals.DOMAIN)


def install(domains: tuple[Domain, ...] = DOMAINS) -> None:
    """Put what the domains declare where the core looks for it: event listeners, errors of
    named constraints, member-home and console sections, navigation, ports."""
    hooks.install([listener for d in domains for listener in d.listeners])
    errors.install_constraints({name: error for d in domains
                                for name, error in d.constraint_errors.items()})
    home.install([section for d in domains for section in d.home_sections])
    shell.install_navigation([item for d in domains for item in d.console_nav],
                             {k: v for d in domains for k, v in d.console_notices.items()})
    shell.install_member_sections([s for d in domains for s in d.console_member_sections])
    ports = [port for d in domains for port in d.ports]
    share_codes.install(next((p for p in ports if isinstance(p, share_codes.ShareCodes)),
                             None))
    balance.install(next((p for p in ports if isinstance(p, balance.BalancePayments)), None))
    member_discounts.install(next(
        (p for p in ports if isinstance(p, member_discounts.MemberDiscounts)), None))
