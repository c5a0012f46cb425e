"""What a game page shows: whether the visitor may play now and why not, the draws left,
what the game lays its prizes out on (the wheel's segments, the grid's cells, a reel's
symbols), and the configuration handed to the page's script."""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import datetime
from typing import Any
from urllib.parse import urlencode

from engagement.kit.i18n import N_, gettext
from engagement.merchants.schemas import Merchant
from games.campaigns.schemas import CampaignOut
from games.chances.service import Left

# A wheel with fewer segments than this looks empty: the prize list repeats around it.
MIN_WHEEL_SEGMENTS = 6
# The grid's ring of cells around its start button: 3x3 (九宫格) while the prizes fit in
# eight cells, then 4x4 and 5x5, so that every prize has a cell the light can stop on.
GRID_RINGS = (8, 12, 16)
# A reel of fewer symbols than this barely seems to spin.
MIN_REEL_SYMBOLS = 6
# Shown on the wheel when a campaign has no "nothing" prize: where a draw lands when the
# prize it picked has run out (it then counts as "no prize").
FALLBACK_SEGMENT = {"id": "", "name": N_("谢谢参与"), "kind": "nothing"}


# The draws left that are earned chances, by where they came from ("" for several).
CHANCE_NOTES = {"check_in": N_("含签到奖励 {n} 次"), "order": N_("含消费奖励 {n} 次"),
                "invite": N_("含邀请奖励 {n} 次"), "": N_("含奖励机会 {n} 次")}


@dataclass(frozen=True)
class Remaining:
    today: int | None
    total: int | None

    @property
    def left(self) -> int | None:
        """Draws the member can still make now (None: no limit)."""
        known = [n for n in (self.today, self.total) if n is not None]
        return min(known) if known else None


@dataclass(frozen=True)
class Member:
    id: str
    points: int
    draws_today: int
    draws_total: int
    chances: Left = field(default_factory=Left)


@dataclass
class PlayView:
    campaign: CampaignOut
    merchant: Merchant
    member: Member | None
    now: datetime
    join_url: str
    remaining: Remaining = field(init=False)
    # Why the member cannot play now (a message id, translated in the template), or None.
    blocked: str | None = field(init=False)

    def __post_init__(self) -> None:
        limits = self.campaign.limits
        if self.member is None:
            self.remaining = Remaining(limits.per_member_per_day, limits.per_member_total)
        else:
            # Earned chances are draws beyond either limit: they count in both.
            extra = self.member.chances.total
            self.remaining = Remaining(
                None if limits.per_member_per_day is None
                else max(0, limits.per_member_per_day - self.member.draws_today) + extra,
                None if limits.per_member_total is None
                else max(0, limits.per_member_total - self.member.draws_total) + extra)
        self.blocked = self._blocked()

    @property
    def state(self) -> str:
        c = self.campaign
        if c.status == "ended" or (c.ends_at is not None and c.ends_at <= self.now):
            return "ended"
        if c.status == "paused":
            return "paused"
        if c.starts_at is not None and c.starts_at > self.now:
            return "not_started"
        return "open"

    def _blocked(self) -> str | None:
        state = self.state
        if state == "ended":
            return N_("活动已结束，感谢参与！")
        if state == "paused":
            return N_("活动暂停中，请稍后再来")
        if state == "not_started":
            return N_("活动还没开始，敬请期待")
        if self.member is None:
            return None
        if self.remaining.total == 0:
            return N_("你已用完本活动的全部抽奖次数，感谢参与！")
        if self.remaining.today == 0:
            return N_("今天的抽奖次数用完了，明天再来吧！")
        cost = self.campaign.entry_cost_points
        if cost and self.member.points < cost:
            return N_("积分不足，参与一次需要 %(cost)s 积分")
        return None

    def chances_note(self) -> str:
        """How many of the draws left are earned chances, and from what: "含签到奖励 1 次"."""
        if self.member is None or not self.member.chances.total:
            return ""
        sources = self.member.chances.by_source
        label = CHANCE_NOTES[next(iter(sources))] if len(sources) == 1 else CHANCE_NOTES[""]
        return gettext(label).replace("{n}", str(self.member.chances.total))

    @property
    def needs_join(self) -> bool:
        return self.member is None and self.state == "open"

    @property
    def can_play(self) -> bool:
        return self.member is not None and self.blocked is None

    def faces(self) -> list[dict[str, str]]:
        """Each prize once, and a "no prize" face when none is: where a draw lands when the
        prize it picked has run out."""
        prizes = [{"id": p.id, "name": p.name, "kind": p.kind} for p in self.campaign.prizes]
        if not any(p["kind"] == "nothing" for p in prizes):
            shown_as = FALLBACK_SEGMENT["name"]
            prizes.append({**FALLBACK_SEGMENT, "name": gettext(shown_as)})
        return prizes

    def segments(self) -> list[dict[str, str]]:
        """What the game's script lays the prizes out on, every prize at least once: the
        wheel's segments, the grid's ring of cells (clockwise from the top left), a reel's
        symbols; the other games draw none."""
        game = self.campaign.game
        if game == "wheel":
            return _repeated(self.faces(), MIN_WHEEL_SEGMENTS)
        if game == "grid":
            faces = self.faces()
            ring = next(n for n in GRID_RINGS if n >= len(faces))
            return _repeated(faces, ring)[:ring]
        if game == "slot":
            return _repeated(self.faces(), MIN_REEL_SYMBOLS)
        return []

    def script_config(self, draw_url: str, messages: dict[str, str],
                      icons: dict[str, str]) -> dict[str, Any]:
        """Called while the page renders (texts are translated by then)."""
        return {
            "campaignId": self.campaign.id, "game": self.campaign.game, "drawUrl": draw_url,
            "canPlay": self.can_play, "remaining": {"today": self.remaining.today,
                                                    "total": self.remaining.total},
            "chances": [] if self.member is None else list(self.member.chances.runs),
            "prizes": {p.id: {"name": p.name, "kind": p.kind} for p in self.campaign.prizes},
            "segments": self.segments(),
            "icons": icons, "couponsUrl": "/m#coupons", "joinUrl": self.join_url,
            "messages": messages,
        }


def _repeated(faces: list[dict[str, str]], at_least: int) -> list[dict[str, str]]:
    out = list(faces)
    while len(out) < at_least:
        out.extend(faces)
    return out


def join_url(merchant: Merchant, next_path: str) -> str:
    return f"/j/{merchant.slug}?{urlencode({'next': next_path})}"
