"""The games' part of ``engagement demo``: coupon templates and one live campaign per game."""

from __future__ import annotations

from engagement.coupons import service as coupons
from engagement.coupons.schemas import TemplateCreate
from engagement.demo import DemoContext
from games.campaigns import queries as campaign_queries
from games.campaigns import service
from games.campaigns.schemas import CampaignCreate

_TEMPLATES = {
    "coffee": {"name": "咖啡立减5元", "discount": {"type": "amount_off", "amount": 500},
               "min_spend": 2000, "stock": 500, "valid_days": 30},
    "dessert": {"name": "免费甜品一份", "discount": {"type": "gift", "description": "任选甜品一份"},
                "stock": 100, "valid_days": 14},
    "discount": {"name": "全单8折", "discount": {"type": "percent_off", "percent": 20},
                 "min_spend": 5000, "stock": 200, "valid_days": 30},
}

_CAMPAIGNS = [
    ("wheel", "幸运大转盘", [("咖啡立减5元", "coffee", 60, 30), ("免费甜品", "dessert", 20, 10),
                             ("全单8折", "discount", 40, 20)]),
    ("scratch", "刮刮乐 天天有惊喜", [("全单8折", "discount", 60, 25),
                                      ("咖啡立减5元", "coffee", 100, 35)]),
    ("egg", "砸金蛋 好运连连", [("免费甜品", "dessert", 30, 15),
                                ("咖啡立减5元", "coffee", 100, 30)]),
    ("grid", "幸运九宫格", [("咖啡立减5元", "coffee", 30, 30), ("免费甜品", "dessert", 10, 10),
                            ("全单8折", "discount", 20, 20)]),
    ("slot", "欢乐老虎机", [("全单8折", "discount", 30, 25), ("咖啡立减5元", "coffee", 50, 35)]),
    ("shake", "摇一摇 赢好礼", [("免费甜品", "dessert", 10, 15),
                               ("咖啡立减5元", "coffee", 50, 30)]),
]


async def seed(ctx: DemoContext) -> None:
    svc, merchant = ctx.services, ctx.merchant
    ctx.lines += ["", "Live campaigns (sign in with an entry link first):"]
    async with svc.unit() as unit:
        templates = {}
        for key, body in _TEMPLATES.items():
            existing = await campaign_queries.template_id_by_name(unit.conn, merchant.id,
                                                         str(body["name"]))
            templates[key] = existing or (await coupons.create_template(
                unit.conn, merchant.id, TemplateCreate.model_validate(body))).id
        to_publish = []
        for game, name, prizes in _CAMPAIGNS:
            campaign_id = await campaign_queries.campaign_id_by_name(unit.conn, merchant.id, name)
            if campaign_id is None:
                data = CampaignCreate.model_validate({
                    "name": name, "game": game, "limits": {"per_member_per_day": 3},
                    "rules": "每位会员每天可参与3次，奖品为本店优惠券，领取后在“我的券”中查看。",
                    "prizes": [{"name": label, "kind": "coupon",
                                "coupon_template_id": templates[tpl], "quantity": qty,
                                "weight": weight} for label, tpl, qty, weight in prizes]
                    + [{"name": "谢谢参与", "kind": "nothing", "weight": 40}]})
                campaign_id = await service.create_campaign(unit.conn, merchant.id, data)
                to_publish.append(campaign_id)
            ctx.lines.append(f"  {game:8} {name}  {service.play_url(svc, campaign_id)}")
        for campaign_id in to_publish:
            await service.transition(unit, svc, merchant.id, campaign_id, "publish")
    for campaign_id in to_publish:
        await service.after_change(svc, campaign_id, merchant.time_zone)
