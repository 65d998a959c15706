"""The model catalog: every model a bake-off can call (Bedrock foundation models, self-hosted
endpoints, Bedrock custom models) with its prices and limits, its inference profiles, and the history
of every change to it. Registered through models.py, which imports this module."""
from __future__ import annotations

import datetime as dt
from decimal import Decimal

from django.conf import settings
from django.core.validators import MaxValueValidator, MinValueValidator
from django.db import models
from django.utils import timezone

from .model_data import END_OF_LIFE, LEGACY, is_global_profile, profile_scope


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


class Lifecycle(models.TextChoices):
    ACTIVE = "active", "Active"
    LEGACY = LEGACY, "Legacy"
    END_OF_LIFE = END_OF_LIFE, "End of life"


class CatalogKind(models.TextChoices):
    """How a catalog entry is served, and so how a call reaches it and how it is priced."""

    BEDROCK = "bedrock", "Bedrock foundation model"
    SELF_HOSTED = "self_hosted", "Self-hosted (OpenAI-compatible endpoint)"
    CUSTOM = "custom", "Bedrock custom model (imported or fine-tuned)"


class CatalogModelQuerySet(models.QuerySet):
    def for_firm(self, partner_id: int | None) -> "CatalogModelQuerySet":
        """Entries a firm's run may use: staff-managed ones and the firm's own (None: staff-managed only)."""
        return self.filter(models.Q(owner_partner__isnull=True) | models.Q(owner_partner_id=partner_id))

    def visible_to(self, who) -> "CatalogModelQuerySet":
        """Entries a login may see: every one for staff; staff-managed and its own firm's for a partner;
        none for a login with no role. Another firm's entry is as absent as a missing id."""
        from matching.roles import access_of  # noqa: PLC0415

        access = access_of(who)
        if access.is_staff:
            return self.all()
        if not access.is_partner:
            return self.none()
        return self.for_firm(access.partner_id)

    def offered(self, *, on: dt.date | None = None) -> "CatalogModelQuerySet":
        """Models a new run may use on that day (today by default): staff keep them active, Bedrock
        still lists them, and they have not reached end of life."""
        on = on or timezone.localdate()
        return (
            self.filter(is_active=True)
            .exclude(lifecycle_status=Lifecycle.END_OF_LIFE)
            .exclude(listed_by_bedrock=False)
            .exclude(end_of_life_date__lte=on)
        )


