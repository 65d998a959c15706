"""Matching's models, one module per concept; import them from here."""
from .engagements import (
    ALLOWED_MOVES,
    Engagement,
    EngagementStatus,
    EngagementStatusChange,
    MatchDecision,
    MatchMethod,
)
from .partners import Partner, PartnerMember, Specialty
from .pools import CreditPool, EvaluationStamp, FilingRoute, PoolRule, RuleKind, RuleSetVersion
from .verdicts import PoolVerdict

__all__ = [
    "ALLOWED_MOVES",
    "CreditPool",
    "Engagement",
    "EngagementStatus",
    "EngagementStatusChange",
    "EvaluationStamp",
    "FilingRoute",
    "MatchDecision",
    "MatchMethod",
    "Partner",
    "PartnerMember",
    "PoolRule",
    "PoolVerdict",
    "RuleKind",
    "RuleSetVersion",
    "Specialty",
]
