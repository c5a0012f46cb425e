"""Typed errors of the referrals domain (codes are part of the API contract)."""

from __future__ import annotations

from engagement.kit.errors import Conflict, InvalidInput, NotFound
from engagement.members.service import UnknownShareCode

__all__ = ["BindingNotHeld", "NotNewMember", "ProgramNotFound", "ReferralProgramDisabled",
           "SelfReferral", "TemplateNotShareable", "UnknownShareCode"]


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
