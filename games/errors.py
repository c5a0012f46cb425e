from __future__ import annotations

from engagement.kit.errors import Conflict, InvalidInput


class CampaignNotActive(Conflict):
    code, message = "campaign_not_active", "This campaign is not open for draws now."


class DrawLimitReached(Conflict):
    code, message = "draw_limit_reached", "No draws left for now."


class InvalidTransition(Conflict):
    code, message = "invalid_status_transition", "The campaign cannot move to that status."


class CampaignLiveLocked(Conflict):
    code = "campaign_live_locked"
    message = "A live campaign's odds and window cannot be changed against its members."


class CampaignEnded(Conflict):
    code, message = "campaign_ended", "An ended campaign cannot be changed."


class DrawInProgress(Conflict):
    code = "draw_in_progress"
    message = "A draw with this Idempotency-Key is still being made; retry shortly."


class InvalidPrize(InvalidInput):
    code, message = "invalid_prize", "A prize is not valid."


class PrizeValueOverCap(InvalidInput):
    code = "prize_value_over_cap"
    message = "A prize may be worth at most ¥50,000 (有奖销售: the legal cap on a prize's value)."


class NonceRequired(InvalidInput):
    code = "nonce_required"
    message = ("A draw with a client_seed needs an Idempotency-Key: it is the nonce the pick "
               "is made with.")
