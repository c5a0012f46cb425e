"""The words the console shows for the codes the API speaks (statuses, a coupon's source,
a prize's kind, a commission entry's kind): one list for the pages (the status badge, a
template global) and the CSV exports, so a file says 已核销 where the page does."""

from __future__ import annotations

from collections.abc import Callable, Mapping

from starlette.requests import Request

from engagement.kit import i18n
from engagement.kit.i18n import N_

STATUS = {
    "draft": N_("草稿"), "active": N_("进行中"), "paused": N_("已暂停"), "ended": N_("已结束"),
    "issued": N_("未使用"), "redeemed": N_("已核销"), "expired": N_("已过期"),
    "void": N_("已作废"), "held": N_("待审核"), "pending": N_("冻结中"),
    "available": N_("可提现"), "rejected": N_("已驳回"), "reversed": N_("已冲回"),
    "win": N_("中奖"), "lose": N_("未中奖"),
}
COUPON_SOURCE = {
    "draw": N_("抽奖获得"), "share": N_("分享领券"), "manual": N_("手动发放"),
    "mall": N_("积分兑换"), "tier": N_("等级礼包"), "send": N_("主动发券"),
}
PRIZE_KIND = {"coupon": N_("优惠券"), "points": N_("积分"), "nothing": N_("谢谢参与")}
COMMISSION_KIND = {"accrual": N_("佣金"), "reversal": N_("退款冲回"), "clawback": N_("追回")}


def words(request: Request, *tables: Mapping[str, str]) -> Callable[[str | None], str]:
    """A code's word in the request's language (the code itself when no table knows it;
    '' for none), for the rows of an export."""
    locale, _ = i18n.choose_locale(request)
    with i18n.use_locale(locale):
        known = {code: i18n.gettext(word) for table in tables for code, word in table.items()}
    return lambda code: "" if code is None else known.get(code, code)
