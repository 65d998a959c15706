"""Bake-off data: the model catalog with prices, eval sets, runs, the models a run calls (with the
prices it used) and one result per (case, model)."""
from __future__ import annotations

from decimal import Decimal

from django.conf import settings
from django.core.validators import MaxValueValidator, MinValueValidator
from django.db import models

from .evalsets import MAX_CASE_ID_CHARS, MAX_CATEGORY_CHARS

PRICE = {"max_digits": 12, "decimal_places": 6, "validators": [MinValueValidator(0)]}


class Family(models.TextChoices):
    CLAUDE = "claude", "Claude"
    LLAMA = "llama", "Llama"


class Tier(models.TextChoices):
    SMALL = "small", "Small"
    MID = "mid", "Mid"
    LARGE = "large", "Large"
    TOP = "top", "Top"


class Weights(models.TextChoices):
    OPEN = "open", "Open weights"
    CLOSED = "closed", "Closed weights"


class CatalogModel(models.Model):
    """A Bedrock model staff may offer in a bake-off, with its on-demand prices (USD per 1M tokens).

    Newer models refuse their bare id on demand and are called through an inference profile;
    a geographic profile may cost more than the listed rate (``profile_price_factor``)."""

    name = models.CharField(max_length=120)
    model_id = models.CharField(max_length=200, unique=True, help_text="Bedrock base model id.")
    inference_profile_id = models.CharField(
        max_length=200, blank=True, help_text="Cross-region inference profile id, e.g. us.anthropic.…"
    )
    requires_profile = models.BooleanField(
        default=False, help_text="On-demand calls must go through the inference profile (bare id is refused)."
    )
    profile_price_factor = models.DecimalField(
        max_digits=6, decimal_places=4, default=Decimal("1"), validators=[MinValueValidator(0)],
        help_text="Price multiplier when called through the profile (1.10 for a us. profile of Claude 4.5 models).",
    )
    family = models.CharField(max_length=20, choices=Family.choices)
    tier = models.CharField(max_length=20, choices=Tier.choices)
    weights = models.CharField(max_length=10, choices=Weights.choices)
    input_per_1m = models.DecimalField(**PRICE)
    output_per_1m = models.DecimalField(**PRICE)
    cache_read_per_1m = models.DecimalField(null=True, blank=True, **PRICE)
    cache_write_per_1m = models.DecimalField(null=True, blank=True, **PRICE)
    batch_discount = models.DecimalField(
        max_digits=4, decimal_places=3, default=Decimal("0.5"),
        validators=[MinValueValidator(0), MaxValueValidator(1)],
        help_text="Share taken off by batch inference, e.g. 0.50.",
    )
    context_window = models.PositiveIntegerField(null=True, blank=True)
    effective_date = models.DateField(help_text="Date the prices were published.")
    max_concurrency = models.PositiveIntegerField(default=8, help_text="Calls in flight across all workers.")
    requests_per_minute = models.PositiveIntegerField(null=True, blank=True, help_text="Empty: no limit.")
    tokens_per_minute = models.PositiveIntegerField(null=True, blank=True, help_text="Empty: no limit.")
    is_active = models.BooleanField(default=True)

    class Meta:
        ordering = ["family", "tier", "name"]

    def __str__(self) -> str:
        return self.name

    @property
    def supports_caching(self) -> bool:
        return self.cache_read_per_1m is not None and self.cache_write_per_1m is not None

    @property
    def invoked_id(self) -> str:
        """The id an on-demand call goes to."""
        if self.requires_profile and self.inference_profile_id:
            return self.inference_profile_id
        return self.model_id

    def invoked_prices(self) -> dict[str, Decimal | None]:
        """Prices of the id actually invoked (a profile can cost more than the base model)."""
        factor = self.profile_price_factor if self.invoked_id != self.model_id else Decimal("1")

        def scaled(value):
            return None if value is None else (value * factor).quantize(Decimal("0.000001"))

        return {
            "input_per_1m": scaled(self.input_per_1m),
            "output_per_1m": scaled(self.output_per_1m),
            "cache_read_per_1m": scaled(self.cache_read_per_1m),
            "cache_write_per_1m": scaled(self.cache_write_per_1m),
        }


class EvalSet(models.Model):
    """A partner's uploaded prompts with expected answers and how to score them."""

    name = models.CharField(max_length=200)
    filename = models.CharField(max_length=255, blank=True)
    partner = models.ForeignKey(
        "matching.Partner", on_delete=models.CASCADE, null=True, blank=True, related_name="eval_sets"
    )
    engagement = models.ForeignKey(
        "matching.Engagement", on_delete=models.CASCADE, null=True, blank=True, related_name="eval_sets"
    )
    created_by = models.ForeignKey(settings.AUTH_USER_MODEL, on_delete=models.SET_NULL, null=True, blank=True)
    case_count = models.PositiveIntegerField(default=0)
    created_at = models.DateTimeField(auto_now_add=True)

    class Meta:
        ordering = ["-created_at"]

    def __str__(self) -> str:
        return f"{self.name} ({self.case_count} cases)"


