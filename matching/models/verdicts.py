"""Per intake and pool: the stored eligibility verdict, with its reasons as data."""
from decimal import Decimal

from django.db import models

from matching.eligibility import DEFAULT_ROUTE_REASONS, VerdictWording, files_through_partner

from .pools import CreditPool, FilingRoute, RuleSetVersion


class PoolVerdict(VerdictWording, models.Model):
    """Whether one intake qualifies for one pool, by which rule version, and why (one sentence per rule)."""

    intake = models.ForeignKey("intake.Intake", on_delete=models.CASCADE, related_name="verdicts")
    pool = models.ForeignKey(CreditPool, on_delete=models.PROTECT, related_name="verdicts")
    rule_version = models.ForeignKey(RuleSetVersion, on_delete=models.PROTECT, related_name="verdicts")
    is_eligible = models.BooleanField()
    estimated_amount_usd = models.DecimalField(max_digits=12, decimal_places=2, default=Decimal("0"))
    route = models.CharField(max_length=20, choices=FilingRoute.choices)
    # [{"rule": "stage_in", "passed": true, "text": "..."}, ...] plus a route sentence in route_reason.
    reasons = models.JSONField(default=list)
    route_reason = models.CharField(max_length=300, blank=True)
    created_at = models.DateTimeField(auto_now_add=True)

    class Meta:
        ordering = ["pool__position", "pool__name"]
        constraints = [models.UniqueConstraint(fields=["intake", "pool"], name="unique_verdict_per_intake_pool")]

    def __str__(self) -> str:
        return f"{self.intake_id} / {self.pool_id}: {'eligible' if self.is_eligible else 'not eligible'}"

    @property
    def failed_reasons(self) -> list[str]:
        return [r["text"] for r in self.reasons if not r["passed"]]

    @property
    def route_sentence(self) -> str:
        """How the pool is obtained. Verdicts stored before ineligible ones stopped carrying the pool's
        own note (which may name an amount) are shown the neutral sentence; the stored row is kept."""
        return self.route_reason if self.is_eligible else DEFAULT_ROUTE_REASONS.get(self.route, "")

    @property
    def apply_url(self) -> str:
        """Where the founder applies, for the pools the founder files (none for partner-filed ones)."""
        return "" if files_through_partner(self.route) or not self.is_eligible else self.pool.apply_url
