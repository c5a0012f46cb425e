"""The business core's Domain record: members, coupons, orders, points, stores, the member
pages' shell, the console's sign-in, and the core's console pages (coupons, members; the
owner's staff, stores and settings)."""

from __future__ import annotations

from engagement import pages
from engagement.console import posters as poster_console
from engagement.console import routes as console
from engagement.console import staff as staff_console
from engagement.console.shell import OWNER
from engagement.coupons import console as coupon_console
from engagement.coupons import service as coupons
from engagement.coupons import tasks as coupon_tasks
from engagement.coupons.routes import routes as coupon_routes
from engagement.kit import hooks
from engagement.kit.constants import PURGE_TOKENS_EVERY_MINUTES
from engagement.kit.domain import CronSpec, Domain, JobSpec, NavItem
from engagement.kit.i18n import N_
from engagement.members import code_routes as member_code
from engagement.members import console as member_console
from engagement.members import profile as member_profile
from engagement.members import service as members
from engagement.members import tasks as member_tasks
from engagement.members.routes import routes as member_routes
from engagement.merchants import brand
from engagement.merchants import console as merchant_console
from engagement.orders import console as order_console
from engagement.orders import service as orders
from engagement.orders import summary as till_summary
from engagement.orders.routes import routes as order_routes
from engagement.points import console as points_console
from engagement.points import pages as points_pages
from engagement.points import service as points
from engagement.points import tasks as points_tasks
from engagement.points.routes import routes as points_routes
from engagement.stores import console as store_console
from engagement.stores.routes import routes as store_routes
from engagement.till import console as till_console
from engagement.till.routes import routes as till_routes

PURGE_TOKENS = JobSpec("members.purge_expired_tokens", member_tasks.purge_expired_tokens)
EXPIRE_COUPONS = JobSpec("coupons.expire_due", coupon_tasks.expire_due)
EXPIRE_POINTS = JobSpec("points.expire_due", points_tasks.expire_due)
PURGE_RESPONSES = JobSpec("points.purge_idempotent_responses",
                          points_tasks.purge_idempotent_responses)

DOMAIN = Domain(
    name="core",
    # The till's first: GET /api/v1/members/lookup before GET /api/v1/members/{member_id}.
    routes=(*till_routes, *member_routes, *coupon_routes, *pages.routes, *order_routes,
            *points_routes, *store_routes, *member_code.routes, *brand.routes,
            *points_pages.routes, *member_profile.routes),
    console_routes=(*console.routes, *coupon_console.routes, *member_console.routes,
                    *staff_console.routes, *store_console.routes, *merchant_console.routes,
                    *till_console.routes, *order_console.routes, *till_summary.routes,
                    *points_console.routes,
                    *poster_console.routes),
    console_nav=(NavItem("coupons", "/console/coupons", N_("优惠券"), order=20),
                 NavItem("members", "/console/members", N_("会员"), order=30),
                 NavItem("orders", "/console/orders", N_("订单"), order=34),
                 NavItem("summary", "/console/till-summary", N_("日结"), order=36),
                 NavItem("points", points_console.PATH, N_("积分设置"), order=46),
                 NavItem("staff", "/console/staff", N_("员工"), order=80, allow=OWNER),
                 NavItem("stores", "/console/stores", N_("门店"), order=85, allow=OWNER),
                 NavItem("settings", "/console/settings", N_("设置"), order=90, allow=OWNER)),
    console_notices={**console.NOTICES, **coupon_console.NOTICES, **staff_console.NOTICES,
                     **store_console.NOTICES, **merchant_console.NOTICES,
                     **order_console.NOTICES, **points_console.NOTICES},
    home_sections=(("member_code", member_code.home_card), ("coupons", pages.coupons_section)),
    jobs=(PURGE_TOKENS, EXPIRE_COUPONS, EXPIRE_POINTS, PURGE_RESPONSES),
    crons=(
        CronSpec(PURGE_TOKENS, minute=frozenset(range(0, 60, PURGE_TOKENS_EVERY_MINUTES))),
        CronSpec(EXPIRE_COUPONS, second=frozenset({30})),
        # Points expire by the day: once a day at 18:05 UTC, 02:05 in Beijing (the crons
        # run on the worker's clock, UTC in our images).
        CronSpec(EXPIRE_POINTS, hour=frozenset({18}), minute=frozenset({5})),
        CronSpec(PURGE_RESPONSES, minute=frozenset({20})),
    ),
    listeners=((hooks.OrderPaid, points.on_order_paid),
               (hooks.OrderRefunded, points.on_order_refunded),
               (hooks.MemberCreated, points.on_member_created),
               # 支付即会员: a new member's guest orders become theirs, then earn as orders do.
               (hooks.MemberCreated, orders.on_member_created)),
    constraint_errors={
        "orders_refunded_within_paid": orders.RefundExceedsPaid,
        "members_merchant_phone_key": members.PhoneTaken,
        "coupon_templates_available_nonnegative": coupons.InsufficientInventory,
    },
)
