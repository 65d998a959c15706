"""manage.py sync_catalog: bring the model catalog in step with Bedrock."""
from botocore.exceptions import BotoCoreError, ClientError
from django.core.management.base import BaseCommand, CommandError

from bakeoff_jobs.catalog import catalog_sync, make_control_client


class Command(BaseCommand):
    help = (
        "Read Bedrock's ListFoundationModels (lifecycle status and end-of-life date, inference types, "
        "modalities) and ListInferenceProfiles (us., eu., apac., global. profile ids) through boto3's "
        "bedrock client and update the catalog: models past end of life or no longer listed stop being "
        "offered for new runs. Prices are never changed. Every change is kept in the catalog history. "
        "Endpoint: BEDROCK_CONTROL_ENDPOINT_URL (default BEDROCK_ENDPOINT_URL: the local sandbox)."
    )

    def add_arguments(self, parser):
        parser.add_argument("--endpoint-url", help="bedrock control-plane endpoint (empty string: real AWS)")
        parser.add_argument("--region", help="AWS region (default AWS_DEFAULT_REGION)")

    def handle(self, *args, **options):
        try:
            client = make_control_client(endpoint_url=options.get("endpoint_url"), region=options.get("region"))
            summary = catalog_sync(client=client)
        except (BotoCoreError, ClientError) as exc:
            raise CommandError(f"could not read the catalog from Bedrock: {exc}") from None
        for line in summary.lines():
            self.stdout.write(line)
