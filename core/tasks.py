"""Celery entry points for core: the one email delivery task and its sweep. Thin: they call core.mail."""
from smtplib import SMTPException

from celery import shared_task
from django.db import DatabaseError

from . import mail


@shared_task(autoretry_for=(SMTPException, OSError, DatabaseError), retry_backoff=10, retry_backoff_max=600,
             retry_jitter=True, max_retries=8, soft_time_limit=60, time_limit=90)
def email_deliver(key: str) -> bool:
    """Sends one stored email (core.models.OutboundEmail) once; a mail server or connection error is
    retried with backoff. Idempotent: a redelivery, a retry or a sweep's re-queue of a sent email sends nothing."""
    return mail.email_deliver(key=key)


@shared_task(soft_time_limit=60, time_limit=90)
def emails_deliver_waiting() -> int:
    """Periodic: queue again emails left waiting (their task lost, or their worker killed)."""
    return mail.emails_deliver_waiting()
