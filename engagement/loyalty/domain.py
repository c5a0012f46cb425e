"""The loyalty leaves' Domain record: joining by phone, tiers, the points mall, sends,
webhooks, the daily check-in, stored value (储值) and paid membership."""

from __future__ import annotations

from engagement.kit import hooks
from engagement.kit.constants import SCHEDULE_DAILY_SENDS_EVERY_MINUTES
from engagement.kit.domain import CronSpec, Domain, JobSpec
from engagement.loyalty import demo
from engagement.loyalty import home as loyalty_home
from engagement.loyalty.checkin import console as check_in_console
from engagement.loyalty.checkin import pages as check_in_pages
from engagement.loyalty.checkin.routes import routes as check_in_routes
from engagement.loyalty.imports import console as import_console
from engagement.loyalty.imports import service as imports
from engagement.loyalty.imports import tasks as import_tasks
from engagement.loyalty.imports.routes import routes as import_routes
from engagement.loyalty.join.routes import routes as join_routes
from engagement.loyalty.mall import console as mall_console
from engagement.loyalty.mall import pages as mall_pages
from engagement.loyalty.mall import service as mall
from engagement.loyalty.mall.routes import routes as mall_routes
from engagement.loyalty.membership import console as membership_console
from engagement.loyalty.membership import pages as membership_pages
from engagement.loyalty.membership import service as membership
from engagement.loyalty.membership import tasks as membership_tasks
from engagement.loyalty.membership.routes import routes as membership_routes
from engagement.loyalty.sends import birthday_console
from engagement.loyalty.sends import console as send_console
from engagement.loyalty.sends import service as sends
from engagement.loyalty.sends import tasks as send_tasks
from engagement.loyalty.sends.routes import routes as send_routes
from engagement.loyalty.tiers import console as tier_console
from engagement.loyalty.tiers import tasks as tier_tasks
from engagement.loyalty.tiers.routes import routes as tier_routes
from engagement.loyalty.wallet import console as wallet_console
from engagement.loyalty.wallet import pages as wallet_pages
from engagement.loyalty.wallet import payments as wallet_payments
from engagement.loyalty.wallet.routes import routes as wallet_routes
from engagement.loyalty.webhooks import console as webhook_console
from engagement.loyalty.webhooks import service as webhooks
from engagement.loyalty.webhooks import tasks as webhook_tasks
from engagement.loyalty.webhooks.routes import routes as webhook_routes
from engagement.orders.member_discounts import MemberDiscounts

EVALUATE_TIERS = JobSpec("tiers.evaluate", tier_tasks.evaluate)
# A send of 100,000 coupons takes seconds, not the default two minutes' worth of margin.
RUN_SEND = JobSpec(sends.RUN_JOB, send_tasks.run, timeout=1800)
SCHEDULE_DAILY_SENDS = JobSpec("sends.schedule_daily", send_tasks.schedule_daily)
RELEASE_DUE_SENDS = JobSpec("sends.release_due", send_tasks.release_due, keep_result=0)
SWEEP_SENDS = JobSpec("sends.sweep", send_tasks.sweep, keep_result=0)
# 100,000 rows take well under a minute; the margin covers a slow disk.
RUN_IMPORT = JobSpec(imports.RUN_JOB, import_tasks.run, timeout=1800)
SWEEP_IMPORTS = JobSpec("imports.sweep", import_tasks.sweep, keep_result=0)
DELIVER_WEBHOOKS = JobSpec("webhooks.deliver_due", webhook_tasks.deliver_due, keep_result=0)
MEMBERSHIP_COUPONS = JobSpec("membership.monthly_coupons", membership_tasks.monthly_coupons)
END_MEMBERSHIPS = JobSpec("membership.end_due", membership_tasks.end_due, keep_result=0)

DOMAIN = Domain(
    name="loyalty",
    routes=(*join_routes, *mall_routes, *tier_routes, *send_routes, *webhook_routes,
            *check_in_routes, *check_in_pages.routes, *mall_pages.routes, *import_routes,
            *wallet_routes, *wallet_pages.routes, *membership_routes),
    home_sections=(("check_in", check_in_pages.home_card),
                   ("loyalty", loyalty_home.home_card),
                   ("wallet", wallet_pages.home_card),
                   ("membership", membership_pages.home_card)),
    console_routes=(*check_in_console.routes, *send_console.routes, *tier_console.routes,
                    *mall_console.routes, *birthday_console.routes, *webhook_console.routes,
                    *import_console.routes, *wallet_console.routes, *membership_console.routes),
    console_nav=(check_in_console.NAV, send_console.NAV, tier_console.NAV, mall_console.NAV,
                 birthday_console.NAV, webhook_console.NAV, import_console.NAV,
                 wallet_console.NAV, membership_console.NAV),
    console_notices={**check_in_console.NOTICES, **send_console.NOTICES,
                     **tier_console.NOTICES, **mall_console.NOTICES,
                     **birthday_console.NOTICES, **webhook_console.NOTICES,
                     **wallet_console.NOTICES, **membership_console.NOTICES},
    demo=demo.seed,
    console_member_sections=(("wallet", wallet_console.member_section),
                             ("membership", membership_console.member_section)),
    jobs=(EVALUATE_TIERS, RUN_SEND, SCHEDULE_DAILY_SENDS, RELEASE_DUE_SENDS, SWEEP_SENDS,
          DELIVER_WEBHOOKS, RUN_IMPORT, SWEEP_IMPORTS, MEMBERSHIP_COUPONS, END_MEMBERSHIPS),
    crons=(
        # After the day's points expiry (18:05 UTC), so tiers on points see today's balances.
        CronSpec(EVALUATE_TIERS, hour=frozenset({18}), minute=frozenset({35})),
        # Birthday sends: each merchant's run is made once its local time reaches 08:00
        # (DAILY_SEND_LOCAL_HOUR), so every time zone gets the coupon in its own morning;
        # the ticks before then, and after the day's run exists, make nothing.
        CronSpec(SCHEDULE_DAILY_SENDS,
                 minute=frozenset(range(0, 60, SCHEDULE_DAILY_SENDS_EVERY_MINUTES)),
                 run_at_startup=True),
        # Scheduled sends: a merchant picks a time to the minute, so the release ticks each
        # minute; two workers ticking together release each send once (queries.release_due).
        CronSpec(RELEASE_DUE_SENDS, run_at_startup=True),
        CronSpec(SWEEP_SENDS, minute=frozenset(range(0, 60, 5)), run_at_startup=True),
        CronSpec(SWEEP_IMPORTS, minute=frozenset(range(2, 60, 5)), run_at_startup=True),
        # The outbox is polled: the first retry waits 5 s, so every 5 s is punctual enough.
        CronSpec(DELIVER_WEBHOOKS, second=frozenset(range(0, 60, 5)), run_at_startup=True),
        # Paid members' monthly coupon: hourly, so each merchant's new month (in its own
        # time zone) starts within the hour; the grant's key makes reruns give nothing.
        CronSpec(MEMBERSHIP_COUPONS, minute=frozenset({7}), run_at_startup=True),
        # membership.ended within a minute of the end.
        CronSpec(END_MEMBERSHIPS, run_at_startup=True),
    ),
    listeners=(*[(event, webhooks.on_event) for event in webhooks.LISTENED],
               (hooks.CouponRedeemed, webhooks.on_coupon_redeemed),
               (hooks.OrderRefunded, wallet_payments.on_order_refunded)),
    constraint_errors={"rewards_redeemed_within_stock": mall.RewardOutOfStock},
    ports=(wallet_payments.PORT, MemberDiscounts(percent=membership.discount_percent)),
)
