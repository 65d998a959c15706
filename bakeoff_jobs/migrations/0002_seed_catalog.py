"""Seeds the model catalog from the published price list so a fresh install can run a bake-off."""
from django.db import migrations


def seed(apps, schema_editor):
    from bakeoff_jobs.catalog import SEED_EFFECTIVE_DATE, DEFAULT_CSV, rows_from_csv

    CatalogModel = apps.get_model("bakeoff_jobs", "CatalogModel")
    # Only the columns this migration's model has: later migrations seed the fields they add.
    fields = {f.name for f in CatalogModel._meta.concrete_fields}
    for row in rows_from_csv(DEFAULT_CSV.read_text(encoding="utf-8")):
        model_id = row.pop("model_id")
        defaults = {key: value for key, value in row.items() if key in fields}
        CatalogModel.objects.get_or_create(model_id=model_id, defaults={**defaults, "effective_date": SEED_EFFECTIVE_DATE})


class Migration(migrations.Migration):
    dependencies = [("bakeoff_jobs", "0001_catalog_evalsets_runs_results")]
    operations = [migrations.RunPython(seed, migrations.RunPython.noop)]
