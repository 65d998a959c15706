from django.apps import AppConfig
from django.conf import settings
from django.db import transaction

from . import enqueue


class BakeoffJobsConfig(AppConfig):
    default_auto_field = "django.db.models.BigAutoField"
    name = "bakeoff_jobs"
    verbose_name = "Bake-offs"

    def ready(self):
        # Once the models are loaded. tasks: registers the task names enqueue.py queues by.
        from django.db.models.signals import post_delete

        from . import notifications, tasks  # noqa: F401
        from .models import BakeoffRun

        notifications.connect()
        post_delete.connect(_remove_batch_files, sender=BakeoffRun, dispatch_uid="bakeoff-batch-files")

        from filing import ace

        ace.monthly_spend_projection_use(_engagement_monthly_on_demand_usd)


def _engagement_monthly_on_demand_usd(engagement):
    """The ACE draft's expected monthly spend: the on-demand monthly figure of the projection the
    report and the founder's page show; None when it cannot be projected. Handed to filing, which
    sits below the bake-offs and cannot import them."""
    from .selectors import engagement_spend_projection

    projection = engagement_spend_projection(engagement)
    return None if projection is None else projection.monthly.on_demand


def _remove_batch_files(sender, instance, **_kwargs) -> None:
    """A deleted batch run's S3 files go too (BAKEOFF_BATCH_DELETE_WITH_RUN), once the delete commits."""
    if instance.mode != "batch" or not settings.BAKEOFF_BATCH_DELETE_WITH_RUN:
        return
    run_id = instance.pk
    transaction.on_commit(lambda: enqueue.enqueue(enqueue.BATCH_FILES_DELETE, run_id), robust=True)
