"""The referrals' part of ``engagement demo``: a referral program, each demo member's share
link, and a friend who joined through the first link and bought, so the referrer page has
an invitee and a pending commission to show."""

from __future__ import annotations

from engagement.coupons import service as coupons
from engagement.coupons.schemas import AmountOff, TemplateCreate
from engagement.demo import DemoContext
from engagement.members import queries as member_queries
from engagement.members import service as members
from engagement.members.schemas import MemberCreate
from engagement.orders import service as orders
from engagement.orders.schemas import OrderCreate
from referrals import binding, queries, service
from referrals.schemas import DEFAULT_PROGRAM

FRIEND = ("demo-dave", "13800000004", "大卫")


async def seed(ctx: DemoContext) -> None:
    svc, merchant = ctx.services, ctx.merchant
    now, public_url = svc.clock.now(), svc.settings.public_url
    async with svc.unit() as unit:
        program = await queries.program(unit.conn, merchant.id)
        template_id = program["reward_coupon_template_id"] if program is not None else None
        if template_id is None:
            template_id = (await coupons.create_template(unit.conn, merchant.id, TemplateCreate(
                name="好友专享 满30减8", discount=AmountOff(type="amount_off", amount=800),
                min_spend=3000, stock=1000, valid_days=30))).id
        await service.put_program(unit.conn, merchant.id, DEFAULT_PROGRAM.model_copy(
            update={"reward_coupon_template_id": template_id}), now)
        links = [(await service.share_link(unit.conn, merchant.id, m.id, None, now,
                                           public_url))[0] for m in ctx.members]
    external_id, phone, name = FRIEND
    async with svc.unit() as unit:
        if await member_queries.member_by_external_id(unit.conn, merchant.id,
                                                      external_id) is None:
            data = MemberCreate(external_id=external_id, phone=phone, name=name,
                                share_code=links[0].code)
            referrer_id = await binding.resolve_referrer(unit.conn, merchant.id, data)
            friend, _ = await members.create_or_get_member(unit.conn, merchant.id, data,
                                                           referrer_id=referrer_id)
            bound = await binding.bind_new_member(unit.conn, merchant_id=merchant.id,
                                                  member_id=friend.id,
                                                  share_code=links[0].code, now=now)
            await orders.create_order(unit.conn, merchant.id, OrderCreate(
                id="demo-order-1", member_id=friend.id, amount=8800,
                coupon_codes=[bound.coupon_code] if bound.coupon_code else []), now)
    ctx.lines += ["", "Share links (全民拓客; each member's referrer page is /m/referrals):"]
    ctx.lines += [f"  {m.name or '':4} {link.url}" for m, link in zip(ctx.members, links,
                                                                       strict=True)]
