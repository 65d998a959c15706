"""The launch page's model picker: offered catalog models grouped by family and tier with their
prices, lifecycle and batch availability, and the founder's free-text "models of interest" read as
catalog models to preselect."""
from __future__ import annotations

import re
from dataclasses import dataclass, field

from matching.templatetags.money import plain_price

from .catalog_models import CatalogKind, CatalogModel, Family, Lifecycle, Tier

# Words a founder writes that name no model ("Claude or Llama models on Bedrock").
_NOISE = {"a", "an", "and", "or", "the", "model", "models", "instruct", "aws", "amazon", "bedrock", "latest",
          "new", "newest", "maybe", "probably", "via", "on", "for", "with", "vs", "versus", "e", "g", "eg", "like",
          "something", "some", "open", "source", "weights", "api", "llm", "llms", "chat"}
_ALIASES = {"anthropic": "claude", "meta": "llama", "llama3": "llama", "llama4": "llama"}
# Preference when a phrase leaves several models (e.g. just "Claude"): the workhorse tier first.
_TIER_PREFERENCE = {Tier.MID: 0, Tier.LARGE: 1, Tier.SMALL: 2, Tier.TOP: 3}


def _tokens(text: str) -> list[str]:
    text = text.lower()
    text = re.sub(r"(?<=\d)[-_](?=\d\b)", ".", text)  # claude-3-5-sonnet, llama3-1-8b: 3.5, 3.1
    text = re.sub(r"(?<=[a-z])(?=\d)", " ", text)  # llama3 -> llama 3
    return re.findall(r"\d+(?:\.\d+)*b\b|\d+(?:\.\d+)*|[a-z]+", text)


def _model_tokens(model: CatalogModel) -> set[str]:
    return set(_tokens(model.name)) | {model.family} | set(_tokens(model.model_id.split(".", 1)[-1]))


def _matches(word: str, model_words: set[str]) -> bool:
    if word in model_words:
        return True
    if re.fullmatch(r"\d+(?:\.\d+)*", word):  # "3" matches 3.1 / 3.3; "4" matches 4.5
        return any(w.startswith(word + ".") for w in model_words if re.fullmatch(r"[\d.]+", w))
    return False


def _version(model: CatalogModel) -> tuple[int, ...]:
    found = re.search(r"\d+(?:\.\d+)*(?![\d.]*b\b)", model.name.lower())
    parts = [int(p) for p in found.group().split(".")] if found else []
    return tuple((parts + [0, 0, 0])[:3])


def models_of_interest(text: str, *, offered=None) -> list[CatalogModel]:
    """One catalog model per phrase of the founder's text ("Claude Sonnet 4.5, llama 3 70b"), in the
    founder's order, each at most once. A phrase names a model when all its words do (family,
    name, version prefix, size); of several, an active model over a legacy one, then the newest,
    then the mid tier; a version the catalog does not carry gives the newest model of that name.
    Phrases naming nothing in the catalog (e.g. "GPT-4o") are left out."""
    if not text or not text.strip():
        return []
    candidates = list(offered if offered is not None else CatalogModel.objects.offered().filter(kind=CatalogKind.BEDROCK))
    words_of = {m.pk: _model_tokens(m) for m in candidates}
    chosen: list[CatalogModel] = []
    for phrase in re.split(r"[,;/\n+&|]+|\band\b|\bor\b|\bvs\.?", text.lower()):
        words = [_ALIASES.get(w, w) for w in _tokens(phrase) if w not in _NOISE]
        if not any(w.isalpha() for w in words):
            continue  # a bare number names nothing
        fits = [m for m in candidates if all(_matches(w, words_of[m.pk]) for w in words)]
        if not fits:  # a version the catalog does not carry ("Claude 3.5 Sonnet"): the newest of that name
            names = [w for w in words if not re.fullmatch(r"[\d.]+", w)]
            fits = [m for m in candidates if all(_matches(w, words_of[m.pk]) for w in names)] if names != words else []
        if not fits:
            continue
        fits.sort(key=lambda m: (m.lifecycle_status != Lifecycle.ACTIVE, tuple(-v for v in _version(m)),
                                 _TIER_PREFERENCE.get(m.tier, 9), m.name))
        if fits[0] not in chosen:
            chosen.append(fits[0])
    return chosen


