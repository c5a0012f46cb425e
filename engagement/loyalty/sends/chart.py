"""The geometry of a send's result chart: the repurchase rate of the treated members beside
the holdout's, as two bars on one scale, drawn as inline SVG by the result page
(console/_send_chart.html). No script and no library: the page prints and works offline."""

from __future__ import annotations

import math
from dataclasses import dataclass

from engagement.loyalty.sends.schemas import SendOut

WIDTH, HEIGHT = 480, 260
TOP, BOTTOM, LEFT, RIGHT = 24, 212, 56, 464  # the plot area inside the view box
BAR = 112


@dataclass(frozen=True)
class Bar:
    key: str  # "treated" or "holdout"
    rate: float | None  # None: the group is empty, nothing to draw
    members: int
    x: float
    y: float
    height: float
    label_y: float


@dataclass(frozen=True)
class Tick:
    value: float
    y: float


@dataclass(frozen=True)
class LiftChart:
    width: int
    height: int
    left: int
    right: int
    top: int
    bottom: int
    bar_width: int
    bars: tuple[Bar, ...]
    ticks: tuple[Tick, ...]


def _scale_max(rates: list[float]) -> float:
    """The top of the axis: a little above the highest rate, so its label sits over the bar,
    in steps of 4% so that the four gridlines fall on whole percents (at least 8%)."""
    top = max([0.07, *rates]) * 1.15
    return min(1.0, math.ceil(top / 0.04 - 1e-9) * 0.04)


def lift_chart(send: SendOut) -> LiftChart:
    rates = send.repurchase_rate
    groups = (("treated", rates.treated, send.treated), ("holdout", rates.holdout, send.held_out))
    top = _scale_max([r for _, r, _ in groups if r is not None])
    span = BOTTOM - TOP
    slot = (RIGHT - LEFT) / len(groups)
    bars = []
    for i, (key, rate, members) in enumerate(groups):
        height = span * (rate or 0) / top
        y = BOTTOM - height
        bars.append(Bar(key=key, rate=rate, members=members, x=LEFT + slot * i + (slot - BAR) / 2,
                        y=y, height=height, label_y=max(14, y - 8)))
    ticks = tuple(Tick(value=top * n / 4, y=BOTTOM - span * n / 4) for n in range(5))
    return LiftChart(width=WIDTH, height=HEIGHT, left=LEFT, right=RIGHT, top=TOP,
                     bottom=BOTTOM, bar_width=BAR, bars=tuple(bars), ticks=ticks)
