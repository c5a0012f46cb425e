"""What the Lua scripts and the Python agree on: a campaign's Redis key names, and the KEYS,
argument and reply of draw.lua (and undo.lua's arguments).

Lua reads positions; this module is the one place the positions are written, each under a
name. The Lua files' headers list the same names in the same order, and
tests/games/test_protocol.py holds the two together.

DrawKeys and DrawArgs are NamedTuples rather than frozen dataclasses: every draw builds
them, and a frozen dataclass takes about three times as long to build."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import date
from functools import lru_cache
from typing import Any, NamedTuple

from engagement.kit.constants import (
    CAMPAIGN_TAG,
    DRAW_DAY_COUNTER_TTL_SECONDS,
    IDEMPOTENCY_TTL_SECONDS,
)


def _tag(campaign_id: str) -> str:
    return CAMPAIGN_TAG.format(campaign_id=campaign_id)


@dataclass(frozen=True)
class CampaignKeys:
    tag: str
    meta: str
    wins: str
    qty: str
    stats: str
    prime_lock: str

    @classmethod
    def of(cls, campaign_id: str) -> CampaignKeys:
        return _campaign_keys(campaign_id)


@lru_cache(maxsize=4096)  # every draw needs them: built once per campaign
def _campaign_keys(campaign_id: str) -> CampaignKeys:
    t = _tag(campaign_id)
    return CampaignKeys(t, f"{t}:meta", f"{t}:wins", f"{t}:qty", f"{t}:stats", f"{t}:prime")


def _day_key(tag: str, member_id: str, day: date) -> str:
    return f"{tag}:day:{day.isoformat()}:{member_id}"


def _total_key(tag: str, member_id: str) -> str:
    return f"{tag}:tot:{member_id}"


def member_day_key(campaign_id: str, member_id: str, day: date) -> str:
    return _day_key(_campaign_keys(campaign_id).tag, member_id, day)


def member_total_key(campaign_id: str, member_id: str) -> str:
    return _total_key(_campaign_keys(campaign_id).tag, member_id)


class DrawKeys(NamedTuple):
    """draw.lua's (and undo.lua's) KEYS: the fields are in the order the scripts index."""

    meta: str
    wins: str
    qty: str
    day: str
    total: str
    idempotency: str
    burst: str
    stats: str
    held: str
    chances_used: str
    pity: str

    @classmethod
    def of(cls, campaign_id: str, member_id: str, day: date, idempotency_key: str | None
           ) -> DrawKeys:
        """The day and total keys are the ones the re-prime writes (member_day_key,
        member_total_key), built from the campaign's cached tag."""
        c = _campaign_keys(campaign_id)
        t = c.tag
        idem = f"{t}:idem:{member_id}:{idempotency_key}" if idempotency_key else f"{t}:idem:-"
        return cls(meta=c.meta, wins=c.wins, qty=c.qty,
                   day=_day_key(t, member_id, day), total=_total_key(t, member_id),
                   idempotency=idem, burst=f"{t}:burst:{member_id}", stats=c.stats,
                   held=f"{t}:held:{member_id}", chances_used=f"{t}:chances:{member_id}",
                   pity=f"{t}:pity:{member_id}")


class DrawArgs(NamedTuple):
    now_ms: int
    rand: int
    draw_id: str
    created_at: str
    idempotent: bool
    request_hash: str
    campaign_id: str
    merchant_id: str
    day_ttl: int = DRAW_DAY_COUNTER_TTL_SECONDS
    idempotency_ttl: int = IDEMPOTENCY_TTL_SECONDS
    record_checked: bool = False
    chances_earned: int | None = None  # None: not looked up (the script asks when needed)
    chances_used: int = 0
    pity_streak: int | None = None  # None: not looked up (the script asks when needed)

    def pack(self) -> str:
        """draw.lua's first argument: the fields joined by tabs, so the client packs one
        argument instead of fourteen (the Lua splits on tabs: none may be empty or hold
        one)."""
        return "\t".join((str(self.now_ms), str(self.rand), self.draw_id, self.created_at,
                          "1" if self.idempotent else "0", self.request_hash,
                          self.campaign_id, self.merchant_id, str(self.day_ttl),
                          str(self.idempotency_ttl), "1" if self.record_checked else "0",
                          "-" if self.chances_earned is None else str(self.chances_earned),
                          str(self.chances_used),
                          "-" if self.pity_streak is None else str(self.pity_streak)))