class EvalCase(models.Model):
    eval_set = models.ForeignKey(EvalSet, on_delete=models.CASCADE, related_name="cases")
    line = models.PositiveIntegerField(help_text="Line (or row) of the uploaded file.")
    prompt = models.TextField()
    expected = models.TextField(blank=True)
    scorer = models.CharField(max_length=30)
    scorer_options = models.JSONField(default=dict, blank=True)
    system_prompt = models.TextField(blank=True)
    category = models.CharField(max_length=MAX_CATEGORY_CHARS, blank=True)
    case_id = models.CharField(max_length=MAX_CASE_ID_CHARS, blank=True,
                               help_text="The uploaded file's own id for the case, if it had one.")

    class Meta:
        ordering = ["eval_set", "line"]
        constraints = [models.UniqueConstraint(fields=["eval_set", "line"], name="evalcase_unique_line")]

    def __str__(self) -> str:
        return f"{self.eval_set_id}:{self.line}"


class RunStatus(models.TextChoices):
    QUEUED = "queued", "Queued"
    RUNNING = "running", "Running"
    FINALIZING = "finalizing", "Building the report"
    FINISHED = "finished", "Finished"
    CANCELLED = "cancelled", "Cancelled"
    FAILED = "failed", "Failed"


# The one place that says which status moves a run may make.
RUN_MOVES: dict[str, frozenset[str]] = {
    RunStatus.QUEUED: frozenset({RunStatus.RUNNING, RunStatus.CANCELLED, RunStatus.FAILED}),
    RunStatus.RUNNING: frozenset({RunStatus.FINALIZING, RunStatus.CANCELLED, RunStatus.FAILED}),
    # Back to RUNNING only when the report build was interrupted (a worker died while building it).
    RunStatus.FINALIZING: frozenset({RunStatus.FINISHED, RunStatus.FAILED, RunStatus.RUNNING}),
    RunStatus.FINISHED: frozenset(),
    RunStatus.CANCELLED: frozenset(),
    RunStatus.FAILED: frozenset(),
}
ACTIVE_STATUSES = (RunStatus.QUEUED, RunStatus.RUNNING)


class BakeoffRun(models.Model):
    """One bake-off: an eval set against two or more catalog models with fixed settings."""

    eval_set = models.ForeignKey(EvalSet, on_delete=models.PROTECT, related_name="runs")
    engagement = models.ForeignKey(
        "matching.Engagement", on_delete=models.SET_NULL, null=True, blank=True, related_name="bakeoff_runs"
    )
    partner = models.ForeignKey(
        "matching.Partner", on_delete=models.SET_NULL, null=True, blank=True, related_name="bakeoff_runs"
    )
    created_by = models.ForeignKey(settings.AUTH_USER_MODEL, on_delete=models.SET_NULL, null=True, blank=True)
    status = models.CharField(max_length=20, choices=RunStatus.choices, default=RunStatus.QUEUED)
    temperature = models.DecimalField(
        max_digits=3, decimal_places=2, default=Decimal("0"),
        validators=[MinValueValidator(0), MaxValueValidator(1)],
    )
    max_tokens = models.PositiveIntegerField(default=512, validators=[MinValueValidator(1)])
    cache_system_prompt = models.BooleanField(default=False)
    bar_points = models.PositiveSmallIntegerField(
        default=2, help_text="Pass-rate points a cheaper model may trail the best and still clear the bar."
    )
    endpoint_url = models.CharField(max_length=300, blank=True, help_text="Empty: real Bedrock.")
    sandbox = models.BooleanField(default=False, help_text="Calls went to the local sandbox, not Bedrock.")
    # Live progress, kept on the row so a page reads it with one query.
    total_pairs = models.PositiveIntegerField(default=0)
    done_count = models.PositiveIntegerField(default=0)
    failed_count = models.PositiveIntegerField(default=0)
    last_progress_at = models.DateTimeField(null=True, blank=True)
    dispatch_count = models.PositiveIntegerField(default=0, help_text="Times the missing pairs were dispatched.")
    estimated_cost_usd = models.DecimalField(max_digits=14, decimal_places=6, null=True, blank=True)
    report = models.JSONField(null=True, blank=True)
    shared_with_founder = models.BooleanField(
        default=False, help_text="The partner shared this run's summary on the founder's status page."
    )
    error = models.TextField(blank=True)
    created_at = models.DateTimeField(auto_now_add=True)
    started_at = models.DateTimeField(null=True, blank=True)
    finished_at = models.DateTimeField(null=True, blank=True)

    class Meta:
        ordering = ["-created_at"]
        indexes = [models.Index(fields=["status", "last_progress_at"])]

    def __str__(self) -> str:
        return f"Bake-off #{self.pk} ({self.status})"

    @property
    def remaining_count(self) -> int:
        return max(self.total_pairs - self.done_count - self.failed_count, 0)

    @property
    def is_active(self) -> bool:
        return self.status in ACTIVE_STATUSES


