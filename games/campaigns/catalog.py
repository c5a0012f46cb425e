"""The games a campaign can be played as: the name and one-line hint the console and the
member home show, and the page template each game's play_url renders. The API's ``Game``
enum (schemas.py) and the database's ``campaigns_game_known`` check list the same values;
a test keeps the three in step."""

from __future__ import annotations

from dataclasses import dataclass

from engagement.kit.i18n import N_


@dataclass(frozen=True)
class GameKind:
    value: str
    label: str  # a message id, translated where shown
    hint: str
    template: str


GAME_KINDS = (
    GameKind("wheel", N_("幸运大转盘"), N_("转盘转动后停在奖品上，最常用"), "wheel.html"),
    GameKind("scratch", N_("刮刮卡"), N_("手指刮开涂层看结果"), "scratch.html"),
    GameKind("egg", N_("砸金蛋"), N_("三个金蛋任选一个砸开"), "egg.html"),
    GameKind("grid", N_("九宫格"), N_("灯光绕圈，停在哪格中哪个"), "grid.html"),
    GameKind("slot", N_("老虎机"), N_("三个转轴，三个相同即中奖"), "slot.html"),
    GameKind("shake", N_("摇一摇"), N_("摇动手机抽奖，也可点按钮"), "shake.html"),
)
# (value, label, hint) rows, as the builder's radio buttons list them.
GAMES = [(g.value, g.label, g.hint) for g in GAME_KINDS]
LABELS = {g.value: g.label for g in GAME_KINDS}
TEMPLATES = {g.value: g.template for g in GAME_KINDS}