class CatalogModel(models.Model):
    """A Bedrock model staff may offer in a bake-off, with its on-demand prices (USD per 1M tokens).

    Newer models refuse their bare id on demand and are called through an inference profile;
    a geographic profile may cost more than the listed rate (``profile_price_factor``), a global.
    profile costs the listed rate. Lifecycle, inference types and profiles follow Bedrock
    (``sync_catalog``); prices are staff-edited, each edit with its effective date (CatalogChange)."""

    name = models.CharField(max_length=120)
    kind = models.CharField(max_length=20, choices=CatalogKind.choices, default=CatalogKind.BEDROCK)
    model_id = models.CharField(
        max_length=200, unique=True,
        help_text="Catalog id: the Bedrock base model id, or a name of its own for a self-hosted or custom entry.",
    )
    owner_partner = models.ForeignKey(
        "matching.Partner", on_delete=models.CASCADE, null=True, blank=True, related_name="own_catalog_models",
        help_text="Empty: managed by CloudRoute staff and offered to every firm. Set: a firm's own entry, "
                  "visible to that firm only.",
    )
    inference_profile_id = models.CharField(
        max_length=200, blank=True, help_text="Cross-region inference profile id, e.g. us.anthropic.…"
    )
    requires_profile = models.BooleanField(
        default=False, help_text="On-demand calls must go through the inference profile (bare id is refused)."
    )
    profile_price_factor = models.DecimalField(
        max_digits=6, decimal_places=4, default=Decimal("1"), validators=[MinValueValidator(0)],
        help_text="Price multiplier when called through a geographic (us./eu./apac.) profile (1.10 for Claude "
                  "4.5 models). A global. profile is always billed at the listed rate.",
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
    is_active = models.BooleanField(default=True, help_text="Staff may withdraw a model from new runs.")
    lifecycle_status = models.CharField(
        max_length=20, choices=Lifecycle.choices, default=Lifecycle.ACTIVE,
        help_text="Bedrock's modelLifecycle.status (end of life: Bedrock no longer serves it).",
    )
    end_of_life_date = models.DateField(
        null=True, blank=True,
        help_text="From Bedrock's modelLifecycle.endOfLifeTime when given, else staff-edited from AWS's "
                  "model lifecycle page. From this day the model is not offered for new runs.",
    )
    batch_supported = models.BooleanField(
        default=True, help_text="Bedrock offers batch inference for this model (none for Llama 3.2)."
    )
    inference_types = models.JSONField(default=list, blank=True,
                                       help_text="Bedrock's inferenceTypesSupported, e.g. [\"INFERENCE_PROFILE\"].")
    input_modalities = models.JSONField(default=list, blank=True)
    output_modalities = models.JSONField(default=list, blank=True)
    listed_by_bedrock = models.BooleanField(
        null=True, blank=True,
        help_text="Whether the last sync found the model in ListFoundationModels (empty: never synced).",
    )
    synced_at = models.DateTimeField(null=True, blank=True)

    objects = CatalogModelQuerySet.as_manager()

    class Meta:
        ordering = ["family", "tier", "name"]

    def __str__(self) -> str:
        return self.name

    @property
    def supports_caching(self) -> bool:
        return self.cache_read_per_1m is not None and self.cache_write_per_1m is not None

    @property
    def invoked_id(self) -> str:
        """The id an on-demand call goes to by default: a custom model's ARN (the model's, its on-demand
        deployment's or its Provisioned Throughput's, as staff entered it) is the Converse modelId."""
        if self.kind == CatalogKind.CUSTOM:
            custom = getattr(self, "custom", None)
            if custom is not None and custom.model_arn:
                return custom.model_arn
        if self.requires_profile and self.inference_profile_id:
            return self.inference_profile_id
        return self.model_id

    def invocable_ids(self) -> list[str]:
        """Ids a run may call this model through: the default one, then a global. profile if listed."""
        ids = [self.invoked_id]
        for profile in self.profiles.all():
            if profile.is_global and profile.listed and profile.profile_id not in ids:
                ids.append(profile.profile_id)
        return ids

    def price_factor_for(self, invoked_id: str) -> Decimal:
        """The bare id and a global. profile cost the listed rate; a geographic profile may cost more."""
        if invoked_id == self.model_id or is_global_profile(invoked_id):
            return Decimal("1")
        return self.profile_price_factor

    def lifecycle_on(self, day: dt.date | None = None) -> dict:
        """Lifecycle facts shown next to the model: status and end-of-life date (ISO), as of day."""
        day = day or timezone.localdate()
        past_eol = self.end_of_life_date is not None and self.end_of_life_date <= day
        status = Lifecycle.END_OF_LIFE if past_eol else self.lifecycle_status
        return {"status": str(status),
                "end_of_life_date": self.end_of_life_date.isoformat() if self.end_of_life_date else None}

    def not_offered_reason(self, day: dt.date | None = None) -> str | None:
        """Why a new run may not use the model (None: it may)."""
        day = day or timezone.localdate()
        if not self.is_active:
            return f"{self.name} is not offered any more"
        if self.kind == CatalogKind.CUSTOM and getattr(self, "custom", None) is None:
            return f"{self.name} is a custom model without its ARN (add it in the catalog)"
        if self.end_of_life_date is not None and self.end_of_life_date <= day:
            return f"{self.name} reached end of life on Bedrock on {self.end_of_life_date.isoformat()}"
        if self.lifecycle_status == Lifecycle.END_OF_LIFE:
            return f"{self.name} is past end of life on Bedrock"
        if self.listed_by_bedrock is False:
            return f"{self.name} is no longer listed by Bedrock in this region"
        return None

    def invoked_prices(self, invoked_id: str | None = None) -> dict[str, Decimal | None]:
        """Prices of the id actually invoked (a geographic profile can cost more than the base model)."""
        factor = self.price_factor_for(invoked_id or self.invoked_id)

        def scaled(value):
            return None if value is None else (value * factor).quantize(Decimal("0.000001"))

        return {
            "input_per_1m": scaled(self.input_per_1m),
            "output_per_1m": scaled(self.output_per_1m),
            "cache_read_per_1m": scaled(self.cache_read_per_1m),
            "cache_write_per_1m": scaled(self.cache_write_per_1m),
        }


class InferenceProfile(models.Model):
    """A system-defined cross-region inference profile of a catalog model, as ListInferenceProfiles
    names it (us., eu., apac., global. …)."""

    catalog_model = models.ForeignKey(CatalogModel, on_delete=models.CASCADE, related_name="profiles")
    profile_id = models.CharField(max_length=200, unique=True)
    profile_arn = models.CharField(max_length=300, blank=True)
    status = models.CharField(max_length=20, default="ACTIVE")
    listed = models.BooleanField(default=True, help_text="Listed by the last sync (or seeded).")
    synced_at = models.DateTimeField(null=True, blank=True)

    class Meta:
        ordering = ["catalog_model", "profile_id"]

    def __str__(self) -> str:
        return self.profile_id

    @property
    def scope(self) -> str:
        return profile_scope(self.profile_id)

    @property
    def is_global(self) -> bool:
        return is_global_profile(self.profile_id)


class CatalogChange(models.Model):
    """History of the catalog: what a sync with Bedrock or a staff edit changed, field by field
    ({field: [old, new]}). Prices carry their effective date; a run's frozen prices are never
    touched (RunModel)."""

    class Source(models.TextChoices):
        SYNC = "sync", "Bedrock sync"
        STAFF = "staff", "Staff edit"
        SEED = "seed", "Published list"

    catalog_model = models.ForeignKey(CatalogModel, on_delete=models.CASCADE, related_name="changes")
    source = models.CharField(max_length=10, choices=Source.choices)
    changes = models.JSONField(default=dict)
    note = models.TextField(blank=True)
    changed_by = models.ForeignKey(settings.AUTH_USER_MODEL, on_delete=models.SET_NULL, null=True, blank=True)
    changed_at = models.DateTimeField(auto_now_add=True)

    class Meta:
        ordering = ["-changed_at", "-id"]

    def __str__(self) -> str:
        return f"{self.catalog_model} {self.get_source_display()} {self.changed_at:%Y-%m-%d}"


class SelfHostedEntry(CatalogModel):
    """Catalog entries served by an OpenAI-compatible endpoint, as staff and partner firms register them."""

    class Meta:
        proxy = True
        verbose_name = "self-hosted model"
        verbose_name_plural = "self-hosted models"