class Fairness(NamedTuple):
    """draw.lua's second and third arguments, copied into the body as they are: the client
    seed and the nonce the pick was made with (games/draw/fairness.py)."""

    client_seed: str
    nonce: str


@dataclass(frozen=True, slots=True)
class UndoArgs:
    prize_id: str | None
    first_draw: bool
    idempotent: bool
    extra: bool = False

    def pack(self) -> list[str]:
        return [self.prize_id or "", "1" if self.first_draw else "0",
                "1" if self.idempotent else "0", "1" if self.extra else "0"]


# draw.lua's replies, one type per verdict.

@dataclass(frozen=True, slots=True)
class Drawn:
    """'ok': drawn in Redis, not yet durable."""

    body: str
    outcome: str  # 'win' or 'lose'
    prize_id: str | None  # None for a lose
    seq: int  # the win's number among its prize's wins; 0 for a lose
    total: int  # the member's draws of the campaign, this one included
    entry_cost: int
    extra: bool  # it spent an earned chance
    pity: bool  # a pity win (保底): the prize came from the loses before it, not the pick


@dataclass(frozen=True, slots=True)
class Replay:
    """'replay': the Idempotency-Key's record, 'P|<hash>|<body>' while its draw is being
    written, 'D|<hash>|<body>' once it is."""

    record: str


@dataclass(frozen=True, slots=True)
class CheckRecord:
    """'check_record': Redis was re-primed while the key's record may be in PostgreSQL only;
    look for it, then call again with record_checked."""


@dataclass(frozen=True, slots=True)
class NotPrimed:
    """'noprime': the campaign has no hot state; prime it, then call again."""


@dataclass(frozen=True, slots=True)
class SeedHoldings:
    """'seed': the member's coupon holdings are not in Redis; seed them, then call again."""


@dataclass(frozen=True, slots=True)
class NeedChances:
    """'chances': the campaign grants earned chances; call again with the member's
    chances_earned and chances_used from PostgreSQL."""


@dataclass(frozen=True, slots=True)
class NeedPity:
    """'pity': the campaign has pity and the member's streak of loses is not in Redis; call
    again with pity_streak from PostgreSQL."""


@dataclass(frozen=True, slots=True)
class UnknownCampaign:
    """'not_found': the campaign belongs to another merchant."""


@dataclass(frozen=True, slots=True)
class NotActive:
    """'not_active': not active, or outside its window."""

    status: str


@dataclass(frozen=True, slots=True)
class LimitReached:
    """'limit': the member's draws per day or in total are used up."""


@dataclass(frozen=True, slots=True)
class Throttled:
    """'rate': the member's burst guard tripped; ttl is its counter's TTL in seconds."""

    ttl: int


DrawReply = (Drawn | Replay | CheckRecord | NotPrimed | SeedHoldings | NeedChances | NeedPity
             | UnknownCampaign | NotActive | LimitReached | Throttled)

# The verdicts that carry nothing: one instance each serves every reply.
_BARE: dict[str, DrawReply] = {"check_record": CheckRecord(), "noprime": NotPrimed(),
                               "seed": SeedHoldings(), "chances": NeedChances(),
                               "pity": NeedPity(),
                               "not_found": UnknownCampaign(),
                               "limit": LimitReached()}


def parse_draw_reply(raw: list[Any]) -> DrawReply:
    """draw.lua's reply, {verdict, ...}, as its typed result. Strings come from redis-py as
    bytes; integers as int (a Lua number) or bytes (entry_cost, read from a hash)."""
    verdict = _text(raw[0])
    if verdict == "ok":
        return Drawn(body=_text(raw[1]), outcome=_text(raw[2]),
                     prize_id=_text(raw[3]) or None, seq=int(raw[4]), total=int(raw[5]),
                     entry_cost=int(raw[6]), extra=_text(raw[7]) == "1",
                     pity=_text(raw[8]) == "1")
    if verdict == "replay":
        return Replay(record=_text(raw[1]))
    if verdict == "not_active":
        return NotActive(status=_text(raw[1]))
    if verdict == "rate":
        return Throttled(ttl=int(raw[1]))
    bare = _BARE.get(verdict)
    if bare is None:
        raise ValueError(f"draw.lua answered an unknown verdict: {raw!r}")
    return bare


def _text(value: bytes | str) -> str:
    return value.decode() if isinstance(value, bytes) else value
