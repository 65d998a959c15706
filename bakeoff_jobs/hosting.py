"""How a non-Bedrock catalog entry is served and priced.

A self-hosted entry is an OpenAI-compatible chat completions endpoint (vLLM, llama.cpp's server, TGI,
Ollama) on GPUs the startup pays for by the hour; its cost per task comes from measured throughput.
A custom entry is a model imported into, or fine-tuned on, Bedrock and called by its ARN, priced per
token where AWS offers on-demand inference for it, or by Provisioned Throughput model units per hour.
"""
from __future__ import annotations

from decimal import Decimal

from django.core.exceptions import ValidationError
from django.core.validators import MaxValueValidator, MinValueValidator
from django.db import models

PRICE = {"max_digits": 12, "decimal_places": 6, "validators": [MinValueValidator(0)]}


class GpuHosting(models.TextChoices):
    """Where the GPUs run, which decides whether AWS credits pay for them."""

    EC2 = "ec2", "EC2 in the startup's AWS account (credits can pay)"
    OUTSIDE_AWS = "outside_aws", "Outside AWS (credits do not pay)"


class SelfHostedEndpoint(models.Model):
    """An OpenAI-compatible endpoint serving an open-weights model, and the GPUs behind it."""

    catalog_model = models.OneToOneField(
        "bakeoff_jobs.CatalogModel", on_delete=models.CASCADE, related_name="self_hosted"
    )
    base_url = models.URLField(max_length=300, help_text="OpenAI-compatible base URL, e.g. http://gpu-box:8000/v1")
    served_model_name = models.CharField(max_length=200, help_text="The `model` the server expects in a request.")
    api_key_encrypted = models.TextField(blank=True, editable=False,
                                         help_text="The API key, encrypted at rest; never shown back.")
    api_key_env = models.CharField(max_length=100, blank=True,
                                   help_text="Or: the environment variable the worker reads the API key from.")
    gpu_type = models.CharField(max_length=60, help_text="e.g. NVIDIA L4, A10G, H100.")
    gpu_count = models.PositiveSmallIntegerField(default=1, validators=[MinValueValidator(1)])
    gpu_hour_price = models.DecimalField(help_text="USD per GPU-hour.", **PRICE)
    hosting = models.CharField(max_length=20, choices=GpuHosting.choices, default=GpuHosting.OUTSIDE_AWS)

    def __str__(self) -> str:
        return f"{self.served_model_name} at {self.base_url}"


class CustomPricing(models.TextChoices):
    ON_DEMAND = "on_demand", "On demand, per token"
    PROVISIONED = "provisioned", "Provisioned Throughput, model units per hour"


class CustomModel(models.Model):
    """A Bedrock custom model (imported or fine-tuned), called by its ARN."""

    class Source(models.TextChoices):
        FINE_TUNED = "fine_tuned", "Fine-tuned on Bedrock"
        IMPORTED = "imported", "Imported (Custom Model Import)"

    catalog_model = models.OneToOneField(
        "bakeoff_jobs.CatalogModel", on_delete=models.CASCADE, related_name="custom"
    )
    model_arn = models.CharField(max_length=1011, help_text="The custom model's (or its deployment's) ARN.")
    source = models.CharField(max_length=20, choices=Source.choices, default=Source.FINE_TUNED)
    base_model = models.ForeignKey(
        "bakeoff_jobs.CatalogModel", on_delete=models.SET_NULL, null=True, blank=True, related_name="custom_variants",
        help_text="The foundation model it was tuned from, if any.",
    )
    pricing = models.CharField(max_length=30, choices=CustomPricing.choices, default=CustomPricing.ON_DEMAND)
    model_units = models.PositiveSmallIntegerField(null=True, blank=True, validators=[MinValueValidator(1)],
                                                   help_text="Provisioned Throughput: model units bought.")
    model_unit_hour_price = models.DecimalField(null=True, blank=True,
                                                help_text="Provisioned Throughput: USD per model unit per hour.",
                                                **PRICE)
    commitment_months = models.PositiveSmallIntegerField(
        default=0, validators=[MaxValueValidator(6)],
        help_text="Provisioned Throughput commitment: 0 (none, hourly), 1 or 6 months.",
    )
    training_cost_usd = models.DecimalField(
        max_digits=14, decimal_places=2, default=Decimal("0"), validators=[MinValueValidator(0)],
        help_text="One-off training (or import) cost, amortised in the monthly projection.",
    )
    amortisation_months = models.PositiveSmallIntegerField(default=12, validators=[MinValueValidator(1)])

    def __str__(self) -> str:
        return self.model_arn

    def clean(self) -> None:
        errors = {}
        if self.commitment_months not in COMMITMENT_MONTHS:
            errors["commitment_months"] = "Provisioned Throughput commits for 0 (none), 1 or 6 months."
        if self.pricing == CustomPricing.PROVISIONED:
            if not self.model_units:
                errors["model_units"] = "Provisioned Throughput needs the number of model units bought."
            if self.model_unit_hour_price is None:
                errors["model_unit_hour_price"] = "Provisioned Throughput needs the price of a model unit per hour."
        elif self.source == self.Source.IMPORTED and (not self.model_units or self.model_unit_hour_price is None):
            # Imported models bill per Custom Model Unit per minute while a copy is active, not per token
            # (https://docs.aws.amazon.com/bedrock/latest/userguide/import-model-calculate-cost.html).
            errors["model_units"] = ("An imported model on demand needs its Custom Model Units per copy and the "
                                     "price of one unit per hour (the per-minute price × 60).")
        if self.pricing != CustomPricing.PROVISIONED and self.commitment_months:
            errors["commitment_months"] = "Only Provisioned Throughput has a commitment; on demand has none."
        if self.model_arn and not self.model_arn.startswith("arn:"):
            errors["model_arn"] = "Give the full ARN (arn:aws:bedrock:<region>:<account>:…)."
        if errors:
            raise ValidationError(errors)


# Provisioned Throughput commitment terms Bedrock sells: none, one month or six months
# (https://docs.aws.amazon.com/bedrock/latest/userguide/prov-throughput.html).
COMMITMENT_MONTHS = (0, 1, 6)


def hourly_pricing_snapshot(catalog_model) -> dict | None:
    """What a run freezes on its RunModel, beside the token prices, of an entry billed by the hour: a
    self-hosted entry's GPUs and their price (not its URL and key: a corrected endpoint takes effect on
    resume), a custom entry's pricing; nothing for a foundation model. None: a self-hosted entry
    without an endpoint."""
    if catalog_model.kind == "self_hosted":
        endpoint = SelfHostedEndpoint.objects.filter(catalog_model=catalog_model).first()
        if endpoint is None:
            return None
        return {"gpu_type": endpoint.gpu_type, "gpu_count": endpoint.gpu_count,
                "gpu_hour_price": endpoint.gpu_hour_price, "hosting": endpoint.hosting}
    custom = getattr(catalog_model, "custom", None) if catalog_model.kind == "custom" else None
    if custom is None:
        return {}
    return {
        "custom_pricing": custom.pricing, "model_units": custom.model_units,
        "model_unit_hour_price": custom.model_unit_hour_price, "commitment_months": custom.commitment_months,
        "training_cost_usd": custom.training_cost_usd, "amortisation_months": custom.amortisation_months,
    }
