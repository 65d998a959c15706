"""Filing's models, one module per concept; import them from here. Their tables keep the names they
had when they lived in matching (`matching_aceopportunity`, …): the move changed no table."""
from .commission import COMMISSION_MOVES, Commission, CommissionEntry, CommissionStatus
from .filings import (
    ACE_FINAL_REVIEW,
    ACE_FINAL_STAGES,
    ACE_REVIEW_MOVES,
    ACE_STAGE_MOVES,
    BENEFIT_FINAL,
    BENEFIT_STATUS_MOVES,
    AceOpportunity,
    AceStatusChange,
    ChangeSource,
    CreditApplication,
    CreditApplicationStatusChange,
)
from .partner_central_choices import AceReviewStatus, AceStage, BenefitStatus

__all__ = [
    "ACE_FINAL_REVIEW",
    "ACE_FINAL_STAGES",
    "ACE_REVIEW_MOVES",
    "ACE_STAGE_MOVES",
    "BENEFIT_FINAL",
    "BENEFIT_STATUS_MOVES",
    "COMMISSION_MOVES",
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
