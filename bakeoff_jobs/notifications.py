"""Email the partner firm when one of its bake-offs finishes (with the headline figures) or fails."""
from __future__ import annotations

from django.conf import settings
from django.db.models.signals import post_save
from django.urls import reverse

from core.mail import Email, email_composer
from matching.notifications import notification_queue, partner_emails

from .models import BakeoffRun, RunStatus, RunStatusChange


@email_composer("bakeoff_done")
def bakeoff_done_email(*, run_id: int) -> Email:
    run = BakeoffRun.objects.select_related("eval_set", "partner", "engagement__intake", "created_by").get(pk=run_id)
    recipients = set(partner_emails(run.partner))
    if run.created_by and run.created_by.email:
        recipients.add(run.created_by.email)
    report = run.report or {}
    names = {m["key"]: m["name"] for m in report.get("models", [])}
    router = report.get("router") or {}
    finished = run.status == RunStatus.FINISHED
    return Email(
        to=sorted(recipients),
        subject=f"CloudRoute: bake-off #{run.pk} {'finished' if finished else 'failed'} — {run.eval_set.name}",
        template="partner_bakeoff_done",
        context={"run": run, "finished": finished, "models": report.get("models", []),
                 "best_name": names.get(router.get("single_best_model"), ""), "router": router,
                 "report_url": settings.SITE_URL.rstrip("/") + reverse("bakeoffs:report", args=[run.pk])},
    )


def on_run_move(sender, instance: RunStatusChange, created: bool, **kwargs) -> None:
    if created and instance.to_status in (RunStatus.FINISHED, RunStatus.FAILED) \
            and instance.from_status != instance.to_status:
        notification_queue(key=f"run-move:{instance.pk}:partner", composer="bakeoff_done", run_id=instance.run_id)


def connect() -> None:
    post_save.connect(on_run_move, sender=RunStatusChange, dispatch_uid="notify-bakeoff-done")
