"""Bake-off data: eval sets and their cases, runs with their status history, the models a run calls
(with the prices it used), batch jobs, and one result per (case, model). The catalog's models are in
catalog_models.py and the self-hosted and custom-model records in hosting.py; importing them here is
how Django finds every model of the app."""
from __future__ import annotations

from decimal import Decimal

from django.conf import settings
from django.core.validators import MaxValueValidator, MinValueValidator
from django.db import models

from .catalog_models import PRICE, CatalogKind, CatalogModel
from .catalog_models import CatalogChange, InferenceProfile, SelfHostedEntry  # noqa: F401  (models of the app)
from .evalsets import MAX_CASE_ID_CHARS, MAX_CATEGORY_CHARS
from .hosting import CustomModel, CustomPricing, GpuHosting, SelfHostedEndpoint  # noqa: F401  (models of the app)


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


class RunMode(models.TextChoices):
    ON_DEMAND = "on_demand", "On demand (Converse)"
    BATCH = "batch", "Batch inference"


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
    mode = models.CharField(max_length=10, choices=RunMode.choices, default=RunMode.ON_DEMAND,
                            help_text="Batch: each model runs as a Bedrock batch inference job at the batch price.")
    batch_files_removed_at = models.DateTimeField(
        null=True, blank=True, help_text="When the run's batch input and output files were removed from S3.")
    # Live progress, kept on the row so a page reads it with one query.
    total_pairs = models.PositiveIntegerField(default=0)
    done_count = models.PositiveIntegerField(default=0)
    failed_count = models.PositiveIntegerField(default=0)
    last_progress_at = models.DateTimeField(null=True, blank=True)
    dispatch_count = models.PositiveIntegerField(default=0, help_text="Times the missing pairs were dispatched.")
    # The pre-launch estimate: typical (replies as long as the expected answers) and the maximum
    # (every reply at max_tokens).
    estimated_cost_usd = models.DecimalField(max_digits=14, decimal_places=6, null=True, blank=True)
    estimated_cost_max_usd = models.DecimalField(max_digits=14, decimal_places=6, null=True, blank=True)
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
    batch_supported = models.BooleanField(default=True, help_text="Bedrock offered batch for the model at launch.")
    prices_effective_date = models.DateField()
    kind = models.CharField(max_length=20, choices=CatalogKind.choices, default=CatalogKind.BEDROCK)
    # Self-hosted and custom-model pricing, frozen at launch like the token prices (empty for Bedrock models).
    gpu_type = models.CharField(max_length=60, blank=True)
    gpu_count = models.PositiveSmallIntegerField(null=True, blank=True)
    gpu_hour_price = models.DecimalField(null=True, blank=True, **PRICE)
    hosting = models.CharField(max_length=20, blank=True)
    custom_pricing = models.CharField(max_length=30, blank=True)
    model_units = models.PositiveSmallIntegerField(null=True, blank=True)
    model_unit_hour_price = models.DecimalField(null=True, blank=True, **PRICE)
    commitment_months = models.PositiveSmallIntegerField(null=True, blank=True)
    training_cost_usd = models.DecimalField(max_digits=14, decimal_places=2, null=True, blank=True,
                                            validators=[MinValueValidator(0)])
    amortisation_months = models.PositiveSmallIntegerField(null=True, blank=True)
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


class BatchJobStatus(models.TextChoices):
    """Bedrock's ModelInvocationJobStatus, plus PENDING: the row is stored, the job not yet created."""

    PENDING = "Pending", "Not yet submitted"
    SUBMITTED = "Submitted", "Submitted"
    VALIDATING = "Validating", "Validating"
    SCHEDULED = "Scheduled", "Scheduled"
    IN_PROGRESS = "InProgress", "In progress"
    STOPPING = "Stopping", "Stopping"
    COMPLETED = "Completed", "Completed"
    PARTIALLY_COMPLETED = "PartiallyCompleted", "Partially completed"
    FAILED = "Failed", "Failed"
    STOPPED = "Stopped", "Stopped"
    EXPIRED = "Expired", "Expired"


BATCH_JOB_ENDED = frozenset({BatchJobStatus.COMPLETED, BatchJobStatus.PARTIALLY_COMPLETED, BatchJobStatus.FAILED,
                             BatchJobStatus.STOPPED, BatchJobStatus.EXPIRED})


class BatchJob(models.Model):
    """One Bedrock batch inference job of one model of a run: the cases it carries, where its input
    and output live in S3, and Bedrock's status. The row (with its idempotent client request token)
    is stored before the job is created, so a worker killed at any point loses nothing."""

    run = models.ForeignKey(BakeoffRun, on_delete=models.CASCADE, related_name="batch_jobs")
    run_model = models.ForeignKey(RunModel, on_delete=models.CASCADE, related_name="batch_jobs")
    attempt = models.PositiveSmallIntegerField(default=1)
    client_request_token = models.CharField(max_length=256, unique=True)
    job_name = models.CharField(max_length=63)
    job_arn = models.CharField(max_length=1011, blank=True)
    model_id = models.CharField(max_length=200, help_text="The model or profile id the job invokes.")
    status = models.CharField(max_length=20, choices=BatchJobStatus.choices, default=BatchJobStatus.PENDING)
    message = models.TextField(blank=True)
    case_ids = models.JSONField(default=list, help_text="Eval cases in the job's input file.")
    input_uri = models.CharField(max_length=1024)
    output_uri = models.CharField(max_length=1024)
    records_total = models.PositiveIntegerField(null=True, blank=True)
    records_processed = models.PositiveIntegerField(null=True, blank=True)
    records_succeeded = models.PositiveIntegerField(null=True, blank=True)
    records_failed = models.PositiveIntegerField(null=True, blank=True)
    submitted_at = models.DateTimeField(null=True, blank=True)
    ended_at = models.DateTimeField(null=True, blank=True)
    results_read_at = models.DateTimeField(null=True, blank=True,
                                           help_text="When the output records were stored on the run.")
    created_at = models.DateTimeField(auto_now_add=True)

    class Meta:
        ordering = ["run", "run_model", "attempt"]
        constraints = [
            models.UniqueConstraint(fields=["run_model", "attempt"], name="batchjob_once_per_attempt"),
        ]

    def __str__(self) -> str:
        return f"{self.job_name} ({self.status})"

    @property
    def ended(self) -> bool:
        return self.status in BATCH_JOB_ENDED

    @property
    def duration_seconds(self) -> float | None:
        if self.submitted_at is None or self.ended_at is None:
            return None
        return max(0.0, (self.ended_at - self.submitted_at).total_seconds())


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
    batch_job = models.ForeignKey(BatchJob, on_delete=models.SET_NULL, null=True, blank=True, related_name="results",
                                  help_text="The batch job that answered (billed at the batch price).")
    created_at = models.DateTimeField(auto_now_add=True)

    class Meta:
        ordering = ["run", "run_model", "case"]
        constraints = [
            models.UniqueConstraint(fields=["run_model", "case"], name="bakeoffresult_once_per_pair"),
        ]
        indexes = [models.Index(fields=["run", "status"])]

    def __str__(self) -> str:
        return f"{self.run_model} × case {self.case_id}: {self.status}"
