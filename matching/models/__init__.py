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
