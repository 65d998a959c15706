"""Factories for bake-off tests: catalog models, eval sets and cases (and the engagement they hang off)."""
import datetime as dt
from decimal import Decimal

import factory

from bakeoff_jobs.catalog_models import CatalogModel
from bakeoff_jobs.models import EvalCase, EvalSet
from matching.models import Engagement
from tests.factories import IntakeFactory, PartnerFactory, PartnerMemberFactory, UserFactory  # noqa: F401


class EngagementFactory(factory.django.DjangoModelFactory):
    class Meta:
        model = Engagement

    intake = factory.SubFactory(IntakeFactory)
    partner = factory.SubFactory(PartnerFactory)
    status = "accepted"
    estimated_credits_usd = Decimal("25000")


def catalog_model(**fields) -> CatalogModel:
    """The catalog row for fields["model_id"] with exactly these fields, whether or not the seed
    data already holds that model."""
    values = {**CatalogModelFactory.build(**fields).__dict__}
    values = {f.attname: values[f.attname] for f in CatalogModel._meta.concrete_fields if f.attname != "id"}
    model, _ = CatalogModel.objects.update_or_create(model_id=values.pop("model_id"), defaults=values)
    return model


class CatalogModelFactory(factory.django.DjangoModelFactory):
    class Meta:
        model = CatalogModel

    name = factory.Sequence(lambda n: f"Model {n}")
    model_id = factory.Sequence(lambda n: f"meta.llama3-1-8b-instruct-v{n}:0")
    family = "llama"
    tier = "small"
    weights = "open"
    input_per_1m = Decimal("0.22")
    output_per_1m = Decimal("0.22")
    batch_discount = Decimal("0.5")
    effective_date = dt.date(2025, 11, 1)
    max_concurrency = 4


def claude_haiku_45(**kwargs) -> CatalogModel:
    """Refuses its bare id on demand; its us. profile costs 10% over the listed rate."""
    defaults = dict(
        name="Claude Haiku 4.5", model_id="anthropic.claude-haiku-4-5-20251001-v1:0",
        inference_profile_id="us.anthropic.claude-haiku-4-5-20251001-v1:0", requires_profile=True,
        profile_price_factor=Decimal("1.10"), family="claude", tier="small", weights="closed",
        input_per_1m=Decimal("1.00"), output_per_1m=Decimal("5.00"), cache_read_per_1m=Decimal("0.10"),
        cache_write_per_1m=Decimal("1.25"),
    )
    defaults.update(kwargs)
    return catalog_model(**defaults)


def llama_8b(**kwargs) -> CatalogModel:
    defaults = dict(name="Llama 3.1 8B Instruct", model_id="meta.llama3-1-8b-instruct-v1:0",
                    inference_profile_id="us.meta.llama3-1-8b-instruct-v1:0")
    defaults.update(kwargs)
    return catalog_model(**defaults)


class EvalSetFactory(factory.django.DjangoModelFactory):
    class Meta:
        model = EvalSet

    name = factory.Sequence(lambda n: f"eval set {n}")
    filename = "cases.jsonl"


class EvalCaseFactory(factory.django.DjangoModelFactory):
    class Meta:
        model = EvalCase

    eval_set = factory.SubFactory(EvalSetFactory)
    line = factory.Sequence(lambda n: n + 1)
    prompt = factory.Sequence(lambda n: f"Question {n}: what is the capital of France?")
    expected = "Paris"
    scorer = "contains"
    category = "extraction"


def eval_set_with_cases(n: int, *, categories=("extraction", "triage"), **kwargs) -> EvalSet:
    eval_set = EvalSetFactory(case_count=n, **kwargs)
    for i in range(n):
        EvalCaseFactory(eval_set=eval_set, line=i + 1, prompt=f"Case {i}: say Paris", expected="Paris",
                        category=categories[i % len(categories)])
    return eval_set


FINE_TUNED_ARN = "arn:aws:bedrock:us-east-1:123456789012:custom-model/meta.llama3-1-8b-instruct-v1:0:128k/ft4x2a"


def custom_model(*, name="Support Llama (fine-tuned)", model_arn=FINE_TUNED_ARN, catalog=None, **pricing):
    """A catalog entry of kind custom (a Bedrock custom model called by its ARN) with its pricing."""
    from bakeoff_jobs.hosting import CustomModel

    entry = catalog_model(name=name, model_id=f"custom.{name.lower().replace(' ', '-')[:40]}", kind="custom",
                          inference_profile_id="", **(catalog or {}))
    CustomModel.objects.update_or_create(catalog_model=entry, defaults={"model_arn": model_arn, **pricing})
    return CatalogModel.objects.get(pk=entry.pk)


def self_hosted_model(*, name="Llama 3.1 8B on our GPUs", **catalog):
    """A catalog entry of kind self_hosted with an endpoint nobody calls (for runs whose results a
    test stores itself; tests.bakeoff_jobs.selfhosted_factories registers one that answers)."""
    from bakeoff_jobs.hosting import SelfHostedEndpoint

    entry = catalog_model(name=name, model_id=f"selfhosted.{name.lower().replace(' ', '-')[:40]}",
                          kind="self_hosted", inference_profile_id="", input_per_1m=Decimal("0"),
                          output_per_1m=Decimal("0"), **catalog)
    SelfHostedEndpoint.objects.get_or_create(catalog_model=entry, defaults={
        "base_url": "http://127.0.0.1:9/v1", "served_model_name": "llama", "gpu_type": "NVIDIA L4",
        "gpu_count": 1, "gpu_hour_price": Decimal("1.00")})
    return entry


def run_with_results(engagement, models, answers: dict, categories=("",), **frozen_by_model) -> "BakeoffRun":
    """A launched (not executed) run on one case per answer, with its results stored as a worker would:
    answers[model] = [(passed, input tokens, output tokens, wall ms), …], one per case in order.
    frozen_by_model[str(model.pk)] = RunModel fields the launch froze (a self-hosted endpoint's GPUs …)."""
    from bakeoff_jobs import services
    from bakeoff_jobs.models import BakeoffResult, RunModel

    cases = max(len(rows) for rows in answers.values())
    eval_set = eval_set_with_cases(cases, categories=categories, engagement=engagement)
    run = services.bakeoff_launch(eval_set=eval_set, models=models, engagement=engagement)
    case_rows = list(eval_set.cases.order_by("line"))
    for model, rows in answers.items():
        run_model = RunModel.objects.get(run=run, catalog_model=model)
        RunModel.objects.filter(pk=run_model.pk).update(**frozen_by_model.get(str(model.pk), {}))
        for case, (passed, inp, out, wall_ms) in zip(case_rows, rows):
            BakeoffResult.objects.create(run=run, run_model=run_model, case=case, status="ok", output="x",
                                         input_tokens=inp, output_tokens=out, latency_ms=wall_ms, wall_ms=wall_ms,
                                         passed=passed, score=1.0 if passed else 0.0)
    return run