class RunStatusChange(models.Model):
    """History: every status move of a run."""

    run = models.ForeignKey(BakeoffRun, on_delete=models.CASCADE, related_name="history")
    from_status = models.CharField(max_length=20, choices=RunStatus.choices)
    to_status = models.CharField(max_length=20, choices=RunStatus.choices)
    changed_by = models.ForeignKey(settings.AUTH_USER_MODEL, on_delete=models.SET_NULL, null=True, blank=True)
    reason = models.TextField(blank=True)
    changed_at = models.DateTimeField(auto_now_add=True)

    class Meta:
        ordering = ["changed_at", "id"]


class RunModelRole(models.TextChoices):
    CANDIDATE = "candidate", "Candidate"
    JUDGE = "judge", "Judge"


class RunModel(models.Model):
    """A catalog model as one run calls it: the id invoked and the prices of that id, frozen at launch
    so a later price change never rewrites the run's report."""

    run = models.ForeignKey(BakeoffRun, on_delete=models.CASCADE, related_name="run_models")
    catalog_model = models.ForeignKey(CatalogModel, on_delete=models.PROTECT, related_name="run_models")
    role = models.CharField(max_length=10, choices=RunModelRole.choices, default=RunModelRole.CANDIDATE)
    position = models.PositiveSmallIntegerField(default=0)
    invoked_id = models.CharField(max_length=200)
    input_per_1m = models.DecimalField(**PRICE)
    output_per_1m = models.DecimalField(**PRICE)
    cache_read_per_1m = models.DecimalField(null=True, blank=True, **PRICE)
    cache_write_per_1m = models.DecimalField(null=True, blank=True, **PRICE)
    batch_discount = models.DecimalField(max_digits=4, decimal_places=3)
    prices_effective_date = models.DateField()
    max_concurrency = models.PositiveIntegerField()
    requests_per_minute = models.PositiveIntegerField(null=True, blank=True)
    tokens_per_minute = models.PositiveIntegerField(null=True, blank=True)

    class Meta:
        ordering = ["run", "role", "position"]
        constraints = [
            models.UniqueConstraint(fields=["run", "catalog_model", "role"], name="runmodel_unique_per_run"),
        ]

    def __str__(self) -> str:
        return f"{self.invoked_id} in run {self.run_id}"


class ResultStatus(models.TextChoices):
    OK = "ok", "Answered"
    ERROR = "error", "Permanent error"


class BakeoffResult(models.Model):
    """The one answer of one model to one case in one run."""

    run = models.ForeignKey(BakeoffRun, on_delete=models.CASCADE, related_name="results")
    run_model = models.ForeignKey(RunModel, on_delete=models.CASCADE, related_name="results")
    case = models.ForeignKey(EvalCase, on_delete=models.CASCADE, related_name="results")
    status = models.CharField(max_length=10, choices=ResultStatus.choices)
    output = models.TextField(blank=True)
    stop_reason = models.CharField(max_length=40, blank=True)
    input_tokens = models.PositiveIntegerField(default=0)
    output_tokens = models.PositiveIntegerField(default=0)
    cache_read_tokens = models.PositiveIntegerField(default=0)
    cache_write_tokens = models.PositiveIntegerField(default=0)
    latency_ms = models.PositiveIntegerField(null=True, blank=True, help_text="Model latency reported by Bedrock.")
    wall_ms = models.PositiveIntegerField(null=True, blank=True, help_text="Round trip seen by the worker.")
    attempts = models.PositiveSmallIntegerField(default=1)
    error_code = models.CharField(max_length=80, blank=True)
    error_message = models.TextField(blank=True)
    passed = models.BooleanField(null=True)
    score = models.FloatField(null=True, blank=True)
    score_detail = models.TextField(blank=True)
    judge_input_tokens = models.PositiveIntegerField(default=0)
    judge_output_tokens = models.PositiveIntegerField(default=0)
    created_at = models.DateTimeField(auto_now_add=True)

    class Meta:
        ordering = ["run", "run_model", "case"]
        constraints = [
            models.UniqueConstraint(fields=["run_model", "case"], name="bakeoffresult_once_per_pair"),
        ]
        indexes = [models.Index(fields=["run", "status"])]

    def __str__(self) -> str:
        return f"{self.run_model} × case {self.case_id}: {self.status}"
