"""manage.py load_catalog: create catalog models from a price-list CSV."""
from django.core.management.base import BaseCommand

from bakeoff_jobs.catalog import DEFAULT_CSV, catalog_load


class Command(BaseCommand):
    help = (
        "Create a catalog model for every row of the Bedrock price list CSV (default: the bundled "
        "bakeoff_jobs/data/bedrock-models.csv). Rows already in the catalog keep staff edits unless --update."
    )

    def add_arguments(self, parser):
        parser.add_argument("csv", nargs="?", default=str(DEFAULT_CSV), help="Price list CSV (same columns as the bundled one).")
        parser.add_argument("--update", action="store_true", help="Overwrite prices of models already in the catalog.")

    def handle(self, *args, **options):
        summary = catalog_load(path=options["csv"], update_existing=options["update"])
        self.stdout.write(f"catalog: {summary.created} created, {summary.updated} updated")
