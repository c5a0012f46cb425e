"""The reconciliation's Redis side: a consistent reading of a campaign's stock counters and
the repairs that are safe while draws go on (lua/snapshot.lua, lua/repair.lua). Every key
is one campaign's (one hash tag), so each script touches one slot: on a Redis Cluster the
scripts run on the node that holds the campaign (Services.hot)."""

from __future__ import annotations

import json
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from engagement.kit.hot_redis import HotRedis, lua_script
from engagement.kit.state import Services
from games.draw.protocol import CampaignKeys

_LUA = Path(__file__).parent / "lua"


@dataclass(frozen=True)
class Counters:
    """A campaign's stock in Redis: whether it is primed, wins and quantity by prize."""

    primed: bool
    wins: dict[str, int] = field(default_factory=dict)
    qty: dict[str, int] = field(default_factory=dict)


@dataclass(frozen=True)
class Repaired:
    """What repair.lua changed: each prize's value before (None: it had none)."""

    wins: dict[str, int]
    quantities: dict[str, int | None]


def _pairs(flat: list[Any]) -> dict[str, str]:
    return {_text(flat[i]): _text(flat[i + 1]) for i in range(0, len(flat), 2)}


def _text(value: bytes | str) -> str:
    return value.decode() if isinstance(value, bytes) else value


class ReconcileScripts:
    def __init__(self, redis: HotRedis) -> None:
        self._snapshot = lua_script(redis, (_LUA / "snapshot.lua").read_text())
        self._repair = lua_script(redis, (_LUA / "repair.lua").read_text())

    async def counters(self, campaign_id: str) -> Counters:
        c = CampaignKeys.of(campaign_id)
        primed, wins, qty = await self._snapshot(keys=[c.meta, c.wins, c.qty])
        if not primed:
            return Counters(primed=False)
        return Counters(True, {k: int(v) for k, v in _pairs(wins).items()},
                        {k: int(v) for k, v in _pairs(qty).items()})

    async def repair(self, campaign_id: str, *, raise_wins: dict[str, int],
                     quantities: dict[str, tuple[int | None, int]]) -> Repaired:
        """Raise wins counters below ``raise_wins`` to it; set each quantity still at the
        value seen (None: absent) to the recorded one."""
        c = CampaignKeys.of(campaign_id)
        raised, set_ = await self._repair(keys=[c.meta, c.wins, c.qty], args=[
            json.dumps({p: str(n) for p, n in raise_wins.items()}),
            json.dumps({p: ["" if seen is None else str(seen), str(recorded)]
                        for p, (seen, recorded) in quantities.items()})])
        return Repaired(wins={k: int(v) for k, v in _pairs(raised).items()},
                        quantities={k: int(v) if v else None for k, v in _pairs(set_).items()})


def scripts_for(svc: Services) -> ReconcileScripts:
    return svc.helper(ReconcileScripts, lambda: ReconcileScripts(svc.hot))
