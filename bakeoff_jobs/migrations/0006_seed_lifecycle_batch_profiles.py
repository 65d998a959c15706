"""Seeds what the catalog now tracks from the published list: lifecycle (AWS's model lifecycle
page: Claude 3 Haiku, every Llama 3.2 size, Llama 3.1 405B and Claude Sonnet 4 past end of life,
Claude Opus 4.1 legacy), batch availability (none for Llama 3.2), inference types and the us. and
global. inference profiles. Prices are not touched."""
from django.db import migrations

SEEDED = ("lifecycle_status", "end_of_life_date", "batch_supported", "inference_types", "input_modalities",
          "output_modalities")


def seed(apps, schema_editor):
    from bakeoff_jobs.catalog import rows_from_csv
    from bakeoff_jobs.model_data import DEFAULT_CSV

    CatalogModel = apps.get_model("bakeoff_jobs", "CatalogModel")
    InferenceProfile = apps.get_model("bakeoff_jobs", "InferenceProfile")
    CatalogChange = apps.get_model("bakeoff_jobs", "CatalogChange")
    for row in rows_from_csv(DEFAULT_CSV.read_text(encoding="utf-8")):
        entry = CatalogModel.objects.filter(model_id=row["model_id"]).first()
        if entry is None:
            continue
        changes = {}
        for name in SEEDED:
            old, new = getattr(entry, name), row[name]
            if old != new:
                changes[name] = [None if old is None else str(old) if not isinstance(old, (list, bool)) else old,
                                 None if new is None else str(new) if not isinstance(new, (list, bool)) else new]
                setattr(entry, name, new)
        entry.save()
        for profile_id in row["profiles"]:
            InferenceProfile.objects.get_or_create(profile_id=profile_id, defaults={"catalog_model": entry})
        if changes:
            CatalogChange.objects.create(catalog_model=entry, source="seed", changes=changes,
                                         note="lifecycle, batch and profiles from the published list")


class Migration(migrations.Migration):
    dependencies = [("bakeoff_jobs", "0005_catalog_lifecycle_profiles_history")]
    operations = [migrations.RunPython(seed, migrations.RunPython.noop)]
