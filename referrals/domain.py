"""The referral domain's Domain record: share links, the referral graph, commissions, the
referrer's pages and the console's referral pages; and the core's ShareCodes port."""

from __future__ import annotations

from engagement.kit import hooks
from engagement.kit.domain import CronSpec, Domain, JobSpec, NavItem
from engagement.kit.i18n import N_
from engagement.members.share_codes import ShareCodes
from referrals import binding, console, demo, pages, review_console, tasks
from referrals.routes import routes as referral_routes
from referrals.withdrawals import console as withdrawal_console
from referrals.withdrawals import pages as withdrawal_pages
from referrals.withdrawals import routes as withdrawal_routes

RELEASE_COMMISSIONS = JobSpec("referrals.release_commissions", tasks.release_commissions)

DOMAIN = Domain(
    name="referrals",
    routes=(*referral_routes, *withdrawal_routes.routes, *pages.routes,
            *withdrawal_pages.routes),
    console_routes=(*console.routes, *withdrawal_console.routes, *review_console.routes),
    console_nav=(NavItem("referrals", "/console/referrals", N_("全民拓客"), order=40),
                 withdrawal_console.NAV, review_console.NAV),
    console_notices={"program_saved": N_("拓客设置已保存"), **withdrawal_console.NOTICES,
                     **review_console.NOTICES},
    console_member_sections=(("referrals", console.member_section),),
    home_sections=(("referrals.invite", pages.home_card),),
    jobs=(RELEASE_COMMISSIONS,),
    # Holds are days long: releasing once a minute is punctual enough and costs one query.
    crons=(CronSpec(RELEASE_COMMISSIONS, second=frozenset({15})),),
    listeners=((hooks.OrderPaid, tasks.on_order_paid),
               (hooks.OrderRefunded, tasks.on_order_refunded)),
    constraint_errors={"members_referral_forest": binding.NotNewMember,
                       "referral_bindings_no_self": binding.SelfReferral},
    ports=(ShareCodes(referrer=binding.resolve_referrer, bind_created=binding.bind_from_api,
                      bind_joined=binding.bind_on_join),),
    demo=demo.seed,
)
