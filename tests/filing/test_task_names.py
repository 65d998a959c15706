"""The Partner Central tasks moved to filing.tasks under the names they had in matching, so a message
queued before the move, and beat's schedule, still find them."""
from django.conf import settings

from cloudroute.celery import app
from filing import tasks

MOVED = ["file_ace_opportunity", "file_credit_application", "sync_ace_opportunity", "sync_credit_application",
         "sync_partner_central"]


def test_each_moved_task_answers_to_its_old_name():
    app.loader.import_default_modules()
    for name in MOVED:
        registered = app.tasks[f"matching.tasks.{name}"]
        assert (registered.__module__, registered.name) == ("filing.tasks", getattr(tasks, name).name)


def test_beat_schedules_the_partner_central_sync_by_a_registered_name():
    app.loader.import_default_modules()
    task = settings.CELERY_BEAT_SCHEDULE["partner-central-sync"]["task"]
    assert task == "matching.tasks.sync_partner_central"
    assert app.tasks[task].__module__ == "filing.tasks"