@dataclass
class PickerRow:
    model: CatalogModel
    value: str  # the choice's value: the catalog id, or a global. profile id
    invoked_id: str
    prices: dict
    is_profile: bool
    lifecycle: dict
    batch_supported: bool
    batch_discount_pct: int
    gpu: str = ""  # a self-hosted entry: its GPUs and their hourly price


@dataclass
class PickerGroup:
    family: str
    tier: str
    label: str
    rows: list[PickerRow] = field(default_factory=list)


SELF_HOSTED_GROUP = ("self_hosted", "all")


def gpu_text(model: CatalogModel) -> str:
    """"2 × NVIDIA L4 at $0.80 per GPU-hour" for a self-hosted entry."""
    endpoint = getattr(model, "self_hosted", None)
    if endpoint is None:
        return "no endpoint registered"
    return f"{endpoint.gpu_count} × {endpoint.gpu_type} at {plain_price(endpoint.gpu_hour_price)} per GPU-hour"


def picker_groups(user=None) -> list[PickerGroup]:
    """Offered models (and their global. profiles as rows of their own) by family, then tier; the
    self-hosted entries the login may use (staff-managed and its firm's own) in a group of their own,
    last, each with its GPUs and their hourly price."""
    groups: dict[tuple[str, str], PickerGroup] = {}
    family_order = {value: i for i, value in enumerate(Family.values)}
    tier_order = {value: i for i, value in enumerate(Tier.values)}
    catalog = CatalogModel.objects.offered() if user is None else CatalogModel.objects.visible_to(user).offered()
    models = sorted(catalog.select_related("self_hosted").prefetch_related("profiles"),
                    key=lambda m: (m.kind == CatalogKind.SELF_HOSTED, family_order.get(m.family, 9),
                                   tier_order.get(m.tier, 9), m.name))
    for model in models:
        if model.kind == CatalogKind.SELF_HOSTED:
            if SELF_HOSTED_GROUP not in groups:
                groups[SELF_HOSTED_GROUP] = PickerGroup(*SELF_HOSTED_GROUP, "Self-hosted · open weights on GPUs by the hour")
            groups[SELF_HOSTED_GROUP].rows.append(PickerRow(
                model=model, value=str(model.pk), invoked_id=model.model_id, prices=model.invoked_prices(),
                is_profile=False, lifecycle=model.lifecycle_on(), batch_supported=False, batch_discount_pct=0,
                gpu=gpu_text(model)))
            continue
        key = (model.family, model.tier)
        if key not in groups:
            groups[key] = PickerGroup(model.family, model.tier,
                                      f"{model.get_family_display()} · {model.get_tier_display()}")
        common = dict(model=model, lifecycle=model.lifecycle_on(), batch_supported=model.batch_supported,
                      batch_discount_pct=int(round(model.batch_discount * 100)))
        for n, invoked_id in enumerate(model.invocable_ids()):
            groups[key].rows.append(PickerRow(value=str(model.pk) if n == 0 else invoked_id, invoked_id=invoked_id,
                                              prices=model.invoked_prices(invoked_id), is_profile=n > 0, **common))
    return list(groups.values())


@dataclass
class NeedSuggestion:
    """The founder asked for open weights or fine-tuning: the candidates that answer it, or how to add one."""

    need: str  # "open_weights" | "fine_tuning"
    asked: str
    kind: str  # the catalog kind that answers it
    kind_label: str
    candidates: list[CatalogModel]
    register_url: str


def need_suggestions(intake, *, offered=None) -> list[NeedSuggestion]:
    """For each need the intake states, the offered self-hosted (open weights) or custom (fine-tuning)
    entries to pick, and where to register one."""
    from django.urls import reverse

    from .catalog_models import CatalogKind

    if intake is None:
        return []
    entries = list(offered if offered is not None else CatalogModel.objects.offered())
    add_url = reverse("admin:bakeoff_jobs_catalogmodel_add")
    wanted = [("open_weights", intake.needs_open_weights, "open weights", CatalogKind.SELF_HOSTED),
              ("fine_tuning", intake.needs_fine_tuning, "fine-tuning", CatalogKind.CUSTOM)]
    return [NeedSuggestion(need=need, asked=asked, kind=kind, kind_label=CatalogKind(kind).label,
                           candidates=[m for m in entries if m.kind == kind],
                           register_url=f"{add_url}?kind={kind}")
            for need, stated, asked, kind in wanted if stated]
