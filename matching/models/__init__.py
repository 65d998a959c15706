"""Matching's models, one module per concept; import them from here."""
from .engagements import Engagement, EngagementStatus, EngagementStatusChange
from .partners import Partner, PartnerMember
from .pools import CreditPool, FilingRoute

__all__ = [
    "CreditPool",
    "Engagement",
    "EngagementStatus",
    "EngagementStatusChange",
    "FilingRoute",
    "Partner",
    "PartnerMember",
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
