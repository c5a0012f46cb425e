"""The loyalty part of ``engagement demo``: top-up plans (充值送), a paid membership plan
with its monthly coupon, and a balance for the first demo member, so the till can take a
payment from it and her phone shows the balance and the card's offer. Seeded once: a rerun
keeps what a merchant changed and credits nothing twice."""

from __future__ import annotations

from engagement.coupons import service as coupons
from engagement.coupons.schemas import AmountOff, TemplateCreate
from engagement.demo import DemoContext
from engagement.loyalty.membership import service as membership
from engagement.loyalty.membership.schemas import MembershipPlanIn, MembershipPlansIn
from engagement.loyalty.wallet import queries as wallet_queries
from engagement.loyalty.wallet import service as wallet
from engagement.loyalty.wallet.schemas import TopUpIn, TopUpPlanIn, TopUpPlansIn

TOP_UP_PLANS = [TopUpPlanIn(pay=20000, bonus=1000), TopUpPlanIn(pay=50000, bonus=5000),
                TopUpPlanIn(pay=100000, bonus=15000)]
DEMO_TOP_UP = 50000  # the first demo member's ¥500 (充500送50: a balance of ¥550)


async def seed(ctx: DemoContext) -> None:
    svc, merchant = ctx.services, ctx.merchant
    now = svc.clock.now()
    first = ctx.members[0]
    async with svc.unit() as unit:
        conn = unit.conn
        if not (await wallet.get_program(conn, merchant.id)).plans:
            await wallet.set_program(conn, merchant.id, TopUpPlansIn(plans=TOP_UP_PLANS), now)
        if not (await membership.get_plans(conn, merchant.id)).plans:
            monthly = await coupons.create_template(conn, merchant.id, TemplateCreate(
                name="会员月券 满50减10", discount=AmountOff(type="amount_off", amount=1000),
                min_spend=5000, stock=None, valid_days=31))
            await membership.set_plans(conn, merchant.id, MembershipPlansIn(plans=[
                MembershipPlanIn(name="黑金年卡", price=19900, days=365, discount_percent=10,
                                 monthly_coupon_template_id=monthly.id)]), now)
        principal, bonus = await wallet_queries.totals(conn, first.id)
        if principal + bonus == 0:
            await wallet.top_up(conn, merchant.id, first.id,
                                TopUpIn(pay=DEMO_TOP_UP, payment_method="wechat"), now)
        principal, bonus = await wallet_queries.totals(conn, first.id)
    base = svc.settings.public_url.rstrip("/")
    ctx.lines += ["", "Stored value and paid membership (储值 · 付费会员卡):",
                  f"  {first.name} has a balance of ¥{(principal + bonus) / 100:.2f};"
                  f" she sets her payment PIN at {base}/m/balance before paying from it",
                  f"  plans: {base}/console/top-up-plans  {base}/console/membership-plans"]
