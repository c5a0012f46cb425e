"""Typed errors of the referrals domain (codes are part of the API contract)."""

from __future__ import annotations

from engagement.kit.errors import Conflict, InvalidInput, NotFound
from engagement.members.service import UnknownShareCode

__all__ = ["BelowMinWithdrawal", "BindingNotHeld", "InsufficientCommission", "NotNewMember",
           "ProgramNotFound", "ReferralProgramDisabled", "SelfReferral", "TemplateNotShareable",
           "UnknownShareCode", "WithdrawalAlreadyPaid", "WithdrawalAlreadyRejected"]


class ReferralProgramDisabled(Conflict):
    code, message = "referral_program_disabled", "This merchant's referral program is off."


class ProgramNotFound(NotFound):
    code, message = "not_found", "This merchant has no referral program yet."


class TemplateNotShareable(InvalidInput):
    code, message = "template_not_shareable", "The referral program does not share this coupon."


class SelfReferral(InvalidInput):
    code, message = "self_referral", "A member cannot join through their own share link."


class NotNewMember(Conflict):
    code, message = ("binding_not_allowed",
                     "Only a member joining now can be bound, once, to an older member.")


class BindingNotHeld(Conflict):
    code, message = "binding_not_held", "This binding is not waiting for review."


class InsufficientCommission(Conflict):
    code, message = ("insufficient_commission",
                     "The amount is more than the commission available to withdraw.")


class BelowMinWithdrawal(InvalidInput):
    code, message = "below_min_withdrawal", "The amount is below this merchant's minimum."


class WithdrawalAlreadyPaid(Conflict):
    code, message = "withdrawal_already_paid", "This withdrawal has already been paid."


class WithdrawalAlreadyRejected(Conflict):
    code, message = "withdrawal_already_rejected", "This withdrawal has already been rejected."
