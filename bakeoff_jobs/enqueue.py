"""Queue a bake-off task by its name. The verbs and the runner queue work through here, so they do
not import tasks.py (which imports them); each task's name is stated once, here, and tasks.py
registers its task under that name."""
from __future__ import annotations

from celery import current_app

DISPATCH = "bakeoff_jobs.dispatch"
CHUNK = "bakeoff_jobs.chunk"
LANE = "bakeoff_jobs.lane"
PARTIAL_REPORT = "bakeoff_jobs.partial_report"
RESUME = "bakeoff_jobs.resume"
RESUME_STUCK = "bakeoff_jobs.resume_stuck"
BATCH_SUBMIT = "bakeoff_jobs.batch_submit"
BATCH_POLL = "bakeoff_jobs.batch_poll"
BATCH_STOP = "bakeoff_jobs.batch_stop"
BATCH_FILES_DELETE = "bakeoff_jobs.batch_files_delete"
BATCH_FILES_EXPIRE = "bakeoff_jobs.batch_files_expire"
SYNC_CATALOG = "bakeoff_jobs.sync_catalog"


def enqueue(name: str, *args) -> None:
    """`.delay(*args)` on the task registered under `name` (BakeoffJobsConfig.ready imports tasks.py,
    so every process that runs Django has them; eager mode runs it at once, as `.delay` does)."""
    current_app.tasks[name].delay(*args)
