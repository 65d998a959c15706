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

from .commission import Commission, CommissionEntry, CommissionStatus  # noqa: E402
from .filing import (  # noqa: E402
    AceOpportunity,
    AceStatusChange,
    ChangeSource,
    CreditApplication,
    CreditApplicationStatusChange,
)
from .partner_central_choices import AceReviewStatus, AceStage, BenefitStatus  # noqa: E402

__all__ += [
    "AceOpportunity",
    "AceReviewStatus",
    "AceStage",
    "AceStatusChange",
    "BenefitStatus",
    "ChangeSource",
    "Commission",
    "CommissionEntry",
    "CommissionStatus",
    "CreditApplication",
    "CreditApplicationStatusChange",
]
