"""The founder's free-text models of interest read as catalog models to preselect in the picker."""
import datetime as dt

import pytest

from bakeoff_jobs.catalog_models import CatalogModel
from bakeoff_jobs.picker import models_of_interest

pytestmark = pytest.mark.django_db


def names(text: str) -> list[str]:
    return [m.name for m in models_of_interest(text)]


@pytest.mark.parametrize("text, expected", [
    ("Claude Haiku 4.5, Llama 3.1 8B", ["Claude Haiku 4.5", "Llama 3.1 8B Instruct"]),
    ("claude-haiku-4-5 and llama3-1-8b", ["Claude Haiku 4.5", "Llama 3.1 8B Instruct"]),
    ("anthropic.claude-sonnet-4-5-20250929-v1:0", ["Claude Sonnet 4.5"]),
    ("Sonnet / Opus", ["Claude Sonnet 4.5", "Claude Opus 4.5"]),
    ("Claude", ["Claude Sonnet 4.5"]),  # the newest of the workhorse tier
    ("llama 3 70b", ["Llama 3.3 70B Instruct"]),  # "3" is any 3.x; the newest
    ("Claude 3.5 Sonnet", ["Claude Sonnet 4.5"]),  # a version the catalog has not: the newest Sonnet
    ("Meta Llama 4 Maverick; GPT-4o; Mistral Large", ["Llama 4 Maverick 17B Instruct"]),
    ("claude haiku, Claude Haiku 4.5", ["Claude Haiku 4.5"]),  # each model once
    ("", []),
    ("4.5, 70b", []),  # numbers alone name nothing
])
def test_free_text_maps_to_catalog_models(text, expected):
    assert names(text) == expected


def test_models_not_offered_are_never_preselected():
    assert "Claude 3 Haiku" not in names("Claude 3 Haiku")  # past end of life in the seed
    CatalogModel.objects.filter(name="Claude Haiku 4.5").update(end_of_life_date=dt.date(2000, 1, 1))
    assert names("Claude Haiku 4.5") != ["Claude Haiku 4.5"]


def test_an_active_model_is_preferred_over_a_legacy_one():
    assert names("Claude Opus") == ["Claude Opus 4.5"]
    assert names("Claude Opus 4.1") == ["Claude Opus 4.1"]  # named exactly, it is kept
